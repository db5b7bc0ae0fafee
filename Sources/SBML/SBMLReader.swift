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
            throw SBMLImportError("the imported model is not a valid stat3sim model: \(excerpt(error.message, limit: 400))")
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

struct Importer {
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
    var globalSubstitution: [String: Term] = [:]
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
    /// The depth and the elements read of the math being converted (`ImportLimits`).
    let budget = MathBudget()
    /// Elements by id, and the ids of sets that membership tests read often (large models stay linear).
    var reactionNodes: [String: XMLNode] = [:]
    var speciesNodeByID: [String: XMLNode] = [:]
    var parameterIDSet: Set<String> = []
    var compartmentIDSet: Set<String> = []
    /// The global names given to local parameters.
    var localGlobalNames: Set<String> = []
    /// Parameters that stay parameters (no rule sets them), and what event assignments set.
    var parameterIDKept: Set<String> = []
    var eventTargets: Set<String> = []
    var assignmentRuleTargets: Set<String> = []

    init(root: XMLNode, file: String) throws {
        guard root.name == "sbml" else { throw SBMLImportError("the file is not SBML (its root element is <\(excerpt(root.name))>, not <sbml>).") }
        guard let model = root.child("model") else { throw SBMLImportError("the SBML file has no <model>.") }
        self.root = root
        self.model = model
        self.file = file
        self.level = Int(root.attributes["level"] ?? "") ?? 0
        guard level == 2 || level == 3 else {
            throw SBMLImportError("SBML Level \(excerpt(root.attributes["level"] ?? "?")) is not supported (Level 2 and 3 are).")
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
            throw SBMLImportError("SBML element <\(excerpt(child.name))> is not supported yet.")
        }

        try readFunctionDefinitions()

        let compartmentNodes = model.list("listOfCompartments", "compartment")
        compartmentIDs = compartmentNodes.compactMap { $0.attributes["id"] }
        compartmentIDSet = Set(compartmentIDs)
        let allSpeciesNodes = model.list("listOfSpecies", "species")
        for s in allSpeciesNodes {
            guard let id = s.attributes["id"] else { throw SBMLImportError("SBML species without an id.") }
            guard let c = s.attributes["compartment"], compartmentIDSet.contains(c) else {
                throw SBMLImportError("SBML species \(excerpt(id)) is in compartment '\(excerpt(s.attributes["compartment"] ?? ""))', which is not declared.")
            }
            if let factor = s.attributes["conversionFactor"] ?? model.attributes["conversionFactor"] { conversionFactor[id] = factor }
            if s.attributes["charge"] != nil && level == 3 { }
            speciesCompartment[id] = c
            if speciesNodeByID[id] == nil { speciesNodeByID[id] = s }
            if s.attributes["hasOnlySubstanceUnits"] == "true" {
                onlySubstance.insert(id)
                globalSubstitution[id] = Term(measuring: .multiply(.name(id), .name(c)))
            }
        }
        reactionIDs = Set(model.list("listOfReactions", "reaction").compactMap { $0.attributes["id"] })
        for r in model.list("listOfReactions", "reaction") {
            if let id = r.attributes["id"], reactionNodes[id] == nil { reactionNodes[id] = r }
        }
        for r in model.list("listOfReactions", "reaction") {
            for list in ["listOfReactants", "listOfProducts"] {
                for ref in r.list(list, "speciesReference") { if let id = ref.attributes["id"] { speciesReferenceIDs.insert(id) } }
            }
        }
        let parameterNodes = model.list("listOfParameters", "parameter")
        parameterIDSet = Set(parameterNodes.compactMap { $0.attributes["id"] })
        eventTargets = Set(model.list("listOfEvents", "event").flatMap {
            $0.list("listOfEventAssignments", "eventAssignment").compactMap { $0.attributes["variable"] }
        })

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
            let ruledIDs = Set((model.child("listOfRules")?.children ?? []).filter { $0.child("math") != nil }.compactMap { $0.attributes["variable"] })
            for node in allSpeciesNodes {
                let id = node.attributes["id"]!, c = speciesCompartment[id]!
                // (Rules without math have no effect: Level 3 Version 2.)
                let ruled = ruledIDs.contains(id)
                guard variableCompartments.contains(c), !ruled else {
                    if variableCompartments.contains(c), onlySubstance.contains(id) {
                        throw SBMLImportError("SBML species \(excerpt(id)) in amounts, set by a rule in compartment \(excerpt(c)) whose size changes, is not supported yet.")
                    }
                    continue
                }
                // (Boundary and constant species too: what SBML holds is the amount.)
                let name = unused("\(id)_amount")
                amountName[id] = name
                globalSubstitution[id] = Term(measuring: onlySubstance.contains(id) ? .name(name) : .divide(.name(name), .name(c)))
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
                    throw SBMLImportError("SBML local parameter \(excerpt(pid)) of reaction \(excerpt(id)) has no value.")
                }
                var name = "\(id)_\(pid)"
                var k = 1
                while taken.contains(name) { k += 1; name = "\(id)_\(pid)_\(k)" }
                taken.insert(name)
                localNames[id, default: [:]][pid] = name
                localGlobalNames.insert(name)
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
                    ruleExpressions[variable] = try math(of: rule, place: "assignmentRule for parameter \(excerpt(variable))")
                    observableIDs.append(variable)
                case "assignmentRule" where kind == "species":
                    var e = try math(of: rule, place: "assignmentRule for species \(excerpt(variable))")
                    if onlySubstance.contains(variable) { e = .divide(e, .name(speciesCompartment[variable]!)) }
                    ruleExpressions[variable] = e
                    observableIDs.append(variable)
                    ruledSpecies.insert(variable)
                case "rateRule" where kind == "species":
                    var e = try math(of: rule, place: "rateRule for species \(excerpt(variable))")
                    if onlySubstance.contains(variable) { e = .divide(e, .name(speciesCompartment[variable]!)) }
                    rateRules[variable] = e
                case "rateRule" where kind == "parameter":
                    rateRules[variable] = try math(of: rule, place: "rateRule for parameter \(excerpt(variable))")
                    rateRuledParameters.append(variable)
                case "assignmentRule" where speciesReferenceIDs.contains(variable):
                    // A stoichiometry that changes: an observable of the speciesReference's id.
                    ruleExpressions[variable] = try math(of: rule, place: "assignmentRule for speciesReference \(excerpt(variable))")
                    observableIDs.append(variable)
                    variableReferences.insert(variable)
                case "rateRule" where speciesReferenceIDs.contains(variable):
                    // A state variable named by the speciesReference's id.
                    rateRules[variable] = try math(of: rule, place: "rateRule for speciesReference \(excerpt(variable))")
                    rateRuledParameters.append(variable)
                    variableReferences.insert(variable)
                case "rateRule" where kind == "compartment":
                    // A state variable; its species are amounts (above).
                    rateRules[variable] = try math(of: rule, place: "rateRule for compartment \(excerpt(variable))")
                    rateRuledParameters.append(variable)
                case "assignmentRule" where kind == "compartment":
                    ruleExpressions[variable] = try math(of: rule, place: "assignmentRule for compartment \(excerpt(variable))")
                    observableIDs.append(variable)
                case "algebraicRule":
                    throw SBMLImportError("SBML algebraicRule is not supported yet.")
                default:
                    throw SBMLImportError("SBML \(excerpt(rule.name)) for \(kind) \(excerpt(variable)) is not supported yet.")
                }
            }
        }
        let observableSet = Set(observableIDs)
        parameterIDs = parameterNodes.compactMap { $0.attributes["id"] }.filter { !observableSet.contains($0) && rateRules[$0] == nil }
        parameterIDKept = Set(parameterIDs)
        let speciesNodes = allSpeciesNodes.filter { !ruledSpecies.contains($0.attributes["id"]!) }
        let speciesIndex = Dictionary(speciesNodes.enumerated().map { ($1.attributes["id"]!, $0) }, uniquingKeysWith: { a, _ in a })

        for c in model.list("listOfConstraints", "constraint") { _ = c }   // checks only; they do not change a simulation
        for child in model.children {
            switch child.name {
            case "notes", "annotation", "listOfFunctionDefinitions", "listOfUnitDefinitions", "listOfCompartmentTypes",
                 "listOfSpeciesTypes", "listOfCompartments", "listOfSpecies", "listOfParameters", "listOfInitialAssignments",
                 "listOfRules", "listOfConstraints", "listOfReactions", "listOfEvents":
                break
            default:
                throw SBMLImportError("SBML element <\(excerpt(child.name))> is not supported yet.")
            }
        }

        // Initial assignments.
        var initialAssignments: [String: Expr] = [:]
        for ia in model.list("listOfInitialAssignments", "initialAssignment") {
            let symbol = ia.attributes["symbol"] ?? ""
            let kind = kindOf(symbol)
            if ia.child("math") == nil { continue }   // Level 3 Version 2: no math, no effect
            guard ["species", "parameter", "compartment"].contains(kind) || speciesReferenceIDs.contains(symbol), !observableSet.contains(symbol) else {
                throw SBMLImportError("SBML initialAssignment to \(kind) \(excerpt(symbol)) is not supported yet.")
            }
            initialAssignments[symbol] = try math(of: ia, place: "initialAssignment to \(kind) \(excerpt(symbol))")
        }

        // Values at t = 0, in stat3sim's terms (species as concentrations), to a fixed point.
        var values: [String: Double] = ["t": 0]
        enum Item { case compartment(XMLNode), parameter(XMLNode), observable(String), species(XMLNode), stoichiometry(XMLNode), amount(String) }
        let references = model.list("listOfReactions", "reaction").flatMap { $0.list("listOfReactants", "speciesReference") + $0.list("listOfProducts", "speciesReference") }
            .filter { $0.attributes["id"] != nil }
        let pending: [Item] = compartmentNodes.map { .compartment($0) } + parameterNodes.map { .parameter($0) }
            + observableIDs.map { .observable($0) } + speciesNodes.map { .species($0) } + references.map { .stoichiometry($0) }
            + amountName.keys.sorted().map { .amount($0) }
        func compute(_ item: Item) throws -> (String, Double?) {
            switch item {
            case .compartment(let node):
                let id = node.attributes["id"]!
                if observableSet.contains(id) { return (id, 0) }   // replaced by its observable item
                if let e = initialAssignments[id] { return (id, evaluate(e, values)) }
                return (id, node.attributes["size"].flatMap(Double.init) ?? 1)
            case .parameter(let node):
                let id = node.attributes["id"]!
                if observableSet.contains(id) { return (id, 0) }   // replaced by its observable item
                if let e = initialAssignments[id] { return (id, evaluate(e, values)) }
                guard let v = node.attributes["value"].flatMap(Double.init) else {
                    throw SBMLImportError("SBML parameter \(excerpt(id)) has no value and no initial assignment.")
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
                throw SBMLImportError("SBML species \(excerpt(id)) has no initial amount, concentration or assignment.")
            case .amount(let id):
                guard let c = values[id], let size = values[speciesCompartment[id]!] else { return (amountName[id]!, nil) }
                return (amountName[id]!, c * size)
            case .stoichiometry(let node):
                let id = node.attributes["id"]!
                if observableSet.contains(id) { return (id, 0) }   // replaced by its observable item
                if let e = initialAssignments[id] { return (id, evaluate(e, values)) }
                return (id, node.attributes["stoichiometry"].flatMap(Double.init) ?? 1)
            }
        }
        // The names an item's value is computed from.
        func dependencies(_ item: Item) -> Set<String> {
            switch item {
            case .compartment(let node), .parameter(let node), .stoichiometry(let node):
                return initialAssignments[node.attributes["id"]!].map(names) ?? []
            case .observable(let id):
                return names(ruleExpressions[id]!)
            case .species(let node):
                let id = node.attributes["id"]!
                return (initialAssignments[id].map(names) ?? []).union([speciesCompartment[id]!])
            case .amount(let id):
                return [id, speciesCompartment[id]!]
            }
        }
        // In the file's order first; an item whose value is not known yet waits for the names it
        // is computed from and is tried again when one of them gets its value (passes over all
        // pending items would be quadratic in a chain of rules listed backwards).
        var waiting: [String: [Int]] = [:]
        var done = [Bool](repeating: false, count: pending.count), queued = [Bool](repeating: true, count: pending.count)
        var waits = [Bool](repeating: false, count: pending.count)
        var queue = Array(pending.indices), head = 0
        while head < queue.count {
            let i = queue[head]
            head += 1
            queued[i] = false
            let item = pending[i]
            let (id, value) = try compute(item)
            guard let value else {
                if !waits[i] {
                    waits[i] = true
                    for n in dependencies(item) where values[n] == nil { waiting[n, default: []].append(i) }
                }
                continue
            }
            done[i] = true
            if case .parameter(let n) = item, observableSet.contains(n.attributes["id"]!) { continue }
            if case .stoichiometry(let n) = item, observableSet.contains(n.attributes["id"]!) { continue }
            if case .compartment(let n) = item, observableSet.contains(n.attributes["id"]!) { continue }
            values[id] = value
            for j in waiting.removeValue(forKey: id) ?? [] where !done[j] && !queued[j] {
                queued[j] = true
                queue.append(j)
            }
        }
        if let first = done.firstIndex(of: false) {
            let (id, _) = try compute(pending[first])
            throw SBMLImportError("SBML initial value of \(excerpt(id)) cannot be computed at import (it depends on a value that is not defined at the start), which is not supported yet.")
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
        let compartmentIndexByName = Dictionary(compartments.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        /// The compartment a species sits in, in the imported model.
        func compartmentIndex(_ species: String) -> Int {
            let c = speciesCompartment[species]!
            return compartmentIndexByName[variableCompartments.contains(c) ? unitCompartment : c]!
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
                    : compartmentIDSet.contains(id) ? "size of compartment \(id), which changes" : nil)
            species.append(.init(name: id, initial: values[id]!, compartment: 0, constant: false,
                                 description: label, rateRule: rateRules[id], isParameter: true))
        }
        var parameters: [ModelDefinition.Parameter] = []
        for node in parameterNodes {
            let id = node.attributes["id"]!
            guard parameterIDKept.contains(id) else { continue }
            parameters.append(.init(name: id, value: values[id]!, description: Importer.label(node)))
        }
        // Stoichiometries that only events change: parameters named by the speciesReference.
        for id in variableReferences.sorted() where rateRules[id] == nil && !observableSet.contains(id) {
            parameters.append(.init(name: id, value: values[id]!, description: "stoichiometry of speciesReference \(id)"))
        }
        // Sizes that only events change: parameters.
        for id in compartmentIDs where variableCompartments.contains(id) && rateRules[id] == nil && !observableSet.contains(id) {
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
            if node.attributes["fast"] == "true" { throw SBMLImportError("SBML reaction \(excerpt(id)) is fast, which is not supported yet.") }
            func side(_ list: String, _ item: String, _ reactantSide: Bool) throws -> [(species: Int, coefficient: Double)] {
                var terms: [(species: Int, coefficient: Double)] = []
                let mine = node.list(list, item).map { ($0, 1.0) }
                let theirs = node.list(reactantSide ? "listOfProducts" : "listOfReactants", item).map { ($0, -1.0) }
                for (ref, sign) in mine + theirs {
                    let s = ref.attributes["species"] ?? ""
                    // A species set by a rule is a boundary species: reactions do not change it.
                    if ruledSpecies.contains(s) || rateRules[s] != nil { continue }
                    guard let index = speciesIndex[s] else {
                        throw SBMLImportError("SBML reaction \(excerpt(id)) names species '\(excerpt(s))', which is not declared.")
                    }
                    // A stoichiometry that changes is its own reaction (below).
                    if ref.child("stoichiometryMath") != nil || ref.attributes["id"].map(variableReferences.contains) == true { continue }
                    var stoichiometry = ref.attributes["id"].flatMap { stoichiometryValues[$0] } ?? ref.attributes["stoichiometry"].flatMap(Double.init) ?? 1
                    if let factor = conversionFactor[s] {
                        // A conversion factor scales what reactions do to the species; only a
                        // constant one can be folded into the stoichiometry.
                        guard let value = values[factor], !variableIDs.contains(factor), kindOf(factor) == "parameter" else {
                            throw SBMLImportError("SBML conversionFactor \(excerpt(factor)) of species \(excerpt(s)) is not a constant parameter, which is not supported yet.")
                        }
                        stoichiometry *= value
                    }
                    let nu = sign * stoichiometry
                    if nu < 0 || (sign < 0 && nu == 0) { continue }
                    guard nu.isFinite, nu >= 0 else {
                        throw SBMLImportError("SBML reaction \(excerpt(id)) has the stoichiometry \(nu) for species \(excerpt(s)), which is not supported yet.")
                    }
                    if nu == 0 { continue }
                    if let k = terms.firstIndex(where: { $0.species == index }) { terms[k].coefficient += nu } else { terms.append((index, nu)) }
                }
                return terms
            }
            // A negative stoichiometry moves the species to the other side (the same ODE).
            let reactants = try side("listOfReactants", "speciesReference", true)
            let products = try side("listOfProducts", "speciesReference", false)
            guard node.child("kineticLaw") != nil else { throw SBMLImportError("SBML reaction \(excerpt(id)) has no kineticLaw.") }
            let flux = try reactionFlux(id, place: "kineticLaw of reaction \(excerpt(id))").expr
            // Each species with a changing stoichiometry ν gets a reaction of its own, "-> S" (or
            // "S ->" for a reactant) at rate ν · flux / V_S: exactly ν · flux of S per time.
            for (list, reactant) in [("listOfReactants", true), ("listOfProducts", false)] {
                for ref in node.list(list, "speciesReference") {
                    let s = ref.attributes["species"] ?? ""
                    if ruledSpecies.contains(s) || rateRules[s] != nil { continue }
                    let nu: Expr
                    if let m = ref.child("stoichiometryMath") {
                        nu = try math(of: m, place: "stoichiometryMath of species \(excerpt(s)) in reaction \(excerpt(id))")
                    } else if let r = ref.attributes["id"], variableReferences.contains(r) {
                        nu = .name(r)
                    } else { continue }
                    guard let index = speciesIndex[s] else {
                        throw SBMLImportError("SBML reaction \(excerpt(id)) names species '\(excerpt(s))', which is not declared.")
                    }
                    if let factor = conversionFactor[s], variableIDs.contains(factor) {
                        throw SBMLImportError("SBML conversionFactor \(excerpt(factor)) of species \(excerpt(s)) is not a constant parameter, which is not supported yet.")
                    }
                    // (An amount lives in the unit compartment: ν · flux itself.)
                    let home = compartments[species[index].compartment].name
                    var rate = home == unitCompartment && amountName[s] != nil ? Expr.multiply(nu, flux) : .divide(.multiply(nu, flux), .name(home))
                    if let factor = conversionFactor[s] {
                        guard let value = values[factor] else {
                            throw SBMLImportError("SBML conversionFactor \(excerpt(factor)) of species \(excerpt(s)) names no parameter.")
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
        let stateIndex = Dictionary(species.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        let parameterIndex = Dictionary(parameters.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        var events: [ModelDefinition.Event] = []
        for node in model.list("listOfEvents", "event") {
            let id = node.attributes["id"] ?? "(without id)"
            let priority = try node.child("priority").flatMap { $0.child("math") == nil ? nil : try math(of: $0, place: "priority of event \(excerpt(id))") }
            // Level 3 Version 2: an event without a trigger (or its math) never fires.
            guard let trigger = node.child("trigger") else {
                if level == 3 { continue }
                throw SBMLImportError("SBML event \(excerpt(id)) has no trigger.")
            }
            guard trigger.child("math") != nil else { continue }
            var delay: Expr? = nil
            if let d = node.child("delay"), d.child("math") != nil {
                let e = try math(of: d, place: "delay of event \(excerpt(id))")
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
                var e = try math(of: a, place: "eventAssignment to \(excerpt(variable)) in event \(excerpt(id))")
                switch kind {
                case "species" where amountName[variable] != nil:
                    // The new amount: the value itself in amounts, else concentration × size.
                    // (The size before the event, also when the event sets it: SBML evaluates
                    // all assignments first; case 01779 of the test suite.)
                    if !onlySubstance.contains(variable) { e = .multiply(e, .name(speciesCompartment[variable]!)) }
                    assignments.append(.init(target: .species(speciesIndex[variable]!), targetName: amountName[variable]!, expression: e))
                case "species" where !ruledSpecies.contains(variable):
                    if onlySubstance.contains(variable) { e = .divide(e, .name(speciesCompartment[variable]!)) }
                    assignments.append(.init(target: .species(speciesIndex[variable]!), targetName: variable, expression: e))
                case "compartment" where variableCompartments.contains(variable) && !observableSet.contains(variable),
                     "symbol" where variableReferences.contains(variable) && !observableSet.contains(variable),
                     "parameter" where !observableSet.contains(variable):
                    // A size that changes (amounts stay; concentrations follow), a stoichiometry,
                    // or a parameter: a state variable when it has a rate rule, else a parameter.
                    let target: ModelDefinition.Assignment.Target = rateRules[variable] != nil
                        ? .species(stateIndex[variable]!)
                        : .parameter(parameterIndex[variable]!)
                    assignments.append(.init(target: target, targetName: variable, expression: e))
                default:
                    throw SBMLImportError("SBML eventAssignment to \(kind) \(excerpt(variable)) in event \(excerpt(id)) is not supported yet.")
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
                throw SBMLImportError("SBML trigger of event \(excerpt(id)) has empty math.")
            }
            let condition = try self.condition(triggerMath, place: "trigger of event \(excerpt(id))").condition
            if let keyword = condition.names.first(where: ["and", "or", "xor", "not", "true", "false"].contains) {
                throw SBMLImportError("SBML trigger of event \(excerpt(id)) uses the id '\(excerpt(keyword))', a keyword of the model file's conditions, which is not supported yet (rename it in the SBML file).")
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
        if compartmentIDSet.contains(id) { return "compartment" }
        if parameterIDSet.contains(id) { return "parameter" }
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
        guard let e = try? expression(other, place: "trigger", scope: Scope(global: globalSubstitution)).expr else { return nil }
        // Only constant names: parameters never changed by events, compartments, numbers.
        for n in e.names where !(parameterIDKept.contains(n) || compartmentIDSet.contains(n)) || eventTargets.contains(n) || variableCompartments.contains(n) { return nil }
        return evaluate(e, values).map { ($0, op.name == "gt" || op.name == "lt") }
    }
}

/// The names an expression reads (each once; shared parts are walked each time).
func names(_ e: Expr) -> Set<String> {
    var found = Set<String>(), stack = [e]
    while let e = stack.popLast() {
        switch e {
        case .number: break
        case .name(let n): found.insert(n)
        case .negate(let a), .function(_, let a): stack.append(a)
        case .add(let a, let b), .subtract(let a, let b), .multiply(let a, let b), .divide(let a, let b), .power(let a, let b):
            stack.append(a)
            stack.append(b)
        case .select(let a, let b, let c, let d): stack += [a, b, c, d]
        }
    }
    return found
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
