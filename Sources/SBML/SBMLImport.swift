import Foundation
import ReactionModel

/// The import of one SBML model: what the phases share (the SBML elements by id, the mapping of
/// ids onto the model file's names, the values at the start) and, filled phase by phase, the
/// parts of the model definition. `run` calls the phases in order; each lives in the file named
/// for it (`SBMLImport+Species.swift`, …), MathML in `SBMLImport+MathML.swift`.
struct Importer {
    let root: XMLNode
    let model: XMLNode
    let file: String
    let level: Int

    struct FunctionDefinition {
        var parameters: [String]
        var body: XMLNode
    }
    var functions: [String: FunctionDefinition] = [:]
    /// Function definitions without math (Level 3 Version 2 allows them; a call has no value).
    var functionsWithoutMath: Set<String> = []
    var compartmentIDs: [String] = []
    var speciesCompartment: [String: String] = [:]
    var onlySubstance: Set<String> = []
    var parameterIDs: [String] = []
    var observableIDs: [String] = []
    var reactionIDs: Set<String> = []
    var speciesReferenceIDs: Set<String> = []
    /// Reaction id → local parameter id → its global name.
    var localNames: [String: [String: String]] = [:]
    /// What a name in SBML math stands for in the model file: a species in amounts
    /// (`hasOnlySubstanceUnits`) S → S * V; a species held as an amount because its compartment
    /// changes size → its amount (divided by the size unless in amounts).
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
    /// How many delay csymbols the conversion is inside (their values are read in the past).
    let delayDepth = Depth()
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
    /// Fast reactions replaced by their equilibrium (`reduceFastReactions`): not built as reactions.
    var reducedFastReactions: Set<String> = []
    /// Their rate laws' slopes in the reactant, checked once the initial values are known.
    var fastReactionSlopes: [(reaction: String, slope: Expr)] = []

    /// SBML elements in file order; `speciesNodes` without the species that rules set (no states).
    var compartmentNodes: [XMLNode] = []
    var allSpeciesNodes: [XMLNode] = []
    var speciesNodes: [XMLNode] = []
    var speciesIndex: [String: Int] = [:]
    var parameterNodes: [XMLNode] = []
    var parameterNodeByID: [String: XMLNode] = [:]
    /// speciesReferences that have an id.
    var references: [XMLNode] = []
    /// Observables (assignment-rule targets) as a set.
    var observableIDSet: Set<String> = []
    /// Local parameters, as the global parameters they become.
    var localParameters: [ModelDefinition.Parameter] = []
    /// Assignment rules (as observables) and rate rules (d(value)/dt of a species as a
    /// concentration, or of a parameter, compartment or speciesReference as a state variable).
    var ruleExpressions: [String: Expr] = [:]
    var ruledSpecies: Set<String> = []
    var rateRules: [String: Expr] = [:]
    var rateRuledParameters: [String] = []
    /// speciesReferences whose stoichiometry changes (rules or events): their ids stay names.
    var variableReferences: Set<String> = []
    var initialAssignments: [String: Expr] = [:]
    /// Values at t = 0 in stat3sim's terms (species as concentrations).
    var values: [String: Double] = ["t": 0]
    /// What rules and events change: not a constant (for conversion factors).
    var variableIDs: Set<String> = []
    /// The model definition's parts, as the phases build them.
    var compartments: [ModelDefinition.Compartment] = []
    var compartmentIndexByName: [String: Int] = [:]
    var species: [ModelDefinition.Species] = []
    var parameters: [ModelDefinition.Parameter] = []
    var observables: [ModelDefinition.Observable] = []
    var reactions: [ModelDefinition.Reaction] = []
    /// Ids in use, so that the reactions the import adds get fresh ones (`insertUnused`).
    var reactionIDsTaken: Set<String> = []
    var events: [ModelDefinition.Event] = []
    /// The SBML id of each of `events` (for messages).
    var eventIDs: [String] = []
    var simulation = ModelDefinition.Simulation()
    /// Whether the file gave an absolute tolerance (stat3sim's annotation); without one every
    /// species gets its own, scaled to its size.
    var hasAbsoluteTolerance = false

    init(root: XMLNode, file: String) throws {
        guard root.name == "sbml" else {
            throw SBMLImportError(
                "the file is not SBML (its root element is "
                    + "<\(excerpt(root.name))>, not <sbml>).")
        }
        guard let model = root.child("model") else { throw SBMLImportError("the SBML file has no <model>.") }
        self.root = root
        self.model = model
        self.file = file
        self.level = Int(root.attributes["level"] ?? "") ?? 0
        guard level == 2 || level == 3 else {
            throw SBMLImportError(
                "SBML Level \(excerpt(root.attributes["level"] ?? "?")) (the <sbml> element's level) is not "
                    + "supported (Level 2 and 3 are); convert the file to Level 3 (libSBML's level converter, "
                    + "or COPASI's export).")
        }
    }

    /// The element's `<notes>` as a description, else its SBML name when that says more than
    /// the id.
    static func label(_ node: XMLNode) -> String? {
        if let notes = node.child("notes")?.paragraphs, !notes.isEmpty { return notes }
        guard let name = node.attributes["name"], !name.isEmpty, name != node.attributes["id"] else { return nil }
        return name
    }

    /// ` 'id'` for an element with an id, else nothing (for messages).
    static func idSuffix(_ node: XMLNode) -> String {
        node.attributes["id"].map { " '\(excerpt($0))'" } ?? ""
    }

    static func describe(_ node: XMLNode) -> String {
        node.attributes["id"].map { "\(node.name) \($0)" } ?? node.name
    }

    // MARK: The model

    /// The phases in order (each may refuse the model with an `SBMLImportError`).
    mutating func run() throws -> ModelDefinition {
        try checkDocument()
        dropExportHelpers()
        renameTimeID()
        try readFunctionDefinitions()
        try readCompartments()
        try readSpecies()
        indexReactions()
        readParameters()
        try findChangingCompartments()
        try readLocalParameters()
        try readRules()
        try checkModelElements()
        try readInitialAssignments()
        try computeInitialValues()
        try checkFastReactions()
        buildCompartments()
        buildSpecies()
        buildParameters()
        buildObservables()
        try buildReactions()
        try buildEvents()
        try checkSimultaneousEvents()
        readSettings()
        let name =
            model.attributes["name"] ?? model.attributes["id"]
            ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        var definition = ModelDefinition(
            file: file, name: name, description: model.child("notes")?.paragraphs.nilIfEmpty,
            compartments: compartments, species: species, parameters: parameters,
            observables: observables, reactions: reactions, events: events, simulation: simulation)
        if let nested = definition.nestedDelay {
            throw SBMLImportError.unsupported(
                "SBML csymbol delay of \(excerpt(nested.description)) reads the past value of an assignment rule that "
                    + "itself has a delay, which is not supported: make the inner past value a species that follows "
                    + "it, or add the lags.")
        }
        if !hasAbsoluteTolerance { definition.scaleAbsoluteTolerances() }
        return definition
    }

    /// Root finding locates changes of sign; an equality of continuous quantities holds only at
    /// an instant between samples, so it would fire by chance. Equalities of quantities that
    /// change only at events (`ModelDefinition.changesOnlyAtEvents`) are kept.
    func checkTriggerEqualities(_ condition: Condition, event id: String) throws {
        let equalities = condition.comparisons.filter { $0.relation == .equal || $0.relation == .notEqual }
        guard !equalities.isEmpty else { return }
        let d = ModelDefinition(
            file: file, name: "", description: nil, compartments: compartments, species: species,
            parameters: parameters, observables: observables, reactions: reactions, events: [],
            simulation: simulation)
        for c in equalities {
            guard !d.changesOnlyAtEvents(.subtract(c.left, c.right)) else { continue }
            throw SBMLImportError.unsupported(
                "SBML trigger of event '\(excerpt(id))' uses the MathML <\(c.relation == .equal ? "eq" : "neq")> "
                    + "as a trigger on \(excerpt(ExpressionText.text(c.left))) and "
                    + "\(excerpt(ExpressionText.text(c.right))), which change between events (an equality, which "
                    + "root finding cannot locate), which is not supported; write a crossing (<geq/>, <leq/>) "
                    + "instead.")
        }
    }

    /// The document around the model: no required packages, nothing beside the model. Packages
    /// marked `required="false"` cannot change the simulation (SBML's rule): their elements are
    /// ignored, with one note.
    mutating func checkDocument() throws {
        let required = root.requiredPackages.filter { $0.value == "true" }.keys.sorted()
        if let first = required.first {
            throw SBMLImportError.unsupported(
                "SBML package '\(excerpt(first))' (required=\"true\" on the <sbml> element) is not supported yet"
                    + (required.count > 1
                        ? " (nor \(required.dropFirst().map { "'\(excerpt($0))'" }.joined(separator: ", ")))" : "")
                    + "; convert the model to SBML core first (a comp model: flatten it, e.g. with libSBML's "
                    + "CompFlatteningConverter; other packages: export core SBML from the tool that wrote it).")
        }
        if root.requiredPackages.isEmpty, let required = root.attributes["required"], required == "true" {
            throw SBMLImportError.unsupported(
                "SBML packages (required=\"true\" on the <sbml> element) are not supported yet; convert the model "
                    + "to SBML core first.")
        }
        let optional = root.requiredPackages.keys.sorted()
        if !optional.isEmpty {
            warnings.append(
                "SBML package\(optional.count == 1 ? "" : "s") \(optional.map { excerpt($0) }.joined(separator: ", ")) "
                    + "(required=\"false\", so without effect on the simulation) ignored.")
        }
        for child in root.children where child.name != "model" && child.name != "notes" && child.name != "annotation" {
            if isOptionalPackage(child) { continue }
            throw SBMLImportError.unsupported(
                "SBML element <\(excerpt(child.name))>\(Importer.idSuffix(child)) in <sbml>, outside the model, is "
                    + "not supported yet; remove it (an element of a package that does not change the math: "
                    + "declare the package with required=\"false\").")
        }
    }

    /// An element of an optional package: in a namespace other than SBML core's, MathML's and
    /// XHTML's, in a document that declares optional packages.
    func isOptionalPackage(_ node: XMLNode) -> Bool {
        guard !root.requiredPackages.isEmpty, let namespace = node.namespace else { return false }
        return namespace != root.namespace && !namespace.hasSuffix("/MathML") && !namespace.hasSuffix("/xhtml")
    }

    /// The elements `stat3sim export` adds for other tools only (the parameter and event that have
    /// COPASI evaluate triggers again after a state event, and the assignments to that parameter),
    /// marked by the annotation `<stat3sim:exportHelper/>`: dropped, so that a round trip gives
    /// the model that was exported.
    func dropExportHelpers() {
        func isHelper(_ node: XMLNode) -> Bool {
            node.child("annotation")?.children.contains {
                $0.name == "exportHelper" && $0.namespace == SBMLWriter.annotationNamespace
            } ?? false
        }
        model.forEachDescendant { n in n.children.removeAll(where: isHelper) }
    }

    /// SBML ids are free; the model file reserves `t` for time. An id `t` (and every mention of
    /// it) is renamed to `t_` (or `t__`, …, whichever is free), with a note.
    mutating func renameTimeID() {
        let referring: Set<String> = [
            "id", "variable", "species", "compartment", "symbol", "outside", "conversionFactor",
        ]
        let named: Set<String> = [
            "compartment", "species", "parameter", "localParameter", "reaction", "speciesReference",
            "functionDefinition", "event",
        ]
        var ids = Set<String>()
        var hasTime = false
        root.forEachDescendant { n in
            if let id = n.attributes["id"] {
                ids.insert(id)
                if id == "t" && named.contains(n.name) { hasTime = true }
            }
        }
        guard hasTime else { return }
        var fresh = "t_"
        while ids.contains(fresh) { fresh += "_" }
        root.forEachDescendant { n in
            if n.name == "ci" && n.trimmedText == "t" { n.text = fresh }
            if n.name == "unitDefinition" || n.name == "unit" { return }
            for key in referring where n.attributes[key] == "t" { n.attributes[key] = fresh }
        }
        warnings.append("SBML id 't' is imported as '\(fresh)' (t is time in stat3sim's model files).")
    }

    /// The model's own children: only the lists the import reads (or may ignore).
    func checkModelElements() throws {
        // (Constraints are checks only: they do not change a simulation.)
        for child in model.children {
            switch child.name {
            case "notes", "annotation", "listOfFunctionDefinitions", "listOfUnitDefinitions",
                "listOfCompartmentTypes", "listOfSpeciesTypes", "listOfCompartments", "listOfSpecies",
                "listOfParameters", "listOfInitialAssignments", "listOfRules", "listOfConstraints",
                "listOfReactions", "listOfEvents":
                break
            case _ where isOptionalPackage(child):
                break
            default:
                throw SBMLImportError.unsupported(
                    "SBML element <\(excerpt(child.name))>\(Importer.idSuffix(child)) in model "
                        + "'\(excerpt(model.attributes["id"] ?? "?"))' is not supported yet; remove it (an element of a "
                        + "package that does not change the math: declare the package with required=\"false\").")
            }
        }
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
            let op = apply.children.first
        else { return nil }
        let args = Array(apply.children.dropFirst())
        guard args.count == 2 else { return nil }
        func isTime(_ n: XMLNode) -> Bool {
            n.name == "csymbol"
                && (n.attributes["definitionURL"] ?? "").hasSuffix("/time")
        }
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
        guard
            let e = try? expression(
                other, place: "trigger",
                scope: Scope(global: globalSubstitution)
            ).expr
        else { return nil }
        // Only constant names: parameters never changed by events, compartments, numbers.
        for n in names(e)
        where !(parameterIDKept.contains(n) || compartmentIDSet.contains(n))
            || eventTargets.contains(n) || variableCompartments.contains(n)
        { return nil }
        return evaluate(e, values).map { ($0, op.name == "gt" || op.name == "lt") }
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
