import Foundation
import TOMLKit

/// Reads a model file (docs/model-format.md) into a validated `ModelDefinition`.
/// Every mistake becomes a `ModelError` naming the file, the line, the place and what was expected.
public enum ModelLoader {
    /// Loads the file at `path`; the error names the file as given.
    public static func load(path: String) throws -> ModelDefinition {
        let source: String
        do {
            source = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "not readable as UTF-8 text" : "no such file"
            throw ModelError(file: path, line: nil, message: "cannot read the model file (\(reason)).")
        }
        return try load(source: source, file: path)
    }

    public static func load(source: String, file: String) throws -> ModelDefinition {
        var loader = Loader(file: file, source: source)
        return try loader.run()
    }
}

/// Names usable in expressions: a letter or '_' then letters, digits, '_'.
func isIdentifier(_ name: String) -> Bool {
    guard let first = name.first, first.isLetter || first == "_" else { return false }
    return name.allSatisfy { ($0.isLetter || $0.isNumber || $0 == "_") && $0.isASCII }
}

private struct Loader {
    let file: String
    let source: String
    let locator: SourceLocator

    init(file: String, source: String) {
        self.file = file
        self.source = source
        self.locator = SourceLocator(source: source)
    }

    static let topLevelTables = [
        "model", "compartments", "species", "parameters", "observables",
        "rate_rules", "reactions", "events", "simulation", "scenarios", "sweep",
    ]

    // MARK: Errors and typed access

    /// The place of a table (and of one element of an array of tables, and of one key in it).
    func place(_ table: String, index: Int? = nil, key: String? = nil) -> Place {
        Place(table: table, index: index, key: key, file: file, locator: locator)
    }

    /// Unknown keys are errors; the place's key locates an inline table (its own keys are on that line).
    func checkKeys(_ table: TOMLTable, allowed: [String], _ what: String, at place: Place) throws {
        for key in table.keys where !allowed.contains(key) {
            throw place.child(key: key).fail(
                "\(what) has an unknown key '\(key)'\(didYouMean(key, among: allowed)); the keys allowed here are "
                    + "\(allowed.joined(separator: ", ")).")
        }
    }

    func checkName(_ name: String, _ kind: String, at place: Place) throws {
        let place = place.child(key: name)
        guard isIdentifier(name) else {
            throw place.fail(
                "the \(kind) name '\(name)' is not usable in expressions: names start with a letter or '_' and "
                    + "contain only ASCII letters, digits and '_'.")
        }
        guard name != "t" else { throw place.fail("'t' is reserved for time and cannot name a \(kind).") }
    }

    // MARK: The whole file

    mutating func run() throws -> ModelDefinition {
        let root: TOMLTable
        do {
            root = try TOMLTable(string: source)
        } catch let parse as TOMLParseError {
            throw ModelError(
                file: file, line: parse.source.begin.line,
                message: "TOML syntax error: \(parse.description) (column \(parse.source.begin.column)).")
        }
        for key in root.keys where !Loader.topLevelTables.contains(key) {
            let isTable = root[key]?.type == .table || root[key]?.type == .array
            let suggestion = didYouMean(key, among: Loader.topLevelTables)
                .replacingOccurrences(of: "'", with: "").replacingOccurrences(of: "mean ", with: "mean [")
                .replacingOccurrences(of: "?)", with: "]?)")
            throw place(isTable ? key : "", key: isTable ? nil : key).fail(
                "unknown \(isTable ? "table [\(key)]" : "top-level key '\(key)'")\(suggestion); a model file has the "
                    + "tables \(Loader.topLevelTables.map { "[\($0)]" }.joined(separator: ", ")).")
        }

        var definition = ModelDefinition(
            file: file, name: URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent,
            timeUnit: nil, concentrationUnit: nil, description: nil, references: [],
            compartments: [], species: [], parameters: [], observables: [], reactions: [], events: [],
            simulation: .init(), scenarios: [])

        try readModelTable(root, into: &definition)
        try readCompartments(root, into: &definition)
        try readSpecies(root, into: &definition)
        try readParameters(root, into: &definition)
        try checkUniqueNames(definition)
        try readObservables(root, into: &definition)
        try readRateRules(root, into: &definition)
        try checkStateVariableCount(definition)
        try readReactions(root, into: &definition)
        try checkRateRuleSpecies(definition)
        try checkRateLawExtent(definition)
        if definition.species.isEmpty && definition.parameters.isEmpty && definition.observables.isEmpty
            && root["compartments"] == nil
        {
            throw ModelError(
                file: file, line: nil,
                message: "the model declares nothing to simulate: add a [species] table, e.g. [species] A = 1.0.")
        }
        try readSimulation(root, into: &definition)
        definition.events = try readEvents(
            root["events"], definition: definition, table: "events", place: { "event #\($0 + 1)" })
        try readScenarios(root, into: &definition)
        try readSweep(root, into: &definition)
        if let nested = definition.nestedDelay {
            throw ModelError(
                file: file, line: nil,
                message: "\(ExpressionText.text(nested)) reads the past value of an expression that itself has a "
                    + "delay, which is not supported: make the inner past value a species that follows it, or add "
                    + "the lags (delay(delay(x, a), b) is delay(x, a + b)).")
        }
        return definition
    }

    func table(_ root: TOMLTable, _ name: String) throws -> TOMLTable? {
        guard let value = root[name] else { return nil }
        guard let t = value.table else {
            throw place("", key: name).fail("[\(name)] must be a table, not \(describe(value)).")
        }
        return t
    }

    func readModelTable(_ root: TOMLTable, into d: inout ModelDefinition) throws {
        guard let t = try table(root, "model") else { return }
        let model = place("model")
        try checkKeys(
            t, allowed: ["name", "time_unit", "concentration_unit", "description", "references"], "[model]", at: model)
        func text(_ key: String) throws -> String? {
            try t[key].map { try model.with(key: key).string($0, "[model] \(key)") }
        }
        if let v = try text("name") { d.name = v }
        if let v = try text("time_unit") { d.timeUnit = v }
        if let v = try text("concentration_unit") { d.concentrationUnit = v }
        if let v = try text("description") { d.description = v }
        if let v = t["references"] {
            let references = model.with(key: "references")
            guard let array = v.array else { throw references.fail("[model] references must be an array of strings.") }
            d.references = try array.map { try references.string($0, "each of [model] references") }
        }
    }

    func readCompartments(_ root: TOMLTable, into d: inout ModelDefinition) throws {
        guard let t = try table(root, "compartments") else {
            d.compartments = [.init(name: "cell", size: 1, unit: nil, description: nil)]
            return
        }
        for name in locator.fileOrder(of: t.keys, table: "compartments") {
            let entry = try quantityEntry(name, t[name]!, table: "compartments", kind: "compartment", key: "size") {
                try $0.finiteNumber($1, $2)
            }
            guard entry.number > 0 else {
                throw entry.here.fail("the size of compartment '\(name)' must be > 0, not \(entry.number.plainText).")
            }
            d.compartments.append(
                .init(name: name, size: entry.number, unit: entry.unit, description: entry.description))
        }
        if d.compartments.isEmpty { d.compartments = [.init(name: "cell", size: 1, unit: nil, description: nil)] }
    }

    func readSpecies(_ root: TOMLTable, into d: inout ModelDefinition) throws {
        // A model without species is allowed: parameters with rate rules, observables of time.
        guard let t = try table(root, "species") else { return }
        let compartmentNames = d.compartments.map(\.name)
        for name in locator.fileOrder(of: t.keys, table: "species") {
            try checkName(name, "species", at: place("species"))
            let value = t[name]!
            let what = "species '\(name)'"
            let here = place("species", key: name)
            var species = ModelDefinition.Species(
                name: name, initial: 0, compartment: 0, constant: false, unit: nil, description: nil)
            var compartmentName: String? = nil
            if let entry = value.table {
                try checkKeys(
                    entry,
                    allowed: ["initial", "compartment", "constant", "unit", "description", "may_be_negative", "atol"],
                    "[species] \(name)", at: here)
                guard let initial = entry["initial"] else {
                    throw here.fail("\(what) needs an initial concentration (\(name) = { initial = 0.0 }).")
                }
                species.initial = try here.number(initial, "the initial concentration of \(what)")
                if let c = entry["compartment"] { compartmentName = try here.string(c, "the compartment of \(what)") }
                if let c = entry["constant"] {
                    guard let b = c.bool else {
                        throw here.fail("'constant' of \(what) must be true or false, not \(describe(c)).")
                    }
                    species.constant = b
                }
                if let c = entry["may_be_negative"] {
                    guard let b = c.bool else {
                        throw here.fail("'may_be_negative' of \(what) must be true or false, not \(describe(c)).")
                    }
                    species.mayBeNegative = b
                }
                if let a = entry["atol"] {
                    let x = try here.number(a, "the absolute tolerance of \(what)")
                    guard x.isFinite, x > 0 else {
                        throw here.fail(
                            "the absolute tolerance of \(what) must be a finite number > 0, not \(x.plainText).")
                    }
                    species.absoluteTolerance = x
                }
                if let u = entry["unit"] { species.unit = try here.string(u, "the unit of \(what)") }
                if let s = entry["description"] {
                    species.description = try here.string(s, "the description of \(what)")
                }
            } else {
                species.initial = try here.number(value, "the initial concentration of \(what)")
            }
            guard species.initial.isFinite, species.initial >= 0 || species.mayBeNegative else {
                throw here.fail(
                    "the initial concentration of \(what) must be a finite number ≥ 0, not "
                        + "\(species.initial.plainText)"
                        + (species.initial < 0
                            ? " (declare it with may_be_negative = true if it may be negative)." : "."))
            }
            if let compartmentName {
                guard let index = compartmentNames.firstIndex(of: compartmentName) else {
                    throw here.fail(
                        "\(what) is in compartment '\(compartmentName)', which is not declared in "
                            + "[compartments]\(didYouMean(compartmentName, among: compartmentNames)).")
                }
                species.compartment = index
            } else if d.compartments.count > 1 {
                throw here.fail(
                    "\(what) needs a compartment: the model has \(d.compartments.count) "
                        + "(\(compartmentNames.joined(separator: ", "))).")
            }
            d.species.append(species)
        }
    }

    func readParameters(_ root: TOMLTable, into d: inout ModelDefinition) throws {
        guard let t = try table(root, "parameters") else { return }
        for name in locator.fileOrder(of: t.keys, table: "parameters") {
            // inf, -inf and nan are allowed (SBML allows them); rate constants are checked below.
            let entry = try quantityEntry(name, t[name]!, table: "parameters", kind: "parameter", key: "value") {
                try $0.number($1, $2)
            }
            d.parameters.append(
                .init(name: name, value: entry.number, unit: entry.unit, description: entry.description))
        }
    }

    /// An entry of `[compartments]` or `[parameters]`: `name = number`, or `name = { KEY = number,
    /// unit = "…", description = "…" }`; `read` reads the number (given what it is, for messages).
    private func quantityEntry(
        _ name: String, _ value: TOMLValueConvertible, table: String, kind: String, key: String,
        read: (Place, TOMLValueConvertible, String) throws -> Double
    ) throws -> (number: Double, unit: String?, description: String?, here: Place) {
        try checkName(name, kind, at: place(table))
        let what = "\(kind) '\(name)'"
        let here = place(table, key: name)
        guard let entry = value.table else { return (try read(here, value, "the \(key) of \(what)"), nil, nil, here) }
        try checkKeys(entry, allowed: [key, "unit", "description"], "[\(table)] \(name)", at: here)
        guard let number = entry[key] else {
            throw here.fail("\(what) needs a \(key) (\(name) = { \(key) = 1.0 }).")
        }
        let x = try read(here, number, "the \(key) of \(what)")
        let unit = try entry["unit"].map { try here.string($0, "the unit of \(what)") }
        let description = try entry["description"].map { try here.string($0, "the description of \(what)") }
        return (x, unit, description, here)
    }

    func checkUniqueNames(_ d: ModelDefinition) throws {
        var seen: [String: String] = [:]
        for c in d.compartments { seen[c.name] = "compartment" }
        for s in d.species {
            if let other = seen[s.name] {
                throw place("species", key: s.name).fail(
                    "'\(s.name)' is declared both as a \(other) and as a species; names must be unique.")
            }
            seen[s.name] = "species"
        }
        for p in d.parameters {
            if let other = seen[p.name] {
                throw place("parameters", key: p.name).fail(
                    "'\(p.name)' is declared both as a \(other) and as a parameter; names must be unique.")
            }
            seen[p.name] = "parameter"
        }
    }

    // MARK: Expressions

    /// Parses `text` and checks that every name resolves (observables only among `observableNames`,
    /// given while the observables themselves are read).
    func expression(
        _ text: String, _ what: String, d: ModelDefinition, observableNames: (list: [String], set: Set<String>)? = nil,
        at place: Place
    ) throws -> Expression {
        let parsed: Expression
        do {
            parsed = try ExpressionParser.parse(text)
        } catch let e as ExpressionSyntaxError {
            if e.tooDeep { throw tooDeep(what, e, at: place) }
            throw place.fail(
                "\(what) \"\(text)\" is not a valid expression: \(e.message) at character \(e.offset + 1).")
        }
        let symbols = d.symbolTable
        func isKnown(_ name: String) -> Bool {
            guard let observableNames else { return symbols[name] != nil }
            if case .observable? = symbols[name] { return observableNames.set.contains(name) }
            return symbols[name] != nil || observableNames.set.contains(name)
        }
        for name in parsed.names where !isKnown(name) {
            let observables = observableNames?.list ?? d.observables.map(\.name)
            let known =
                d.species.map(\.name) + d.parameters.map(\.name) + d.compartments.map(\.name) + observables + ["t"]
            throw place.fail(
                "\(what) \"\(text)\" uses '\(name)', which is not a species, parameter, compartment or "
                    + "observable\(didYouMean(name, among: known)).")
        }
        return parsed
    }

    /// An expression or condition nested past `Expression.maximumDepth`; the text itself, which
    /// can be huge, is left out.
    func tooDeep(_ what: String, _ e: ExpressionSyntaxError, at place: Place) -> ModelError {
        place.fail(
            "\(what) is nested more than \(Expression.maximumDepth) levels deep (at character \(e.offset + 1)); "
                + "every parenthesis, function call, power, unary minus, 'not' and operator counts, and "
                + "\(Expression.maximumDepth) is the limit. Long sums and products are fine: write a + b + c without "
                + "parentheses around each term.")
    }

    func expressionValue(_ value: TOMLValueConvertible, _ what: String, d: ModelDefinition, at place: Place) throws
        -> Expression
    {
        if let x = value.double ?? value.int.map(Double.init) {
            guard x.isFinite else { throw place.fail("\(what) must be finite, not \(x).") }
            return .number(x)
        }
        guard let text = value.string else {
            throw place.fail("\(what) must be a number or an expression string, not \(describe(value)).")
        }
        return try expression(text, what, d: d, at: place)
    }

    func readObservables(_ root: TOMLTable, into d: inout ModelDefinition) throws {
        guard let t = try table(root, "observables") else { return }
        let names = locator.fileOrder(of: t.keys, table: "observables")
        for name in names {
            try checkName(name, "observable", at: place("observables"))
            if d.symbol(named: name) != nil {
                throw place("observables", key: name).fail(
                    "'\(name)' is declared both as an observable and as a species, parameter or compartment; names "
                        + "must be unique.")
            }
        }
        let observableNames = (list: names, set: Set(names))
        // Appended all at once: the name index is rebuilt after every change of d.observables.
        var observables: [ModelDefinition.Observable] = []
        observables.reserveCapacity(names.count)
        for name in names {
            let what = "observable '\(name)'"
            let here = place("observables", key: name)
            let (text, unit, description) = try expressionEntry(
                t[name]!, what, at: here, hint: "\(what) needs an expression.", withUnit: true)
            let parsed = try expression(text, what, d: d, observableNames: observableNames, at: here)
            observables.append(.init(name: name, expression: parsed, text: text, unit: unit, description: description))
        }
        d.observables = observables
        // No cycles: depth-first search over observable references, with an explicit path (a
        // chain of observables can be as long as the file).
        let index = Dictionary(observables.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        let references = observables.map { $0.expression.names.compactMap { index[$0] } }
        var state = [UInt8](repeating: 0, count: observables.count)  // 0 new, 1 on path, 2 done
        for root in observables.indices where state[root] == 0 {
            var path: [(observable: Int, next: Int)] = [(root, 0)]
            state[root] = 1
            while let (i, next) = path.last {
                guard next < references[i].count else {
                    state[i] = 2
                    path.removeLast()
                    continue
                }
                path[path.count - 1].next += 1
                let j = references[i][next]
                if state[j] == 1 {
                    let cycle =
                        path.map { observables[$0.observable].name }.drop(while: { $0 != observables[j].name }) + [
                            observables[j].name
                        ]
                    throw place("observables", key: observables[j].name).fail(
                        "observables refer to each other in a cycle: \(cycle.joined(separator: " → ")).")
                }
                if state[j] == 0 {
                    state[j] = 1
                    path.append((j, 0))
                }
            }
        }
    }

    /// `name = "expression"`, a number, or `{ expression = "...", [unit = "...",] description = "..." }`:
    /// the text and the optional fields of an observable or a rate rule.
    func expressionEntry(
        _ value: TOMLValueConvertible, _ what: String, at place: Place, hint: String, withUnit: Bool
    ) throws -> (text: String, unit: String?, description: String?) {
        guard let entry = value.table else {
            if let x = value.double ?? value.int.map(Double.init) { return (x.plainText, nil, nil) }
            return (try place.string(value, what), nil, nil)
        }
        try checkKeys(
            entry, allowed: ["expression"] + (withUnit ? ["unit"] : []) + ["description"],
            "[\(place.table)] \(place.key ?? "")", at: place)
        guard let e = entry["expression"] else { throw place.fail(hint) }
        let text = try place.string(e, "the expression of \(what)")
        let unit = try entry["unit"].map { try place.string($0, "the unit of \(what)") }
        let description = try entry["description"].map { try place.string($0, "the description of \(what)") }
        return (text, unit, description)
    }

    // MARK: Rate rules

    /// `[rate_rules]`: `name = "expression"`, d(name)/dt. A species keeps its place; a parameter
    /// becomes a state variable, moved after the species (`Species.isParameter`).
    func readRateRules(_ root: TOMLTable, into d: inout ModelDefinition) throws {
        guard let t = try table(root, "rate_rules") else { return }
        let names = locator.fileOrder(of: t.keys, table: "rate_rules")
        var rules: [(name: String, text: String, description: String?)] = []
        for name in names {
            let what = "the rate rule of '\(name)'"
            let here = place("rate_rules", key: name)
            let (text, _, description) = try expressionEntry(
                t[name]!, what, at: here,
                hint: "\(what) needs an expression (\(name) = { expression = \"-k * \(name)\" }).", withUnit: false)
            switch d.symbol(named: name) {
            case .species(let i):
                if d.species[i].constant {
                    throw here.fail(
                        "species '\(name)' is constant but has a rate rule; drop 'constant = true' (a rate rule "
                            + "alone decides how it changes).")
                }
            case .parameter: break
            case .compartment:
                throw here.fail(
                    "'\(name)' is a compartment; rate rules can change species and parameters only (compartment "
                        + "sizes are fixed during a run).")
            case .observable:
                throw here.fail(
                    "'\(name)' is an observable, defined by its expression; a rate rule needs a species or parameter.")
            case .time:
                throw here.fail("'t' is time; a rate rule needs a species or parameter.")
            case nil:
                let known = d.species.map(\.name) + d.parameters.map(\.name)
                throw here.fail(
                    "[rate_rules] names '\(name)', which is not a declared species or "
                        + "parameter\(didYouMean(name, among: known)).")
            }
            rules.append((name, text, description))
        }
        // Move the parameters first, so that every rule's expression resolves against the final names.
        var moved = Set<String>()
        let before = d.symbolTable  // d.species changes below, which rebuilds the index
        for rule in rules {
            guard case .parameter(let i)? = before[rule.name] else { continue }
            let p = d.parameters[i]
            moved.insert(p.name)
            d.species.append(
                .init(
                    name: p.name, initial: p.value, compartment: 0, constant: false, unit: p.unit,
                    description: p.description, rateRule: nil, isParameter: true))
        }
        if !moved.isEmpty { d.parameters.removeAll { moved.contains($0.name) } }
        var parsed: [(species: Int, rule: Expression, description: String?)] = []
        let after = d.symbolTable
        for rule in rules {
            guard case .species(let i)? = after[rule.name] else { continue }
            let e = try expression(
                rule.text, "the rate rule of '\(rule.name)'", d: d, at: place("rate_rules", key: rule.name))
            parsed.append((i, e, rule.description))
        }
        for (i, rule, description) in parsed {
            d.species[i].rateRule = rule
            if d.species[i].description == nil { d.species[i].description = description }
        }
    }

    /// Refused before anything the size of n² is allocated (the solver's dense Jacobian).
    func checkStateVariableCount(_ d: ModelDefinition) throws {
        let n = d.species.count
        guard n > ModelDefinition.maximumStateVariables else { return }
        let bytes = Double(n) * Double(n) * 8
        let size = bytes >= 1e9 ? "\(Int((bytes / 1e9).rounded())) GB" : "\(Int((bytes / 1e6).rounded())) MB"
        throw place("species").fail(
            "the model has \(n) state variables (species, and parameters with rate rules), more than the "
                + "\(ModelDefinition.maximumStateVariables) stat3sim accepts: the solver keeps a dense \(n) × \(n) "
                + "Jacobian, which would take \(size).")
    }

    /// The Jacobian differentiates every rate law with the observables it uses written out: that
    /// form must stay within `Expression.maximumDepth` and `ModelDefinition.maximumRateLawSize`.
    func checkRateLawExtent(_ d: ModelDefinition) throws {
        // Observables in the order of their dependencies, each with its written-out extent.
        let symbols = d.symbolTable
        var extents = [(depth: Int, size: Int)?](repeating: nil, count: d.observables.count)
        func extent(_ e: Expression) -> (depth: Int, size: Int) {
            e.extent { name in
                if case .observable(let i)? = symbols[name] { return extents[i]! }
                return (1, 1)
            }
        }
        for i in d.observables.indices where extents[i] == nil {
            // Depth first without recursion (there are no cycles by now).
            var pending = [i]
            while let j = pending.last {
                let missing = d.observables[j].expression.names.compactMap { name -> Int? in
                    if case .observable(let k)? = symbols[name], extents[k] == nil { return k }
                    return nil
                }
                if missing.isEmpty {
                    pending.removeLast()
                    if extents[j] == nil { extents[j] = extent(d.observables[j].expression) }
                } else {
                    pending.append(contentsOf: missing)
                }
            }
        }
        func check(_ e: Expression, _ what: String, at place: Place) throws {
            let (depth, size) = extent(e)
            if depth > Expression.maximumDepth {
                throw place.fail(
                    "\(what), with the observables it uses written out (as the Jacobian differentiates it), is "
                        + "nested \(depth) levels deep; the limit is \(Expression.maximumDepth).")
            }
            if size > ModelDefinition.maximumRateLawSize {
                throw place.fail(
                    "\(what), with the observables it uses written out (as the Jacobian differentiates it), has "
                        + "more than \(ModelDefinition.maximumRateLawSize) operations; observables that use another "
                        + "observable more than once double in size at each step.")
            }
        }
        for (r, reaction) in d.reactions.enumerated() {
            let key: String
            if case .rate = reaction.kinetics { key = "rate" } else { key = "forward" }
            try check(
                ReactionNetwork.ratePerVolume(reaction, in: d), "the rate law of reaction '\(reaction.id)'",
                at: place("reactions", index: r, key: key))
        }
        for s in d.species {
            if let rule = s.rateRule {
                try check(rule, "the rate rule of '\(s.name)'", at: place("rate_rules", key: s.name))
            }
        }
    }

    /// SBML's rule: what a rate rule determines, reactions must not also change.
    func checkRateRuleSpecies(_ d: ModelDefinition) throws {
        for reaction in d.reactions {
            var net: [Int: Double] = [:]
            for (s, c) in reaction.reactants { net[s, default: 0] -= c }
            for (s, c) in reaction.products { net[s, default: 0] += c }
            for (s, change) in net.sorted(by: { $0.key < $1.key }) where change != 0 && d.species[s].rateRule != nil {
                throw place("rate_rules", key: d.species[s].name).fail(
                    "reaction '\(reaction.id)' changes '\(d.species[s].name)', which has a rate rule; a rate rule "
                        + "alone decides how a quantity changes (a reaction may still use it as a catalyst, written on "
                        + "both sides of its equation).")
            }
        }
    }

    // MARK: Reactions

    func readReactions(_ root: TOMLTable, into d: inout ModelDefinition) throws {
        guard let value = root["reactions"] else { return }
        guard let array = value.array else {
            throw place("reactions").fail("reactions must be an array of tables: write each one as [[reactions]].")
        }
        var ids = Set<String>()
        for (index, element) in array.enumerated() {
            let here = place("reactions", index: index)
            guard let t = element.table else {
                throw here.fail("reaction #\(index + 1) must be a table ([[reactions]]).")
            }
            try checkKeys(
                t, allowed: ["id", "equation", "forward", "reverse", "rate", "description"], "reaction #\(index + 1)",
                at: here)
            var id = "R\(index + 1)"
            if let v = t["id"] {
                id = try here.with(key: "id").string(v, "the id of reaction #\(index + 1)")
                try checkName(id, "reaction", at: here.with(key: "id"))
            }
            if !ids.insert(id).inserted {
                throw here.with(key: t["id"] == nil ? nil : "id").fail(
                    "two reactions have the id '\(id)'; ids must be unique.")
            }
            let what = "reaction '\(id)'"
            guard let eq = t["equation"] else {
                throw here.fail("\(what) has no equation (e.g. equation = \"A + B -> C\").")
            }
            let equation = try here.with(key: "equation").string(eq, "the equation of \(what)")
            let parsed = try parseEquation(equation, what, d: d, at: here.with(key: "equation"))
            let kinetics = try readKinetics(t, what, reversible: parsed.reversible, d: d, at: here)
            var description: String? = nil
            if let s = t["description"] {
                description = try here.with(key: "description").string(s, "the description of \(what)")
            }
            d.reactions.append(
                .init(
                    id: id, equation: equation, reactants: parsed.reactants, products: parsed.products,
                    reversible: parsed.reversible, kinetics: kinetics, description: description))
        }
    }

    /// A general `rate`, or mass-action `forward` (and `reverse` for a reversible equation).
    func readKinetics(
        _ t: TOMLTable, _ what: String, reversible: Bool, d: ModelDefinition, at here: Place
    ) throws -> ModelDefinition.Reaction.Kinetics {
        let hasRate = t["rate"] != nil
        let hasForward = t["forward"] != nil
        let hasReverse = t["reverse"] != nil
        if hasRate {
            if hasForward || hasReverse {
                throw here.with(key: "rate").fail(
                    "\(what) has both a general 'rate' and mass-action '\(hasForward ? "forward" : "reverse")'; "
                        + "give one or the other.")
            }
            return .rate(try expressionValue(t["rate"]!, "the rate law of \(what)", d: d, at: here.with(key: "rate")))
        }
        guard hasForward else {
            throw here.fail(
                "\(what) has no kinetics: give a mass-action rate constant 'forward' (and 'reverse' for "
                    + "<->) or a general 'rate'.")
        }
        let forward = try rateConstant(
            t["forward"]!, "the forward rate constant of \(what)", d: d, at: here.with(key: "forward"))
        var reverse: Expression? = nil
        if reversible {
            guard hasReverse else {
                throw here.with(key: "equation").fail("\(what) is reversible (<->) but has no 'reverse' rate constant.")
            }
            reverse = try rateConstant(
                t["reverse"]!, "the reverse rate constant of \(what)", d: d, at: here.with(key: "reverse"))
        } else if hasReverse {
            throw here.with(key: "reverse").fail(
                "\(what) has a 'reverse' rate constant but its equation is irreversible (->); write <-> to "
                    + "make it reversible.")
        }
        return .massAction(forward: forward, reverse: reverse)
    }

    /// A rate constant: number or expression; numbers and plain parameters must be ≥ 0.
    func rateConstant(_ value: TOMLValueConvertible, _ what: String, d: ModelDefinition, at place: Place) throws
        -> Expression
    {
        let e = try expressionValue(value, what, d: d, at: place)
        switch e {
        case .number(let x) where x < 0:
            throw place.fail(
                "\(what) is negative (\(x.plainText)); rate constants must be ≥ 0 (write the reaction the other "
                    + "way round instead).")
        case .name(let n):
            let symbol = d.symbol(named: n)
            var parameter: ModelDefinition.Parameter? = nil
            if case .parameter(let i)? = symbol { parameter = d.parameters[i] }
            if let p = parameter, p.value < 0 {
                throw place.fail(
                    "\(what) is the parameter '\(n)', whose value \(p.value.plainText) is negative; rate "
                        + "constants must be ≥ 0.")
            }
            if let p = parameter, !p.value.isFinite {
                throw place.fail(
                    "\(what) is the parameter '\(n)', whose value \(p.value) is not a finite number; rate constants "
                        + "must be finite and ≥ 0.")
            }
            // A parameter with a rate rule changes during the run; its start must still be valid.
            if case .species(let i)? = symbol, case let p = d.species[i], p.isParameter,
                !(p.initial.isFinite && p.initial >= 0)
            {
                throw place.fail(
                    "\(what) is the parameter '\(n)' (with a rate rule), whose value \(p.initial.plainText) at "
                        + "the start is not a finite number ≥ 0; rate constants must be finite and ≥ 0.")
            }
        default: break
        }
        return e
    }

    struct ParsedEquation {
        var reactants: [(species: Int, coefficient: Double)]
        var products: [(species: Int, coefficient: Double)]
        var reversible: Bool
    }

    func parseEquation(_ equation: String, _ what: String, d: ModelDefinition, at place: Place) throws
        -> ParsedEquation
    {
        let fail = { (why: String) in place.fail("\(what): the equation \"\(equation)\" \(why)") }
        let reversible: Bool
        let parts: [String]
        if equation.contains("<->") {
            reversible = true
            parts = equation.components(separatedBy: "<->")
        } else if equation.contains("->") {
            reversible = false
            parts = equation.components(separatedBy: "->")
        } else {
            throw fail("has no arrow; write \"A + B -> C\" (irreversible) or \"A <-> B\" (reversible).")
        }
        guard parts.count == 2 else { throw fail("has more than one arrow.") }
        let symbols = d.symbolTable
        func side(_ text: String) throws -> [(species: Int, coefficient: Double)] {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { return [] }
            var terms: [(species: Int, coefficient: Double)] = []
            var position: [Int: Int] = [:]  // species → its term
            for raw in trimmed.components(separatedBy: "+") {
                let words = raw.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                var coefficient = 1.0
                var name: String
                switch words.count {
                case 1:
                    name = words[0]
                    // "2A" written without a space
                    if let first = name.first, first.isNumber {
                        throw fail(
                            "has the term '\(name)'; separate a coefficient from the species with a space (\"2 A\").")
                    }
                case 2:
                    guard let c = Double(words[0]), c.isFinite else {
                        throw fail(
                            "has the term '\(raw.trimmingCharacters(in: .whitespaces))'; a term is a species "
                                + "optionally preceded by a number (\"2 A\")."
                        )
                    }
                    guard c > 0 else {
                        throw fail("has the coefficient \(words[0]); stoichiometric coefficients must be > 0.")
                    }
                    coefficient = c
                    name = words[1]
                case 0:
                    throw fail("has an empty term between '+' signs.")
                default:
                    throw fail(
                        "has the term '\(raw.trimmingCharacters(in: .whitespaces))'; a term is a species optionally "
                            + "preceded by a number (\"2 A\")."
                    )
                }
                guard case .species(let s)? = symbols[name] else {
                    throw fail(
                        "names '\(name)', which is not a declared "
                            + "species\(didYouMean(name, among: d.species.map(\.name)))."
                    )
                }
                if let k = position[s] {
                    terms[k].coefficient += coefficient
                } else {
                    position[s] = terms.count
                    terms.append((s, coefficient))
                }
            }
            return terms
        }
        let reactants = try side(parts[0])
        let products = try side(parts[1])
        if reactants.isEmpty && products.isEmpty { throw fail("has no species on either side.") }
        return ParsedEquation(reactants: reactants, products: products, reversible: reversible)
    }

    // MARK: Events, simulation, scenarios

    func readEvents(
        _ value: TOMLValueConvertible?, definition d: ModelDefinition, table: String, tableIndex: Int? = nil,
        place what: (Int) -> String
    ) throws -> [ModelDefinition.Event] {
        guard let value else { return [] }
        guard let array = value.array else {
            throw place(table, index: tableIndex).fail("\(table) must be an array of tables ([[\(table)]]).")
        }
        var events: [ModelDefinition.Event] = []
        for (index, element) in array.enumerated() {
            let where_ = what(index)
            // Model events are [[events]] blocks; scenario events are inline tables on the scenario's lines.
            let here = place(table, index: tableIndex ?? index, key: tableIndex == nil ? nil : "events")
            guard let t = element.table else { throw here.fail("\(where_) must be a table with 'at' and 'set'.") }
            let triggerKeys = [
                "when", "initial_value", "persistent", "delay", "use_values_from_trigger_time", "priority",
            ]
            try checkKeys(t, allowed: ["at", "set", "description"] + triggerKeys, where_, at: here.with(key: nil))
            var times: [Double] = []
            var trigger: ModelDefinition.Event.Trigger? = nil
            if t["at"] != nil && t["when"] != nil {
                throw here.child(key: "when").fail("\(where_) has both a time 'at' and a condition 'when'; give one.")
            }
            if let when = t["when"] {
                trigger = try readTrigger(t, when, where_, d: d, at: here)
            } else if let key = triggerKeys.first(where: { t[$0] != nil }) {
                throw here.child(key: key).fail(
                    "\(where_) has '\(key)', which belongs to a state event; add a condition 'when' or drop it.")
            } else {
                times = try readTimes(t, where_, d: d, at: here)
            }
            let assignments = try readAssignments(t, where_, d: d, at: here)
            var description: String? = nil
            if let s = t["description"] {
                description = try here.with(key: "description").string(s, "the description of \(where_)")
            }
            events.append(.init(times: times, assignments: assignments, description: description, trigger: trigger))
        }
        return events
    }

    /// The time 'at' of a timed event: a number or a list of numbers, within the run.
    func readTimes(_ t: TOMLTable, _ where_: String, d: ModelDefinition, at here: Place) throws -> [Double] {
        guard let at = t["at"] else {
            throw here.fail("\(where_) has no time 'at' (a number or a list of numbers) and no condition 'when'.")
        }
        let place = here.child(key: "at")
        let times: [Double]
        if let list = at.array {
            times = try list.map { try place.finiteNumber($0, "each time in 'at' of \(where_)") }
            if times.isEmpty { throw place.fail("\(where_) has an empty list of times 'at'.") }
        } else {
            times = [try place.finiteNumber(at, "the time 'at' of \(where_)")]
        }
        let sim = d.simulation
        for time in times where time < sim.tStart || time > sim.tEnd {
            throw place.fail(
                "\(where_) happens at t = \(time.plainText), outside the run "
                    + "[\(sim.tStart.plainText), \(sim.tEnd.plainText)].")
        }
        return times
    }

    /// The condition and SBML attributes of a state event.
    func readTrigger(
        _ t: TOMLTable, _ when: TOMLValueConvertible, _ where_: String, d: ModelDefinition, at here: Place
    ) throws -> ModelDefinition.Event.Trigger {
        let place = here.child(key: "when")
        let text = try place.string(when, "the condition 'when' of \(where_)")
        let condition: Condition
        do {
            condition = try ExpressionParser.parseCondition(text)
        } catch let e as ExpressionSyntaxError {
            if e.tooDeep { throw tooDeep("the condition 'when' of \(where_)", e, at: place) }
            throw place.fail(
                "the condition 'when' of \(where_) \"\(text)\" is not a valid condition: \(e.message) at character "
                    + "\(e.offset + 1).")
        }
        let symbols = d.symbolTable
        for name in condition.names where symbols[name] == nil {
            let known =
                d.species.map(\.name) + d.parameters.map(\.name) + d.compartments.map(\.name)
                + d.observables.map(\.name) + ["t"]
            throw place.fail(
                "the condition 'when' of \(where_) \"\(text)\" uses '\(name)', which is not a species, parameter, "
                    + "compartment or observable\(didYouMean(name, among: known)).")
        }
        // An equality of quantities that change only at events is well defined (it can change only
        // where triggers are evaluated anyway); of continuous ones it holds only at an instant.
        if let equality = condition.comparisons.first(where: {
            ($0.relation == .equal || $0.relation == .notEqual) && !d.changesOnlyAtEvents(.subtract($0.left, $0.right))
        }) {
            throw place.fail(
                "the condition 'when' of \(where_) compares with '\(equality.relation.rawValue)'; state events are "
                    + "found where a comparison changes between solver steps, which an equality of two continuous "
                    + "quantities does not do (write a crossing, e.g. \"\(ExpressionText.text(equality.left)) >= "
                    + "\(ExpressionText.text(equality.right))\"; equalities of parameters, sizes and boundary species, "
                    + "which change only at events, are allowed).")
        }
        var trigger = ModelDefinition.Event.Trigger(condition: condition)
        func flag(_ name: String) throws -> Bool? {
            guard let v = t[name] else { return nil }
            guard let b = v.bool else {
                throw here.child(key: name).fail("'\(name)' of \(where_) must be true or false, not \(describe(v)).")
            }
            return b
        }
        if let b = try flag("initial_value") { trigger.initialValue = b }
        if let b = try flag("persistent") { trigger.persistent = b }
        if let b = try flag("use_values_from_trigger_time") { trigger.useValuesFromTriggerTime = b }
        if let v = t["delay"] {
            let place = here.child(key: "delay")
            let delay = try expressionValue(v, "the delay of \(where_)", d: d, at: place)
            if case .number(let x) = delay, x < 0 {
                throw place.fail("the delay of \(where_) is negative (\(x.plainText)); a delay must be ≥ 0.")
            }
            if delay != .number(0) { trigger.delay = delay }
        }
        if let v = t["priority"] {
            trigger.priority = try expressionValue(
                v, "the priority of \(where_)", d: d, at: here.child(key: "priority"))
        }
        return trigger
    }

    func readAssignments(_ t: TOMLTable, _ where_: String, d: ModelDefinition, at here: Place) throws
        -> [ModelDefinition.Assignment]
    {
        guard let setValue = t["set"] else {
            throw here.fail("\(where_) has no assignments 'set' (e.g. set = { IL6 = 0 }).")
        }
        let place = here.child(key: "set")
        guard let set = setValue.table, !set.isEmpty else {
            throw place.fail("'set' of \(where_) must be a non-empty table of assignments.")
        }
        var assignments: [ModelDefinition.Assignment] = []
        for target in set.keys {
            let kind: ModelDefinition.Assignment.Target
            switch d.symbol(named: target) {
            case .species(let i): kind = .species(i)
            case .parameter(let i): kind = .parameter(i)
            case .compartment, .observable, .time:
                throw place.fail(
                    "\(where_) sets '\(target)', which is not a species or parameter; events can set only species "
                        + "and parameters.")
            case nil:
                let names = d.species.map(\.name) + d.parameters.map(\.name)
                throw place.fail(
                    "\(where_) sets '\(target)', which is not a species or "
                        + "parameter\(didYouMean(target, among: names)).")
            }
            let e = try expressionValue(set[target]!, "the value set for '\(target)' by \(where_)", d: d, at: place)
            assignments.append(.init(target: kind, targetName: target, expression: e))
        }
        return assignments
    }

    func readSimulation(_ root: TOMLTable, into d: inout ModelDefinition) throws {
        guard let t = try table(root, "simulation") else { return }
        let simulation = place("simulation")
        let allowed = ["t_start", "t_end", "output_interval", "output_times", "rtol", "atol"]
        try checkKeys(t, allowed: allowed, "[simulation]", at: simulation)
        func time(_ key: String) throws -> Double? {
            try t[key].map { try simulation.with(key: key).finiteNumber($0, "[simulation] \(key)") }
        }
        var s = ModelDefinition.Simulation()
        if let x = try time("t_start") { s.tStart = x }
        if let x = try time("t_end") { s.tEnd = x }
        guard s.tEnd > s.tStart else {
            throw simulation.with(key: "t_end").fail(
                "[simulation] t_end (\(s.tEnd.plainText)) must be later than t_start (\(s.tStart.plainText)).")
        }
        let outputTimes = simulation.with(key: "output_times")
        if t["output_interval"] != nil && t["output_times"] != nil {
            throw outputTimes.fail("[simulation] gives both output_interval and output_times; give one.")
        }
        if let dt = try time("output_interval") {
            guard dt > 0 else {
                throw simulation.with(key: "output_interval").fail(
                    "[simulation] output_interval must be > 0, not \(dt.plainText).")
            }
            s.outputInterval = dt
        }
        if let v = t["output_times"] {
            guard let array = v.array, !array.isEmpty else {
                throw outputTimes.fail("[simulation] output_times must be a non-empty array of times.")
            }
            let times = try array.map { try outputTimes.finiteNumber($0, "each of [simulation] output_times") }
            for (a, b) in zip(times, times.dropFirst()) where !(b > a) {
                throw outputTimes.fail(
                    "[simulation] output_times must be strictly ascending; \(b.plainText) follows "
                        + "\(a.plainText).")
            }
            for time in times where time < s.tStart || time > s.tEnd {
                throw outputTimes.fail(
                    "[simulation] output time \(time.plainText) lies outside the run [\(s.tStart.plainText), "
                        + "\(s.tEnd.plainText)].")
            }
            s.explicitOutputTimes = times
        }
        for key in ["rtol", "atol"] {
            guard let x = try time(key) else { continue }
            guard x > 0 else {
                throw simulation.with(key: key).fail("[simulation] \(key) must be > 0, not \(x.plainText).")
            }
            if key == "rtol" { s.rtol = x } else { s.atol = x }
        }
        d.simulation = s
    }

    /// The `[sweep]` table in the sweep's own types, each value judged here with its line. Checks
    /// that need the command line as well (grid or sampled ranges, names the model can vary) are
    /// the sweep's, which finds the line in `lines`.
    func readSweep(_ root: TOMLTable, into d: inout ModelDefinition) throws {
        guard let t = try table(root, "sweep") else { return }
        let sweep = place("sweep")
        try checkKeys(
            t, allowed: ["vary", "samples", "method", "seed", "points", "scenario", "metrics", "t_end", "out"],
            "[sweep]", at: sweep)
        func entries<Value>(_ key: String, _ parse: (String) throws -> Value) throws -> [Value] {
            guard let v = t[key] else { return [] }
            let here = sweep.with(key: key)
            guard let array = v.array else {
                throw here.fail("[sweep] \(key) must be an array of strings, e.g. \(key) = [\"...\"].")
            }
            return try array.map { element in
                let text = try here.string(element, "each of [sweep] \(key)")
                do { return try parse(text) } catch let e as SweepSyntaxError {
                    throw here.fail("[sweep] \(key) \(quoted(text, limit: 80)): \(e.message)")
                }
            }
        }
        func integer(_ key: String) throws -> Int? {
            guard let v = t[key] else { return nil }
            guard let i = v.int else {
                throw sweep.with(key: key).fail("[sweep] \(key) must be a whole number, not \(describe(v)).")
            }
            return i
        }
        func text(_ key: String) throws -> String? {
            try t[key].map { try sweep.with(key: key).string($0, "[sweep] \(key)") }
        }
        var s = ModelDefinition.Sweep()
        for key in t.keys { s.lines[key] = locator.line(table: "sweep", key: key) }
        s.vary = try entries("vary") { try SweepRange(parsing: $0) }
        s.metrics = try entries("metrics") { try MetricSpec(parsing: $0) }
        s.samples = try integer("samples")
        if let seed = try integer("seed") {
            guard seed >= 0 else {
                throw sweep.with(key: "seed").fail("[sweep] seed = \(seed): a seed must be a whole number ≥ 0.")
            }
            s.seed = UInt64(seed)
        }
        if let method = try text("method") {
            do { s.method = try SamplingMethod(parsing: method) } catch let e as SweepSyntaxError {
                throw sweep.with(key: "method").fail("[sweep] method = \(quoted(method)): \(e.message)")
            }
        }
        s.points = try text("points")
        s.scenario = try text("scenario").map(ScenarioSelection.init(parsing:))
        s.out = try text("out")
        if let v = t["t_end"] { s.tEnd = try sweep.with(key: "t_end").finiteNumber(v, "[sweep] t_end") }
        d.sweep = s
    }

    func readScenarios(_ root: TOMLTable, into d: inout ModelDefinition) throws {
        guard let value = root["scenarios"] else { return }
        guard let array = value.array else {
            throw place("scenarios").fail("scenarios must be an array of tables: write each one as [[scenarios]].")
        }
        for (index, element) in array.enumerated() {
            let here = place("scenarios", index: index)
            guard let t = element.table else {
                throw here.fail("scenario #\(index + 1) must be a table ([[scenarios]]).")
            }
            try checkKeys(
                t, allowed: ["name", "description", "parameters", "initial", "compartments", "events"],
                "scenario #\(index + 1)", at: here)
            guard let n = t["name"] else { throw here.fail("scenario #\(index + 1) has no name.") }
            let name = try here.with(key: "name").string(n, "the name of scenario #\(index + 1)")
            if d.scenarios.contains(where: { $0.name == name }) {
                throw here.with(key: "name").fail("two scenarios are named '\(name)'; scenario names must be unique.")
            }
            let what = "scenario '\(name)'"
            var scenario = ModelDefinition.Scenario(
                name: name, description: nil, parameters: [], initial: [], compartments: [], events: [])
            if let s = t["description"] {
                scenario.description = try here.with(key: "description").string(s, "the description of \(what)")
            }
            func values(_ key: String, _ candidates: [String], _ kind: String) throws -> [(index: Int, value: Double)] {
                guard let v = t[key] else { return [] }
                let place = here.with(key: key)
                guard let table = v.table else {
                    throw place.fail("'\(key)' of \(what) must be a table (\(key) = { name = value }).")
                }
                var result: [(index: Int, value: Double)] = []
                let position = Dictionary(candidates.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
                for k in table.keys {
                    guard let i = position[k] else {
                        throw place.fail(
                            "\(what) sets \(kind) '\(k)', which is not declared\(didYouMean(k, among: candidates)).")
                    }
                    result.append((i, try place.finiteNumber(table[k]!, "the value of '\(k)' in \(what)")))
                }
                return result
            }
            // A parameter with a rate rule is a state variable: its scenario value is an initial value.
            let stateParameters = d.species.indices.filter { d.species[$0].isParameter }
            let parameterValues = try values(
                "parameters", d.parameters.map(\.name) + stateParameters.map { d.species[$0].name }, "parameter")
            scenario.parameters = parameterValues.filter { $0.index < d.parameters.count }
            scenario.initial =
                try values("initial", d.species.map(\.name), "the initial concentration of species")
                + parameterValues.filter { $0.index >= d.parameters.count }.map {
                    (stateParameters[$0.index - d.parameters.count], $0.value)
                }
            for (i, x) in scenario.initial where x < 0 && !d.species[i].isParameter && !d.species[i].mayBeNegative {
                throw here.with(key: "initial").fail(
                    "\(what) gives species '\(d.species[i].name)' the negative initial concentration "
                        + "\(x.plainText).")
            }
            scenario.compartments = try values("compartments", d.compartments.map(\.name), "the size of compartment")
            for (i, x) in scenario.compartments where x <= 0 {
                throw here.with(key: "compartments").fail(
                    "\(what) gives compartment '\(d.compartments[i].name)' the size \(x.plainText); sizes must "
                        + "be > 0.")
            }
            scenario.events = try readEvents(
                t["events"], definition: d, table: "scenarios", tableIndex: index,
                place: { "event #\($0 + 1) of \(what)" })
            d.scenarios.append(scenario)
        }
    }
}

/// Where in the file a value is read: the table, the element of an array of tables and the key,
/// from which a refusal's line number is looked up. Reads of typed values refuse through it, so
/// each check is one line.
private struct Place {
    let table: String
    let index: Int?
    let key: String?
    let file: String
    let locator: SourceLocator

    func fail(_ message: String) -> ModelError {
        ModelError(file: file, line: locator.line(table: table, index: index, key: key), message: message)
    }

    /// `key` within this place. A key already set stays: it is an inline table, whose keys are all on its line.
    func child(key: String) -> Place { with(key: self.key ?? key) }

    /// This table and element, at exactly `key`.
    func with(key: String?) -> Place { Place(table: table, index: index, key: key, file: file, locator: locator) }

    func number(_ value: TOMLValueConvertible, _ what: String) throws -> Double {
        if let d = value.double { return d }
        if let i = value.int { return Double(i) }
        throw fail("\(what) must be a number, not \(describe(value)).")
    }

    func finiteNumber(_ value: TOMLValueConvertible, _ what: String) throws -> Double {
        let x = try number(value, what)
        guard x.isFinite else { throw fail("\(what) must be a finite number, not \(x).") }
        return x
    }

    func string(_ value: TOMLValueConvertible, _ what: String) throws -> String {
        if let s = value.string { return s }
        throw fail("\(what) must be a string, not \(describe(value)).")
    }
}

/// A TOML value as a refusal names it.
private func describe(_ value: TOMLValueConvertible) -> String {
    switch value.type {
    case .string: return "the string \"\(value.string ?? "")\""
    case .int: return "the integer \(value.int ?? 0)"
    case .double: return "the number \(value.double ?? 0)"
    case .bool: return "the boolean \(value.bool ?? false)"
    case .table: return "a table"
    case .array: return "an array"
    default: return "a date or time"
    }
}
