import Foundation
import ReactionModel

typealias Expr = ReactionModel.Expression

/// SBML Level 2 and 3 core → a model definition, for the subset that maps onto the model file
/// without changes to the solver (docs/sbml-import.md lists it). Everything outside that subset is
/// an `SBMLImportError` naming the SBML element and id, never a silently different model.
///
/// The mapping:
/// * compartments keep their sizes (any spatial dimension: a size factor, as in SBML; a missing
///   size is 1);
/// * species are concentrations (initial amounts are divided by the compartment size); a species
///   with `hasOnlySubstanceUnits="true"` stands for its amount in SBML math, so every mention of it
///   becomes `S * V` (and values assigned to it by events are divided by `V`);
/// * `boundaryCondition` or `constant` → `constant = true`;
/// * parameters stay parameters; local parameters become `REACTION_NAME` globals;
/// * assignment rules on parameters → observables of the same name;
/// * a kinetic law (amount per time) becomes `rate = law / V` with `V` the compartment of the first
///   reactant (first product), which is exactly what stat3sim multiplies a rate by;
/// * function definitions are inlined; initial assignments are evaluated to numbers;
/// * events triggered by `time >= T` (or `time > T`) with constant `T` and no delay → timed events.
public enum SBMLReader {
    public static func definition(path: String) throws -> ModelDefinition {
        try definition(fromXML: readFile(path), file: path)
    }

    public static func definition(fromXML xml: String, file: String) throws -> ModelDefinition {
        try imported(fromXML: xml, file: file).definition
    }

    /// The model and what the import changed on the way (each a sentence naming the SBML id),
    /// for the command line to print.
    public static func imported(fromXML xml: String, file: String) throws -> (definition: ModelDefinition, warnings: [String]) {
        let root = try XMLNode.parse(xml)
        var importer = try Importer(root: root, file: file)
        let d = try importer.run()
        // Validate as a model file would be: write it and read it back.
        let toml = TOMLWriter.document(for: d)
        do {
            return (try ModelLoader.load(source: toml, file: file), importer.warnings)
        } catch let error as ModelError {
            throw SBMLImportError("the imported model is not a valid stat3sim model: \(error.message)")
        }
    }

    public static func imported(path: String) throws -> (definition: ModelDefinition, warnings: [String]) {
        try imported(fromXML: readFile(path), file: path)
    }

    static func readFile(_ path: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw SBMLImportError("cannot read the SBML file (\(FileManager.default.fileExists(atPath: path) ? "not readable as UTF-8 text" : "no such file")).")
        }
    }
}

private struct Importer {
    let root: XMLNode
    let model: XMLNode
    let file: String
    let level: Int

    struct FunctionDefinition { var parameters: [String]; var body: XMLNode }
    var functions: [String: FunctionDefinition] = [:]
    var compartmentIDs: [String] = []
    var speciesCompartment: [String: String] = [:]
    var onlySubstance: Set<String> = []
    var parameterIDs: [String] = []
    var observableIDs: [String] = []
    var reactionIDs: Set<String> = []
    var speciesReferenceIDs: Set<String> = []
    /// Reaction id → local parameter id → its global name.
    var localNames: [String: [String: String]] = [:]
    /// hasOnlySubstanceUnits species S → S * V.
    var globalSubstitution: [String: Expr] = [:]
    /// What the import changed, for the user to read.
    var warnings: [String] = []
    /// Species id → the parameter that scales what reactions do to it (SBML conversion factors).
    var conversionFactor: [String: String] = [:]
    /// speciesReference id → its (constant) stoichiometry, once the initial values are known;
    /// math that names a speciesReference reads it.
    var stoichiometryValues: [String: Double] = [:]
    /// Compartments whose size changes (by rules or events), and for each species in one that
    /// reactions change, the name of the state that holds its amount: SBML's reactions change
    /// amounts, and a concentration in a changing volume is amount / size.
    var variableCompartments: Set<String> = []
    var amountName: [String: String] = [:]
    /// The unit-size compartment that amounts live in.
    var unitCompartment = "unit_volume"
    /// Rate rules (variable → rule) and assignment-rule targets, as written: `rateOf` reads them.
    var rateRuleNodes: [String: XMLNode] = [:]
    /// Guards against rates and kinetic laws that refer to themselves through others.
    final class Depth { var value = 0 }
    let rateOfDepth = Depth()
    var assignmentRuleTargets: Set<String> = []

    init(root: XMLNode, file: String) throws {
        guard root.name == "sbml" else { throw SBMLImportError("the file is not SBML (its root element is <\(root.name)>, not <sbml>).") }
        guard let model = root.child("model") else { throw SBMLImportError("the SBML file has no <model>.") }
        self.root = root
        self.model = model
        self.file = file
        self.level = Int(root.attributes["level"] ?? "") ?? 0
        guard level == 2 || level == 3 else {
            throw SBMLImportError("SBML Level \(root.attributes["level"] ?? "?") is not supported (Level 2 and 3 are).")
        }
    }

    /// The element's `<notes>` as a description, else its SBML name when that says more than
    /// the id.
    static func label(_ node: XMLNode) -> String? {
        if let notes = node.child("notes")?.paragraphs, !notes.isEmpty { return notes }
        guard let name = node.attributes["name"], !name.isEmpty, name != node.attributes["id"] else { return nil }
        return name
    }

    static func describe(_ node: XMLNode) -> String {
        node.attributes["id"].map { "\(node.name) \($0)" } ?? node.name
    }

    // MARK: The model

    mutating func run() throws -> ModelDefinition {
        if let required = root.attributes["required"], required == "true" {
            throw SBMLImportError("SBML packages are not supported yet.")
        }
        for child in root.children where child.name != "model" && child.name != "notes" && child.name != "annotation" {
            throw SBMLImportError("SBML element <\(child.name)> is not supported yet.")
        }

        for f in model.list("listOfFunctionDefinitions", "functionDefinition") {
            let id = f.attributes["id"] ?? "?"
            guard let math = f.child("math"), var lambda = math.children.first(where: { $0.name != "annotation" }) else {
                throw SBMLImportError("SBML functionDefinition \(id) without a lambda is not supported yet.")
            }
            if lambda.name == "semantics", let inner = lambda.children.first { lambda = inner }
            guard lambda.name == "lambda" else { throw SBMLImportError("SBML functionDefinition \(id) without a lambda is not supported yet.") }
            let parameters = lambda.children("bvar").compactMap { $0.child("ci")?.trimmedText }
            guard let body = lambda.children.last(where: { $0.name != "bvar" && $0.name != "domainofapplication" }) else {
                throw SBMLImportError("SBML functionDefinition \(id) has no body.")
            }
            functions[id] = FunctionDefinition(parameters: parameters, body: body)
        }

        let compartmentNodes = model.list("listOfCompartments", "compartment")
        compartmentIDs = compartmentNodes.compactMap { $0.attributes["id"] }
        let allSpeciesNodes = model.list("listOfSpecies", "species")
        for s in allSpeciesNodes {
            guard let id = s.attributes["id"] else { throw SBMLImportError("SBML species without an id.") }
            guard let c = s.attributes["compartment"], compartmentIDs.contains(c) else {
                throw SBMLImportError("SBML species \(id) is in compartment '\(s.attributes["compartment"] ?? "")', which is not declared.")
            }
            if let factor = s.attributes["conversionFactor"] ?? model.attributes["conversionFactor"] { conversionFactor[id] = factor }
            if s.attributes["charge"] != nil && level == 3 { }
            speciesCompartment[id] = c
            if s.attributes["hasOnlySubstanceUnits"] == "true" {
                onlySubstance.insert(id)
                globalSubstitution[id] = .multiply(.name(id), .name(c))
            }
        }
        reactionIDs = Set(model.list("listOfReactions", "reaction").compactMap { $0.attributes["id"] })
        for r in model.list("listOfReactions", "reaction") {
            for list in ["listOfReactants", "listOfProducts"] {
                for ref in r.list(list, "speciesReference") { if let id = ref.attributes["id"] { speciesReferenceIDs.insert(id) } }
            }
        }
        let parameterNodes = model.list("listOfParameters", "parameter")

        // Compartments that change size: their species that reactions change become amounts
        // (states NAME_amount in a unit-size compartment), and every mention of such a species
        // reads amount / size (the amount itself when hasOnlySubstanceUnits).
        let changedIDs = Set((model.child("listOfRules")?.children ?? []).compactMap { $0.attributes["variable"] }
            + model.list("listOfEvents", "event").flatMap { $0.list("listOfEventAssignments", "eventAssignment").compactMap { $0.attributes["variable"] } })
        variableCompartments = Set(compartmentIDs.filter(changedIDs.contains))
        if !variableCompartments.isEmpty {
            var allIDs = Set(compartmentIDs + Array(speciesCompartment.keys) + parameterNodes.compactMap { $0.attributes["id"] })
                .union(reactionIDs).union(speciesReferenceIDs).union(functions.keys)
            func unused(_ base: String) -> String {
                var name = base, k = 1
                while allIDs.contains(name) { k += 1; name = "\(base)_\(k)" }
                allIDs.insert(name)
                return name
            }
            unitCompartment = unused("unit_volume")
            for node in allSpeciesNodes {
                let id = node.attributes["id"]!, c = speciesCompartment[id]!
                // (Rules without math have no effect: Level 3 Version 2.)
                let ruled = (model.child("listOfRules")?.children ?? []).contains { $0.attributes["variable"] == id && $0.child("math") != nil }
                guard variableCompartments.contains(c), !ruled else {
                    if variableCompartments.contains(c), onlySubstance.contains(id) {
                        throw SBMLImportError("SBML species \(id) in amounts, set by a rule in compartment \(c) whose size changes, is not supported yet.")
                    }
                    continue
                }
                // (Boundary and constant species too: what SBML holds is the amount.)
                let name = unused("\(id)_amount")
                amountName[id] = name
                globalSubstitution[id] = onlySubstance.contains(id) ? .name(name) : .divide(.name(name), .name(c))
            }
        }

        // Local parameters: renamed to reaction-scoped globals (REACTION_ID, then _2, _3… if taken).
        var taken = Set(compartmentIDs + Array(speciesCompartment.keys) + parameterNodes.compactMap { $0.attributes["id"] })
            .union(reactionIDs).union(speciesReferenceIDs).union(functions.keys).union(amountName.values)
        if !variableCompartments.isEmpty { taken.insert(unitCompartment) }
        var localParameters: [ModelDefinition.Parameter] = []
        for r in model.list("listOfReactions", "reaction") {
            let id = r.attributes["id"] ?? "?"
            guard let law = r.child("kineticLaw") else { continue }
            for p in law.list("listOfParameters", "parameter") + law.list("listOfLocalParameters", "localParameter") {
                let pid = p.attributes["id"] ?? "?"
                guard let v = p.attributes["value"].flatMap(Double.init) else {
                    throw SBMLImportError("SBML local parameter \(pid) of reaction \(id) has no value.")
                }
                var name = "\(id)_\(pid)"
                var k = 1
                while taken.contains(name) { k += 1; name = "\(id)_\(pid)_\(k)" }
                taken.insert(name)
                localNames[id, default: [:]][pid] = name
                localParameters.append(.init(name: name, value: v, description: "local parameter \(pid) of reaction \(id)"))
            }
        }

        for rule in model.child("listOfRules")?.children ?? [] where rule.child("math") != nil {
            guard let variable = rule.attributes["variable"] else { continue }
            if rule.name == "rateRule" { rateRuleNodes[variable] = rule }
            if rule.name == "assignmentRule" { assignmentRuleTargets.insert(variable) }
        }

        // Rules: assignment rules on parameters and species become observables (a species with a
        // rule is no state: its observable gives its concentration); everything else is refused.
        var ruleExpressions: [String: Expr] = [:]
        var ruledSpecies: Set<String> = []
        // Rate rules: d(value)/dt of a species (as a concentration) or a parameter (a state variable).
        var rateRules: [String: Expr] = [:]
        var rateRuledParameters: [String] = []
        // speciesReferences whose stoichiometry changes (rules or events): their ids stay names.
        var variableReferences = Set(model.list("listOfEvents", "event").flatMap {
            $0.list("listOfEventAssignments", "eventAssignment").compactMap { $0.attributes["variable"] }
        }.filter { speciesReferenceIDs.contains($0) })
        if let rules = model.child("listOfRules") {
            for rule in rules.children where rule.name != "notes" && rule.name != "annotation" {
                let variable = rule.attributes["variable"] ?? ""
                let kind = kindOf(variable)
                if rule.name != "algebraicRule" && rule.child("math") == nil { continue }   // Level 3 Version 2: no math, no effect
                switch rule.name {
                case "assignmentRule" where kind == "parameter":
                    ruleExpressions[variable] = try math(of: rule, place: "assignmentRule for parameter \(variable)")
                    observableIDs.append(variable)
                case "assignmentRule" where kind == "species":
                    var e = try math(of: rule, place: "assignmentRule for species \(variable)")
                    if onlySubstance.contains(variable) { e = .divide(e, .name(speciesCompartment[variable]!)) }
                    ruleExpressions[variable] = e
                    observableIDs.append(variable)
                    ruledSpecies.insert(variable)
                case "rateRule" where kind == "species":
                    var e = try math(of: rule, place: "rateRule for species \(variable)")
                    if onlySubstance.contains(variable) { e = .divide(e, .name(speciesCompartment[variable]!)) }
                    rateRules[variable] = e
                case "rateRule" where kind == "parameter":
                    rateRules[variable] = try math(of: rule, place: "rateRule for parameter \(variable)")
                    rateRuledParameters.append(variable)
                case "assignmentRule" where speciesReferenceIDs.contains(variable):
                    // A stoichiometry that changes: an observable of the speciesReference's id.
                    ruleExpressions[variable] = try math(of: rule, place: "assignmentRule for speciesReference \(variable)")
                    observableIDs.append(variable)
                    variableReferences.insert(variable)
                case "rateRule" where speciesReferenceIDs.contains(variable):
                    // A state variable named by the speciesReference's id.
                    rateRules[variable] = try math(of: rule, place: "rateRule for speciesReference \(variable)")
                    rateRuledParameters.append(variable)
                    variableReferences.insert(variable)
                case "rateRule" where kind == "compartment":
                    // A state variable; its species are amounts (above).
                    rateRules[variable] = try math(of: rule, place: "rateRule for compartment \(variable)")
                    rateRuledParameters.append(variable)
                case "assignmentRule" where kind == "compartment":
                    ruleExpressions[variable] = try math(of: rule, place: "assignmentRule for compartment \(variable)")
                    observableIDs.append(variable)
                case "algebraicRule":
                    throw SBMLImportError("SBML algebraicRule is not supported yet.")
                default:
                    throw SBMLImportError("SBML \(rule.name) for \(kind) \(variable) is not supported yet.")
                }
            }
        }
        parameterIDs = parameterNodes.compactMap { $0.attributes["id"] }.filter { !observableIDs.contains($0) && rateRules[$0] == nil }
        let speciesNodes = allSpeciesNodes.filter { !ruledSpecies.contains($0.attributes["id"]!) }

        for c in model.list("listOfConstraints", "constraint") { _ = c }   // checks only; they do not change a simulation
        for child in model.children {
            switch child.name {
            case "notes", "annotation", "listOfFunctionDefinitions", "listOfUnitDefinitions", "listOfCompartmentTypes",
                 "listOfSpeciesTypes", "listOfCompartments", "listOfSpecies", "listOfParameters", "listOfInitialAssignments",
                 "listOfRules", "listOfConstraints", "listOfReactions", "listOfEvents":
                break
            default:
                throw SBMLImportError("SBML element <\(child.name)> is not supported yet.")
            }
        }

        // Initial assignments.
        var initialAssignments: [String: Expr] = [:]
        for ia in model.list("listOfInitialAssignments", "initialAssignment") {
            let symbol = ia.attributes["symbol"] ?? ""
            let kind = kindOf(symbol)
            if ia.child("math") == nil { continue }   // Level 3 Version 2: no math, no effect
            guard ["species", "parameter", "compartment"].contains(kind) || speciesReferenceIDs.contains(symbol), !observableIDs.contains(symbol) else {
                throw SBMLImportError("SBML initialAssignment to \(kind) \(symbol) is not supported yet.")
            }
            initialAssignments[symbol] = try math(of: ia, place: "initialAssignment to \(kind) \(symbol)")
        }

        // Values at t = 0, in stat3sim's terms (species as concentrations), to a fixed point.
        var values: [String: Double] = ["t": 0]
        enum Item { case compartment(XMLNode), parameter(XMLNode), observable(String), species(XMLNode), stoichiometry(XMLNode), amount(String) }
        let references = model.list("listOfReactions", "reaction").flatMap { $0.list("listOfReactants", "speciesReference") + $0.list("listOfProducts", "speciesReference") }
            .filter { $0.attributes["id"] != nil }
        var pending: [Item] = compartmentNodes.map { .compartment($0) } + parameterNodes.map { .parameter($0) }
            + observableIDs.map { .observable($0) } + speciesNodes.map { .species($0) } + references.map { .stoichiometry($0) }
            + amountName.keys.sorted().map { .amount($0) }
        func compute(_ item: Item) throws -> (String, Double?) {
            switch item {
            case .compartment(let node):
                let id = node.attributes["id"]!
                if observableIDs.contains(id) { return (id, 0) }   // replaced by its observable item
                if let e = initialAssignments[id] { return (id, evaluate(e, values)) }
                return (id, node.attributes["size"].flatMap(Double.init) ?? 1)
            case .parameter(let node):
                let id = node.attributes["id"]!
                if observableIDs.contains(id) { return (id, 0) }   // replaced by its observable item
                if let e = initialAssignments[id] { return (id, evaluate(e, values)) }
                guard let v = node.attributes["value"].flatMap(Double.init) else {
                    throw SBMLImportError("SBML parameter \(id) has no value and no initial assignment.")
                }
                return (id, v)
            case .observable(let id):
                return (id, evaluate(ruleExpressions[id]!, values))
            case .species(let node):
                let id = node.attributes["id"]!
                let c = speciesCompartment[id]!
                if let e = initialAssignments[id] {
                    guard let v = evaluate(e, values) else { return (id, nil) }
                    if onlySubstance.contains(id) {
                        guard let size = values[c] else { return (id, nil) }
                        return (id, v / size)
                    }
                    return (id, v)
                }
                if let x = node.attributes["initialConcentration"].flatMap(Double.init) { return (id, x) }
                if let a = node.attributes["initialAmount"].flatMap(Double.init) {
                    guard let size = values[c] else { return (id, nil) }
                    return (id, a / size)
                }
                throw SBMLImportError("SBML species \(id) has no initial amount, concentration or assignment.")
            case .amount(let id):
                guard let c = values[id], let size = values[speciesCompartment[id]!] else { return (amountName[id]!, nil) }
                return (amountName[id]!, c * size)
            case .stoichiometry(let node):
                let id = node.attributes["id"]!
                if observableIDs.contains(id) { return (id, 0) }   // replaced by its observable item
                if let e = initialAssignments[id] { return (id, evaluate(e, values)) }
                return (id, node.attributes["stoichiometry"].flatMap(Double.init) ?? 1)
            }
        }
        while !pending.isEmpty {
            var next: [Item] = []
            for item in pending {
                let (id, value) = try compute(item)
                if let value {
                    if case .parameter(let n) = item, observableIDs.contains(n.attributes["id"]!) { continue }
                    if case .stoichiometry(let n) = item, observableIDs.contains(n.attributes["id"]!) { continue }
                    if case .compartment(let n) = item, observableIDs.contains(n.attributes["id"]!) { continue }
                    values[id] = value
                } else {
                    next.append(item)
                }
            }
            if next.count == pending.count {
                let (id, _) = try compute(next[0])
                throw SBMLImportError("SBML initial value of \(id) cannot be computed at import (it depends on a value that is not defined at the start), which is not supported yet.")
            }
            pending = next
        }
        for node in references where !variableReferences.contains(node.attributes["id"]!) {
            stoichiometryValues[node.attributes["id"]!] = values[node.attributes["id"]!]
        }
        // Math read before the values were known (rules) named speciesReferences: now numbers.
        let stoichiometries = stoichiometryValues
        for (id, e) in ruleExpressions { ruleExpressions[id] = e.substituting { stoichiometries[$0].map(Expr.number) } }
        for (id, e) in rateRules { rateRules[id] = e.substituting { stoichiometries[$0].map(Expr.number) } }

        // Round-off below zero (COPASI writes steady states such as -1.2e-26) is zero: the model
        // file forbids negative concentrations, and 1e-12 of the model's largest one is far below
        // any tolerance. Anything larger stays and is refused by the loader.
        let scale = speciesNodes.map { abs(values[$0.attributes["id"]!] ?? 0) }.max() ?? 0
        for node in speciesNodes {
            let id = node.attributes["id"]!
            if let x = values[id], x < 0, rateRules[id] == nil, -x <= 1e-12 * scale {
                warnings.append("SBML species \(id) has the initial concentration \(x), round-off below zero; imported as 0.")
                values[id] = 0
            }
        }

        // Compartments, species, parameters, observables.
        var compartments: [ModelDefinition.Compartment] = []
        for node in compartmentNodes where !variableCompartments.contains(node.attributes["id"]!) {
            let id = node.attributes["id"]!
            compartments.append(.init(name: id, size: values[id]!, description: Importer.label(node)))
        }
        if !variableCompartments.isEmpty {
            compartments.append(.init(name: unitCompartment, size: 1,
                                      description: "unit volume: species of compartments that change size are integrated here as amounts"))
        }
        /// The compartment a species sits in, in the imported model.
        func compartmentIndex(_ species: String) -> Int {
            let c = speciesCompartment[species]!
            return compartments.firstIndex { $0.name == (variableCompartments.contains(c) ? unitCompartment : c) }!
        }
        var species: [ModelDefinition.Species] = []
        for node in speciesNodes {
            let id = node.attributes["id"]!
            // A species with a rate rule changes by that rule alone (SBML requires it to be a
            // boundary species if a reaction names it).
            let constant = rateRules[id] == nil && (node.attributes["boundaryCondition"] == "true" || node.attributes["constant"] == "true")
            if let amount = amountName[id] {
                let held = node.attributes["boundaryCondition"] == "true" || node.attributes["constant"] == "true"
                species.append(.init(name: amount, initial: values[amount]!, compartment: compartmentIndex(id), constant: held,
                                     description: "amount of \(id) (compartment \(speciesCompartment[id]!) changes size)"))
                continue
            }
            species.append(.init(name: id, initial: values[id]!, compartment: compartmentIndex(id),
                                 constant: constant, description: Importer.label(node), rateRule: rateRules[id]))
        }
        for id in rateRuledParameters {
            let node = parameterNodes.first { $0.attributes["id"] == id }
            let label = node.flatMap(Importer.label)
                ?? (speciesReferenceIDs.contains(id) ? "stoichiometry of speciesReference \(id)"
                    : compartmentIDs.contains(id) ? "size of compartment \(id), which changes" : nil)
            species.append(.init(name: id, initial: values[id]!, compartment: 0, constant: false,
                                 description: label, rateRule: rateRules[id], isParameter: true))
        }
        var parameters: [ModelDefinition.Parameter] = []
        for node in parameterNodes {
            let id = node.attributes["id"]!
            guard parameterIDs.contains(id) else { continue }
            parameters.append(.init(name: id, value: values[id]!, description: Importer.label(node)))
        }
        // Stoichiometries that only events change: parameters named by the speciesReference.
        for id in variableReferences.sorted() where rateRules[id] == nil && !observableIDs.contains(id) {
            parameters.append(.init(name: id, value: values[id]!, description: "stoichiometry of speciesReference \(id)"))
        }
        // Sizes that only events change: parameters.
        for id in compartmentIDs where variableCompartments.contains(id) && rateRules[id] == nil && !observableIDs.contains(id) {
            parameters.append(.init(name: id, value: values[id]!, description: "size of compartment \(id), which events change"))
        }
        var observables: [ModelDefinition.Observable] = []
        // The concentration of each species held as an amount, under the species' own name.
        for node in speciesNodes {
            let id = node.attributes["id"]!
            guard let amount = amountName[id] else { continue }
            let e = Expr.divide(.name(amount), .name(speciesCompartment[id]!))
            observables.append(.init(name: id, expression: e, text: ExpressionText.text(e), description: Importer.label(node)))
        }
        for id in observableIDs {
            let e = ruleExpressions[id]!
            observables.append(.init(name: id, expression: e, text: ExpressionText.text(e)))
        }

        // Reactions. What rules and events change is not a constant (for conversion factors).
        let variableIDs = Set(ruleExpressions.keys).union(rateRules.keys).union(model.list("listOfEvents", "event").flatMap {
            $0.list("listOfEventAssignments", "eventAssignment").compactMap { $0.attributes["variable"] }
        })
        parameters += localParameters
        var reactions: [ModelDefinition.Reaction] = []
        var reactionIDsTaken = reactionIDs
        func unusedName(_ base: String) -> String {
            var name = base, k = 1
            while reactionIDsTaken.contains(name) { k += 1; name = "\(base)_\(k)" }
            reactionIDsTaken.insert(name)
            return name
        }
        for node in model.list("listOfReactions", "reaction") {
            let id = node.attributes["id"] ?? "?"
            if node.attributes["fast"] == "true" { throw SBMLImportError("SBML reaction \(id) is fast, which is not supported yet.") }
            func side(_ list: String, _ item: String, _ reactantSide: Bool) throws -> [(species: Int, coefficient: Double)] {
                var terms: [(species: Int, coefficient: Double)] = []
                let mine = node.list(list, item).map { ($0, 1.0) }
                let theirs = node.list(reactantSide ? "listOfProducts" : "listOfReactants", item).map { ($0, -1.0) }
                for (ref, sign) in mine + theirs {
                    let s = ref.attributes["species"] ?? ""
                    // A species set by a rule is a boundary species: reactions do not change it.
                    if ruledSpecies.contains(s) || rateRules[s] != nil { continue }
                    guard let index = speciesNodes.firstIndex(where: { $0.attributes["id"] == s }) else {
                        throw SBMLImportError("SBML reaction \(id) names species '\(s)', which is not declared.")
                    }
                    // A stoichiometry that changes is its own reaction (below).
                    if ref.child("stoichiometryMath") != nil || ref.attributes["id"].map(variableReferences.contains) == true { continue }
                    var stoichiometry = ref.attributes["id"].flatMap { stoichiometryValues[$0] } ?? ref.attributes["stoichiometry"].flatMap(Double.init) ?? 1
                    if let factor = conversionFactor[s] {
                        // A conversion factor scales what reactions do to the species; only a
                        // constant one can be folded into the stoichiometry.
                        guard let value = values[factor], !variableIDs.contains(factor), kindOf(factor) == "parameter" else {
                            throw SBMLImportError("SBML conversionFactor \(factor) of species \(s) is not a constant parameter, which is not supported yet.")
                        }
                        stoichiometry *= value
                    }
                    let nu = sign * stoichiometry
                    if nu < 0 || (sign < 0 && nu == 0) { continue }
                    guard nu.isFinite, nu >= 0 else {
                        throw SBMLImportError("SBML reaction \(id) has the stoichiometry \(nu) for species \(s), which is not supported yet.")
                    }
                    if nu == 0 { continue }
                    if let k = terms.firstIndex(where: { $0.species == index }) { terms[k].coefficient += nu } else { terms.append((index, nu)) }
                }
                return terms
            }
            // A negative stoichiometry moves the species to the other side (the same ODE).
            let reactants = try side("listOfReactants", "speciesReference", true)
            let products = try side("listOfProducts", "speciesReference", false)
            guard node.child("kineticLaw") != nil else { throw SBMLImportError("SBML reaction \(id) has no kineticLaw.") }
            let flux = try reactionFlux(id, place: "kineticLaw of reaction \(id)")
            // Each species with a changing stoichiometry ν gets a reaction of its own, "-> S" (or
            // "S ->" for a reactant) at rate ν · flux / V_S: exactly ν · flux of S per time.
            for (list, reactant) in [("listOfReactants", true), ("listOfProducts", false)] {
                for ref in node.list(list, "speciesReference") {
                    let s = ref.attributes["species"] ?? ""
                    if ruledSpecies.contains(s) || rateRules[s] != nil { continue }
                    let nu: Expr
                    if let m = ref.child("stoichiometryMath") {
                        nu = try math(of: m, place: "stoichiometryMath of species \(s) in reaction \(id)")
                    } else if let r = ref.attributes["id"], variableReferences.contains(r) {
                        nu = .name(r)
                    } else { continue }
                    guard let index = speciesNodes.firstIndex(where: { $0.attributes["id"] == s }) else {
                        throw SBMLImportError("SBML reaction \(id) names species '\(s)', which is not declared.")
                    }
                    if let factor = conversionFactor[s], variableIDs.contains(factor) {
                        throw SBMLImportError("SBML conversionFactor \(factor) of species \(s) is not a constant parameter, which is not supported yet.")
                    }
                    // (An amount lives in the unit compartment: ν · flux itself.)
                    let home = compartments[species[index].compartment].name
                    var rate = home == unitCompartment && amountName[s] != nil ? Expr.multiply(nu, flux) : .divide(.multiply(nu, flux), .name(home))
                    if let factor = conversionFactor[s] {
                        guard let value = values[factor] else {
                            throw SBMLImportError("SBML conversionFactor \(factor) of species \(s) names no parameter.")
                        }
                        rate = .multiply(rate, .number(value))
                    }
                    let term = [(species: index, coefficient: 1.0)]
                    var extra = ModelDefinition.Reaction(id: unusedName("\(id)_\(s)"), equation: "", reactants: reactant ? term : [],
                                                         products: reactant ? [] : term, reversible: false, kinetics: .rate(rate),
                                                         description: "the part of reaction \(id) that changes \(s), whose stoichiometry varies")
                    extra.equation = reactant ? "\(species[index].name) ->" : "-> \(species[index].name)"
                    reactions.append(extra)
                }
            }
            guard let first = reactants.first ?? products.first else { continue }   // no species change: no effect
            let volume = compartments[species[first.species].compartment].name
            // Amounts sit in the unit compartment: the rate is the flux itself.
            let rate = volume == unitCompartment ? flux : perVolume(flux, volume)
            var reaction = ModelDefinition.Reaction(id: id, equation: "", reactants: reactants, products: products,
                                                    reversible: false, kinetics: .rate(rate),
                                                    description: Importer.label(node))
            reaction.equation = TOMLWriter.equation(reaction, ModelDefinition(file: file, name: "", compartments: compartments, species: species,
                                                                             parameters: [], observables: [], reactions: [], events: []))
            reactions.append(reaction)
        }

        // Events.
        var events: [ModelDefinition.Event] = []
        for node in model.list("listOfEvents", "event") {
            let id = node.attributes["id"] ?? "(without id)"
            let priority = try node.child("priority").flatMap { $0.child("math") == nil ? nil : try math(of: $0, place: "priority of event \(id)") }
            // Level 3 Version 2: an event without a trigger (or its math) never fires.
            guard let trigger = node.child("trigger") else {
                if level == 3 { continue }
                throw SBMLImportError("SBML event \(id) has no trigger.")
            }
            guard trigger.child("math") != nil else { continue }
            var delay: Expr? = nil
            if let d = node.child("delay"), d.child("math") != nil {
                let e = try math(of: d, place: "delay of event \(id)")
                if e != .number(0) { delay = e }
            }
            // SBML's defaults (Level 2); Level 3 requires the attributes.
            let initialValue = trigger.attributes["initialValue"] != "false"
            let persistent = trigger.attributes["persistent"] != "false"
            let useValuesFromTriggerTime = node.attributes["useValuesFromTriggerTime"] != "false"
            var assignments: [ModelDefinition.Assignment] = []
            for a in node.list("listOfEventAssignments", "eventAssignment") {
                let variable = a.attributes["variable"] ?? ""
                let kind = kindOf(variable)
                if a.child("math") == nil { continue }   // Level 3 Version 2: no math, no assignment
                var e = try math(of: a, place: "eventAssignment to \(variable) in event \(id)")
                switch kind {
                case "species" where amountName[variable] != nil:
                    // The new amount: the value itself in amounts, else concentration × size.
                    // (The size before the event, also when the event sets it: SBML evaluates
                    // all assignments first; case 01779 of the test suite.)
                    if !onlySubstance.contains(variable) { e = .multiply(e, .name(speciesCompartment[variable]!)) }
                    assignments.append(.init(target: .species(speciesNodes.firstIndex { $0.attributes["id"] == variable }!), targetName: amountName[variable]!, expression: e))
                case "species" where !ruledSpecies.contains(variable):
                    if onlySubstance.contains(variable) { e = .divide(e, .name(speciesCompartment[variable]!)) }
                    assignments.append(.init(target: .species(speciesNodes.firstIndex { $0.attributes["id"] == variable }!), targetName: variable, expression: e))
                case "compartment" where variableCompartments.contains(variable) && !observableIDs.contains(variable),
                     "symbol" where variableReferences.contains(variable) && !observableIDs.contains(variable),
                     "parameter" where !observableIDs.contains(variable):
                    // A size that changes (amounts stay; concentrations follow), a stoichiometry,
                    // or a parameter: a state variable when it has a rate rule, else a parameter.
                    let target: ModelDefinition.Assignment.Target = rateRules[variable] != nil
                        ? .species(species.firstIndex { $0.name == variable }!)
                        : .parameter(parameters.firstIndex { $0.name == variable }!)
                    assignments.append(.init(target: target, targetName: variable, expression: e))
                default:
                    throw SBMLImportError("SBML eventAssignment to \(kind) \(variable) in event \(id) is not supported yet.")
                }
            }
            // A size an event changes keeps amounts: species held as concentrations in that
            // compartment (those with rate rules) are rescaled by old size / new size, a value
            // the same event assigns them included (it is meant in the old size), all evaluated
            // before the event like every assignment (cases 01505 and 01506 of the test suite).
            for sized in assignments where variableCompartments.contains(sized.targetName) {
                for (index, node) in speciesNodes.enumerated() {
                    let sid = node.attributes["id"]!
                    guard speciesCompartment[sid] == sized.targetName, amountName[sid] == nil, !species[index].constant else { continue }
                    let scale = { (e: Expr) in Expr.divide(.multiply(e, .name(sized.targetName)), sized.expression) }
                    if let k = assignments.firstIndex(where: { $0.targetName == sid }) {
                        assignments[k].expression = scale(assignments[k].expression)
                    } else {
                        assignments.append(.init(target: .species(index), targetName: sid, expression: scale(.name(sid))))
                    }
                }
            }
            if assignments.isEmpty { continue }
            // `time >= T` with a constant T and no delay is a timed event: an exact stop, no root finding.
            if delay == nil, priority == nil, let (time, strict) = try triggerTime(trigger, values: values) {
                var at = time
                // A trigger already true at the start fires only when its initial value is false;
                // `time > 0` is false at the start and fires at once after it.
                if time < 0 || (time == 0 && !strict) {
                    if !initialValue { at = 0 } else { continue }
                }
                events.append(.init(times: [at], assignments: assignments, description: Importer.label(node)))
                continue
            }
            guard let triggerMath = trigger.child("math")?.children.first(where: { $0.name != "annotation" }) else {
                throw SBMLImportError("SBML trigger of event \(id) has empty math.")
            }
            let condition = try self.condition(triggerMath, place: "trigger of event \(id)")
            if let keyword = condition.names.first(where: ["and", "or", "xor", "not", "true", "false"].contains) {
                throw SBMLImportError("SBML trigger of event \(id) uses the id '\(keyword)', a keyword of the model file's conditions, which is not supported yet (rename it in the SBML file).")
            }
            events.append(.init(times: [], assignments: assignments, description: Importer.label(node),
                                trigger: .init(condition: condition, initialValue: initialValue, persistent: persistent,
                                               delay: delay, useValuesFromTriggerTime: useValuesFromTriggerTime, priority: priority)))
        }

        // stat3sim runs events of one time one after another; SBML evaluates simultaneous events at
        // the trigger time. The two agree unless one reads what another sets: refuse that case.
        for (i, a) in events.enumerated() where !a.times.isEmpty {
            for b in events[(i + 1)...] where b.times == a.times {
                let setsA = Set(a.assignments.map(\.targetName)), setsB = Set(b.assignments.map(\.targetName))
                // What an event reads, through observables too (an assignment rule reads what it names).
                func reads(_ e: ModelDefinition.Event) -> Set<String> {
                    var seen = Set<String>(), queue = e.assignments.flatMap { $0.expression.names }
                    while let n = queue.popLast() {
                        if seen.insert(n).inserted, let o = observables.first(where: { $0.name == n }) { queue += o.expression.names }
                    }
                    return seen
                }
                let readsA = reads(a), readsB = reads(b)
                if !setsA.isDisjoint(with: readsB) || !setsB.isDisjoint(with: readsA) || !setsA.isDisjoint(with: setsB) {
                    throw SBMLImportError("SBML events at the same time t = \(a.times[0]) that read or set each other's variables are not supported yet.")
                }
            }
        }

        var simulation = ModelDefinition.Simulation()
        simulation.tEnd = max(100, events.flatMap(\.times).max() ?? 0)
        // A model that stat3sim exported carries its run settings in an annotation.
        if let settings = model.child("annotation")?.children.first(where: { $0.name == "simulation" && $0.namespace == SBMLWriter.annotationNamespace }) {
            func value(_ key: String) -> Double? { settings.attributes[key].flatMap(Double.init) }
            if let x = value("tStart") { simulation.tStart = x }
            if let x = value("tEnd") { simulation.tEnd = x }
            if let x = value("rtol") { simulation.rtol = x }
            if let x = value("atol") { simulation.atol = x }
            if let x = value("outputInterval") { simulation.outputInterval = x }
            if let list = settings.attributes["outputTimes"] {
                simulation.explicitOutputTimes = list.split(separator: " ").compactMap { Double($0) }
            }
        }
        let name = model.attributes["name"] ?? model.attributes["id"] ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        return ModelDefinition(file: file, name: name, description: model.child("notes")?.paragraphs.nilIfEmpty,
                               compartments: compartments, species: species, parameters: parameters,
                               observables: observables, reactions: reactions, events: events, simulation: simulation)
    }

    /// `law / V`, written without `V` when the law is `V * …` (the usual form of SBML kinetic laws).
    func perVolume(_ law: Expr, _ volume: String) -> Expr {
        func dropLeadingFactor(_ e: Expr) -> Expr? {
            guard case .multiply(let a, let b) = e else { return nil }
            if a == .name(volume) { return b }
            return dropLeadingFactor(a).map { .multiply($0, b) }
        }
        return dropLeadingFactor(law) ?? .divide(law, .name(volume))
    }

    func kindOf(_ id: String) -> String {
        if speciesCompartment[id] != nil { return "species" }
        if compartmentIDs.contains(id) { return "compartment" }
        if model.list("listOfParameters", "parameter").contains(where: { $0.attributes["id"] == id }) { return "parameter" }
        if reactionIDs.contains(id) { return "reaction" }
        return "symbol"
    }

    /// T of a trigger `time >= T`, `time > T`, `T <= time` or `T < time`, T constant.
    func triggerTime(_ trigger: XMLNode, values: [String: Double]) throws -> (time: Double, strict: Bool)? {
        guard let math = trigger.child("math"), let apply = math.children.first, apply.name == "apply",
              let op = apply.children.first else { return nil }
        let args = Array(apply.children.dropFirst())
        guard args.count == 2 else { return nil }
        func isTime(_ n: XMLNode) -> Bool { n.name == "csymbol" && (n.attributes["definitionURL"] ?? "").hasSuffix("/time") }
        let other: XMLNode
        switch op.name {
        case "geq", "gt":
            guard isTime(args[0]) else { return nil }
            other = args[1]
        case "leq", "lt":
            guard isTime(args[1]) else { return nil }
            other = args[0]
        default: return nil
        }
        guard let e = try? expression(other, place: "trigger", substitution: globalSubstitution) else { return nil }
        // Only constant names: parameters never changed by events, compartments, numbers.
        let assigned = Set(model.list("listOfEvents", "event").flatMap { $0.list("listOfEventAssignments", "eventAssignment").compactMap { $0.attributes["variable"] } })
        for n in e.names where !(parameterIDs.contains(n) || compartmentIDs.contains(n)) || assigned.contains(n) || variableCompartments.contains(n) { return nil }
        return evaluate(e, values).map { ($0, op.name == "gt" || op.name == "lt") }
    }

    // MARK: MathML

    /// The `<math>` child of `node`, converted with local parameters and the global substitution.
    func math(of node: XMLNode, place: String, local: [String: Expr] = [:]) throws -> Expr {
        guard let m = node.child("math"), let first = m.children.first(where: { $0.name != "annotation" }) else {
            throw SBMLImportError("SBML \(place) has no math.")
        }
        var substitution = globalSubstitution
        for (k, v) in local { substitution[k] = v }
        return try expression(first, place: place, substitution: substitution)
    }

    /// The kinetic law of a reaction (amount per time), with its local parameters renamed: what
    /// the reaction's id stands for in SBML math.
    func reactionFlux(_ id: String, place: String) throws -> Expr {
        guard let r = model.list("listOfReactions", "reaction").first(where: { $0.attributes["id"] == id }),
              let law = r.child("kineticLaw") else {
            throw SBMLImportError("SBML \(place) uses the rate of reaction \(id), which has no kineticLaw.")
        }
        func mentions(_ n: XMLNode) -> Bool { (n.name == "ci" && n.trimmedText == id) || n.children.contains(where: mentions) }
        if localNames[id]?[id] == nil, let m = law.child("math"), mentions(m) {
            throw SBMLImportError("SBML kineticLaw of reaction \(id) uses its own rate, which is not supported.")
        }
        rateOfDepth.value += 1
        defer { rateOfDepth.value -= 1 }
        if rateOfDepth.value > 20 {
            throw SBMLImportError("SBML kineticLaw of reaction \(id) depends on itself through other reactions' rates (an algebraic loop), which is not supported.")
        }
        var local: [String: Expr] = [:]
        for (pid, name) in localNames[id] ?? [:] { local[pid] = .name(name) }
        return try math(of: law, place: "kineticLaw of reaction \(id)", local: local)
    }

    /// SBML's `rateOf(x)`: the right-hand side of x's rate rule; for a species changed by
    /// reactions Σ ν·flux (times its conversion factor, divided by its compartment unless it is in
    /// amounts); 0 for constants, local parameters and what only events change.
    func rateOf(_ id: String, place: String, substitution: [String: Expr]) throws -> Expr {
        var id = id
        if let e = substitution[id] {
            // A local parameter is constant; a function's argument stands for what was passed.
            guard case .name(let n) = e else {
                if globalSubstitution[id] != nil { return try rateOf(id, place: place, substitution: [:]) }   // a species in amounts or a changing compartment
                throw unsupported("rateOf of an expression passed to a function", place)
            }
            if localNames.values.contains(where: { $0.values.contains(n) }) { return .number(0) }
            id = n
        }
        rateOfDepth.value += 1
        defer { rateOfDepth.value -= 1 }
        if rateOfDepth.value > 20 {
            throw SBMLImportError("SBML \(place) uses rateOf in a loop (a rate that depends on itself), which is not supported.")
        }
        if let rule = rateRuleNodes[id] {
            func mentionsRateOf(_ n: XMLNode) -> Bool { (n.attributes["definitionURL"] ?? "").hasSuffix("/rateOf") || n.children.contains(where: mentionsRateOf) }
            if mentionsRateOf(rule) { throw unsupported("rateOf of \(id), whose rate rule uses rateOf itself,", place) }
            return try math(of: rule, place: "rateRule for \(id)")
        }
        if assignmentRuleTargets.contains(id) { throw unsupported("rateOf of \(id), which an assignment rule sets,", place) }
        if let c = speciesCompartment[id], variableCompartments.contains(c) {
            throw unsupported("rateOf of \(id), whose compartment changes size,", place)
        }
        guard let compartment = speciesCompartment[id] else {
            // Parameters and compartments without rate rules change only by events: rate 0.
            guard kindOf(id) == "parameter" || kindOf(id) == "compartment" else { throw unsupported("rateOf of \(id)", place) }
            return .number(0)
        }
        let node = model.list("listOfSpecies", "species").first { $0.attributes["id"] == id }!
        if node.attributes["boundaryCondition"] == "true" || node.attributes["constant"] == "true" { return .number(0) }
        var total: Expr? = nil
        for reaction in model.list("listOfReactions", "reaction") {
            let rid = reaction.attributes["id"] ?? "?"
            for (list, sign) in [("listOfReactants", -1.0), ("listOfProducts", 1.0)] {
                for ref in reaction.list(list, "speciesReference") where ref.attributes["species"] == id {
                    if ref.child("stoichiometryMath") != nil { throw unsupported("rateOf of \(id), whose stoichiometry in reaction \(rid) is stoichiometryMath,", place) }
                    // A speciesReference with an id is a name until the values are known (`run`
                    // substitutes it in rules), then its value.
                    let nu: Expr = ref.attributes["id"].map { r in stoichiometryValues[r].map(Expr.number) ?? .name(r) }
                        ?? .number(ref.attributes["stoichiometry"].flatMap(Double.init) ?? 1)
                    let term = Expr.multiply(.multiply(.number(sign), nu), try reactionFlux(rid, place: place))
                    total = total.map { .add($0, term) } ?? term
                }
            }
        }
        guard var rate = total else { return .number(0) }
        if let factor = conversionFactor[id] { rate = .multiply(rate, .name(factor)) }
        return onlySubstance.contains(id) ? rate : .divide(rate, .name(compartment))
    }

    /// The substitution for a call of function definition `name`: its parameters bound to the
    /// arguments. The body sees only its arguments (and time), so no outer substitution applies.
    func bind(_ name: String, _ args: [Expr], place: String) throws -> [String: Expr] {
        let f = functions[name]!
        guard f.parameters.count == args.count else {
            throw SBMLImportError("SBML \(place) calls function \(name) with \(args.count) arguments; it takes \(f.parameters.count).")
        }
        return Dictionary(zip(f.parameters, args), uniquingKeysWith: { a, _ in a })
    }

    func unsupported(_ what: String, _ place: String) -> SBMLImportError {
        SBMLImportError("SBML \(place) uses the MathML \(what), which is not supported yet.")
    }

    func expression(_ node: XMLNode, place: String, substitution: [String: Expr]) throws -> Expr {
        func recurse(_ n: XMLNode) throws -> Expr { try expression(n, place: place, substitution: substitution) }
        switch node.name {
        case "semantics":
            guard let first = node.children.first else { throw unsupported("<semantics> without content", place) }
            return try recurse(first)
        case "cn":
            let type = node.attributes["type"] ?? "real"
            let parts = node.text.split(separator: XMLNode.separator, omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            switch type {
            case "real", "integer":
                guard parts.count == 1, let x = Double(parts[0]) else { throw unsupported("number '\(node.trimmedText)'", place) }
                return .number(x)
            case "e-notation":
                guard parts.count == 2, let m = Double(parts[0]), let e = Double(parts[1]) else { throw unsupported("number '\(node.trimmedText)'", place) }
                return .number(Double("\(parts[0])e\(parts[1])") ?? m * pow(10, e))
            case "rational":
                guard parts.count == 2, let p = Double(parts[0]), let q = Double(parts[1]) else { throw unsupported("number '\(node.trimmedText)'", place) }
                return .number(p / q)
            default:
                throw unsupported("<cn type=\"\(type)\">", place)
            }
        case "ci":
            let name = node.trimmedText
            if let e = substitution[name] { return e }
            if reactionIDs.contains(name) { return try reactionFlux(name, place: place) }
            // A speciesReference stands for its stoichiometry: a number once the initial values
            // are known, a name until then (replaced by `run`).
            if speciesReferenceIDs.contains(name) { return stoichiometryValues[name].map(Expr.number) ?? .name(name) }
            return .name(name)
        case "csymbol":
            let url = node.attributes["definitionURL"] ?? ""
            if url.hasSuffix("/time") { return .name("t") }
            if url.hasSuffix("/avogadro") { return .number(6.02214179e23) }   // SBML Level 3's value (not CODATA 2018's)
            throw unsupported("csymbol \(url)", place)
        case "pi": return .number(Double.pi)
        case "infinity": return .number(.infinity)
        case "notanumber": return .number(.nan)
        case "exponentiale": return .number(M_E)
        case "true": return .number(1)
        case "false": return .number(0)
        case "piecewise":
            var result: Expr
            if let otherwise = node.child("otherwise") {
                guard let value = otherwise.children.first else { throw unsupported("empty <otherwise>", place) }
                result = try recurse(value)
            } else {
                throw unsupported("<piecewise> without <otherwise>", place)
            }
            for piece in node.children("piece").reversed() {
                guard piece.children.count == 2 else { throw unsupported("<piece> without a value and a condition", place) }
                let value = try recurse(piece.children[0])
                result = try conditional(piece.children[1], then: value, else: result, place: place, substitution: substitution)
            }
            return result
        case "apply":
            guard let op = node.children.first else { throw unsupported("empty <apply>", place) }
            let args = try node.children.dropFirst().filter { $0.name != "logbase" && $0.name != "degree" }.map(recurse)
            func arity(_ n: Int) throws {
                guard args.count == n else { throw unsupported("<\(op.name)> with \(args.count) arguments", place) }
            }
            switch op.name {
            case "csymbol" where (op.attributes["definitionURL"] ?? "").hasSuffix("/rateOf"):
                guard node.children.count == 2, node.children[1].name == "ci" else { throw unsupported("rateOf of an expression", place) }
                return try rateOf(node.children[1].trimmedText, place: place, substitution: substitution)
            case "plus":
                guard let first = args.first else { return .number(0) }
                return args.dropFirst().reduce(first) { .add($0, $1) }
            case "times":
                guard let first = args.first else { return .number(1) }
                return args.dropFirst().reduce(first) { .multiply($0, $1) }
            case "minus":
                if args.count == 1 { return .negate(args[0]) }
                try arity(2)
                return .subtract(args[0], args[1])
            case "divide":
                try arity(2)
                return .divide(args[0], args[1])
            case "power":
                try arity(2)
                return .power(args[0], args[1])
            case "exp":
                try arity(1)
                return .function(.exp, args[0])
            case "ln":
                try arity(1)
                return .function(.log, args[0])
            case "abs":
                try arity(1)
                return .function(.abs, args[0])
            case "floor":
                try arity(1)
                return .function(.floor, args[0])
            case "ceiling":
                try arity(1)
                return .function(.ceil, args[0])
            case "factorial":
                try arity(1)
                return .function(.factorial, args[0])
            case "sin", "cos", "tan", "sinh", "cosh", "tanh":
                try arity(1)
                return .function(Expr.Function(rawValue: op.name)!, args[0])
            case "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh":
                try arity(1)
                return .function(Expr.Function(rawValue: "a" + op.name.dropFirst(3))!, args[0])
            case "sec", "csc", "cot", "sech", "csch", "coth":
                // Reciprocals of cos, sin, tan and their hyperbolic forms.
                try arity(1)
                let base = ["sec": "cos", "csc": "sin", "cot": "tan", "sech": "cosh", "csch": "sinh", "coth": "tanh"][op.name]!
                return .divide(.number(1), .function(Expr.Function(rawValue: base)!, args[0]))
            case "arcsec", "arccsc", "arccot", "arcsech", "arccsch", "arccoth":
                // Inverses of the reciprocals: arcsec x = arccos(1/x), and so on.
                try arity(1)
                let base = ["arcsec": "acos", "arccsc": "asin", "arccot": "atan", "arcsech": "acosh", "arccsch": "asinh", "arccoth": "atanh"][op.name]!
                return .function(Expr.Function(rawValue: base)!, .divide(.number(1), args[0]))
            case "quotient", "rem":
                // Integer division truncated toward zero, and the remainder with the dividend's sign.
                try arity(2)
                let ratio = Expr.divide(args[0], args[1])
                let truncated = Expr.select(left: ratio, right: .number(0), ifLess: .function(.ceil, ratio), otherwise: .function(.floor, ratio))
                return op.name == "quotient" ? truncated : .subtract(args[0], .multiply(args[1], truncated))
            case "min", "max":
                // n-ary (MathML 3): nested selects.
                guard let first = args.first else { throw unsupported("<\(op.name)> without arguments", place) }
                return args.dropFirst().reduce(first) { a, b in
                    op.name == "min" ? .select(left: a, right: b, ifLess: a, otherwise: b) : .select(left: a, right: b, ifLess: b, otherwise: a)
                }
            case "log":
                try arity(1)
                if let base = node.child("logbase")?.children.first {
                    let b = try recurse(base)
                    if b == .number(10) { return .function(.log10, args[0]) }
                    return .divide(.function(.log, args[0]), .function(.log, b))
                }
                return .function(.log10, args[0])
            case "root":
                try arity(1)
                if let degree = node.child("degree")?.children.first {
                    let n = try recurse(degree)
                    if n == .number(2) { return .function(.sqrt, args[0]) }
                    return .power(args[0], .divide(.number(1), n))
                }
                return .function(.sqrt, args[0])
            case "lt", "gt", "leq", "geq", "eq", "neq", "and", "or", "not", "xor", "implies":
                // A condition in a numeric context: 1 when true, 0 when false.
                return try conditional(node, then: .number(1), else: .number(0), place: place, substitution: substitution)
            case "ci":
                let name = op.trimmedText
                guard let f = functions[name] else { throw unsupported("call of '\(name)', which is not a function definition", place) }
                return try expression(f.body, place: place, substitution: try bind(name, args, place: place))
            default:
                throw unsupported("<\(op.name)>", place)
            }
        default:
            throw unsupported("<\(node.name)>", place)
        }
    }

    /// A trigger's MathML as a condition: relations (chained ones such as `a < b < c` become
    /// `and`s), `and`, `or`, `xor`, `not`, `true`, `false`.
    func condition(_ node: XMLNode, place: String, substitution: [String: Expr]? = nil) throws -> Condition {
        let substitution = substitution ?? globalSubstitution
        switch node.name {
        case "semantics":
            guard let first = node.children.first else { throw unsupported("<semantics> without content", place) }
            return try condition(first, place: place, substitution: substitution)
        case "true": return .constant(true)
        case "false": return .constant(false)
        case "apply":
            guard let op = node.children.first else { throw unsupported("empty <apply>", place) }
            let operands = Array(node.children.dropFirst())
            func fold(_ combine: (Condition, Condition) -> Condition) throws -> Condition {
                let parts = try operands.map { try condition($0, place: place, substitution: substitution) }
                guard let first = parts.first else { throw unsupported("<\(op.name)> without arguments", place) }
                return parts.dropFirst().reduce(first, combine)
            }
            switch op.name {
            case "and": return try fold { .and($0, $1) }
            case "or": return try fold { .or($0, $1) }
            case "xor": return try fold { .xor($0, $1) }
            case "not":
                guard operands.count == 1 else { throw unsupported("<not> with \(operands.count) arguments", place) }
                return .not(try condition(operands[0], place: place, substitution: substitution))
            case "implies":
                guard operands.count == 2 else { throw unsupported("<implies> with \(operands.count) arguments", place) }
                return .or(.not(try condition(operands[0], place: place, substitution: substitution)),
                           try condition(operands[1], place: place, substitution: substitution))
            case "eq", "neq":
                // Root finding locates changes of sign; an equality of continuous quantities holds
                // only at an instant between samples, so it would fire by chance.
                throw unsupported("<\(op.name)> as a trigger (an equality, which root finding cannot locate)", place)
            case "lt", "gt", "leq", "geq":
                let relation: Condition.Relation = ["lt": .less, "gt": .greater, "leq": .lessEqual, "geq": .greaterEqual][op.name]!
                let args = try operands.map { try expression($0, place: place, substitution: substitution) }
                guard args.count >= 2 else { throw unsupported("<\(op.name)> with \(args.count) argument", place) }
                let pairs = (0..<(args.count - 1)).map { Condition.comparison(args[$0], relation, args[$0 + 1]) }
                return pairs.dropFirst().reduce(pairs[0]) { .and($0, $1) }
            case "ci" where functions[op.trimmedText] != nil:
                // A function definition returning a condition: its body, arguments substituted
                // (the body sees only its arguments and time).
                let args = try operands.map { try expression($0, place: place, substitution: substitution) }
                return try condition(functions[op.trimmedText]!.body, place: place, substitution: try bind(op.trimmedText, args, place: place))
            default:
                throw unsupported("<\(op.name)> as a trigger", place)
            }
        default:
            throw unsupported("<\(node.name)> as a trigger", place)
        }
    }

    /// `condition ? then : else` as a select, for conditions comparing two values (or constants).
    func conditional(_ condition: XMLNode, then value: Expr, else rest: Expr, place: String,
                     substitution: [String: Expr]) throws -> Expr {
        switch condition.name {
        case "true": return value
        case "false": return rest
        case "apply":
            guard let op = condition.children.first else { throw unsupported("empty <apply>", place) }
            let operands = Array(condition.children.dropFirst())
            func sub(_ c: XMLNode, _ yes: Expr, _ no: Expr) throws -> Expr {
                try conditional(c, then: yes, else: no, place: place, substitution: substitution)
            }
            switch op.name {
            case "and":
                // All true: value; the first false one decides rest.
                var result = value
                for c in operands.reversed() { result = try sub(c, result, rest) }
                return result
            case "or":
                var result = rest
                for c in operands.reversed() { result = try sub(c, value, result) }
                return result
            case "xor":
                // True when an odd number of operands is true.
                func odd(_ cs: ArraySlice<XMLNode>, _ yes: Expr, _ no: Expr) throws -> Expr {
                    guard let c = cs.first else { return no }
                    return try sub(c, try odd(cs.dropFirst(), no, yes), try odd(cs.dropFirst(), yes, no))
                }
                guard operands.count <= 6 else { throw unsupported("<xor> with \(operands.count) arguments", place) }
                return try odd(operands[...], value, rest)
            case "not":
                guard operands.count == 1 else { throw unsupported("<not> with \(operands.count) arguments", place) }
                return try sub(operands[0], rest, value)
            case "implies":
                // a ⇒ b: false only when a holds and b does not.
                guard operands.count == 2 else { throw unsupported("<implies> with \(operands.count) arguments", place) }
                return try sub(operands[0], try sub(operands[1], value, rest), value)
            default: break
            }
            if op.name == "ci", let f = functions[op.trimmedText] {
                // A function definition returning a condition: its body, arguments substituted.
                let args = try operands.map { try expression($0, place: place, substitution: substitution) }
                return try conditional(f.body, then: value, else: rest, place: place, substitution: try bind(op.trimmedText, args, place: place))
            }
            let args = try operands.map { try expression($0, place: place, substitution: substitution) }
            if args.count > 2, ["lt", "gt", "leq", "geq", "eq", "neq"].contains(op.name) {
                // a < b < c: every neighbouring pair holds.
                var result = value
                for k in stride(from: args.count - 2, through: 0, by: -1) {
                    let pair = XMLNode(name: "apply", attributes: [:])
                    pair.children = [op, operands[k], operands[k + 1]]
                    result = try conditional(pair, then: result, else: rest, place: place, substitution: substitution)
                }
                return result
            }
            if args.count == 2, op.name == "eq" || op.name == "neq" {
                let (a, b) = (args[0], args[1])
                let equal = op.name == "eq" ? value : rest, different = op.name == "eq" ? rest : value
                return .select(left: a, right: b, ifLess: different, otherwise: .select(left: b, right: a, ifLess: different, otherwise: equal))
            }
            guard args.count == 2, ["lt", "gt", "leq", "geq"].contains(op.name) else {
                throw unsupported("condition <\(op.name)> in <piecewise>", place)
            }
            let (a, b) = (args[0], args[1])
            switch op.name {
            case "lt": return .select(left: a, right: b, ifLess: value, otherwise: rest)
            case "gt": return .select(left: b, right: a, ifLess: value, otherwise: rest)
            case "geq": return .select(left: a, right: b, ifLess: rest, otherwise: value)
            default: return .select(left: b, right: a, ifLess: rest, otherwise: value)   // leq
            }
        default:
            throw unsupported("condition <\(condition.name)> in <piecewise>", place)
        }
    }
}

/// The value of an expression, or nil when a name has no value yet.
func evaluate(_ e: Expr, _ values: [String: Double]) -> Double? {
    func ev(_ e: Expr) -> Double? {
        switch e {
        case .number(let x): return x
        case .name(let n): return values[n]
        case .negate(let a): return ev(a).map { -$0 }
        case .add(let a, let b): guard let x = ev(a), let y = ev(b) else { return nil }; return x + y
        case .subtract(let a, let b): guard let x = ev(a), let y = ev(b) else { return nil }; return x - y
        case .multiply(let a, let b): guard let x = ev(a), let y = ev(b) else { return nil }; return x * y
        case .divide(let a, let b): guard let x = ev(a), let y = ev(b) else { return nil }; return x / y
        case .power(let a, let b): guard let x = ev(a), let y = ev(b) else { return nil }; return pow(x, y)
        case .function(let f, let a):
            guard let x = ev(a) else { return nil }
            return Expr.apply(f, x)
        case .select(let l, let r, let a, let b):
            guard let x = ev(l), let y = ev(r) else { return nil }
            return x < y ? ev(a) : ev(b)
        }
    }
    return ev(e)
}

private extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
