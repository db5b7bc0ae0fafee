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

    func error(_ message: String, table: String, index: Int? = nil, key: String? = nil) -> ModelError {
        ModelError(file: file, line: locator.line(table: table, index: index, key: key), message: message)
    }

    /// Unknown keys are errors; `key` locates an inline table (its own keys are on that line).
    func checkKeys(
        _ table: TOMLTable, allowed: [String], place: String, table tableName: String, index: Int? = nil,
        key entryKey: String? = nil
    ) throws {
        for key in table.keys where !allowed.contains(key) {
            throw error(
                "\(place) has an unknown key '\(key)'\(didYouMean(key, among: allowed)); the keys allowed here are "
                    + "\(allowed.joined(separator: ", ")).",
                table: tableName, index: index, key: entryKey ?? key)
        }
    }

    func number(_ value: TOMLValueConvertible, _ place: String, table: String, index: Int? = nil, key: String) throws
        -> Double
    {
        if let d = value.double { return d }
        if let i = value.int { return Double(i) }
        throw error("\(place) must be a number, not \(describe(value)).", table: table, index: index, key: key)
    }

    func finiteNumber(_ value: TOMLValueConvertible, _ place: String, table: String, index: Int? = nil, key: String)
        throws -> Double
    {
        let x = try number(value, place, table: table, index: index, key: key)
        guard x.isFinite else {
            throw error("\(place) must be a finite number, not \(x).", table: table, index: index, key: key)
        }
        return x
    }

    func string(_ value: TOMLValueConvertible, _ place: String, table: String, index: Int? = nil, key: String) throws
        -> String
    {
        if let s = value.string { return s }
        throw error("\(place) must be a string, not \(describe(value)).", table: table, index: index, key: key)
    }

    func describe(_ value: TOMLValueConvertible) -> String {
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

    func checkName(_ name: String, _ kind: String, table: String, index: Int? = nil, key: String? = nil) throws {
        guard isIdentifier(name) else {
            throw error(
                "the \(kind) name '\(name)' is not usable in expressions: names start with a letter or '_' and "
                    + "contain only ASCII letters, digits and '_'.",
                table: table, index: index, key: key ?? name)
        }
        guard name != "t" else {
            throw error(
                "'t' is reserved for time and cannot name a \(kind).", table: table, index: index, key: key ?? name)
        }
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
            throw error(
                "unknown \(isTable ? "table [\(key)]" : "top-level key '\(key)'")\(suggestion); a model file has the "
                    + "tables \(Loader.topLevelTables.map { "[\($0)]" }.joined(separator: ", ")).",
                table: isTable ? key : "", key: isTable ? nil : key)
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
        return definition
    }

    func table(_ root: TOMLTable, _ name: String) throws -> TOMLTable? {
        guard let value = root[name] else { return nil }
        guard let t = value.table else {
            throw error("[\(name)] must be a table, not \(describe(value)).", table: "", key: name)
        }
        return t
    }

    func readModelTable(_ root: TOMLTable, into d: inout ModelDefinition) throws {
        guard let t = try table(root, "model") else { return }
        try checkKeys(
            t, allowed: ["name", "time_unit", "concentration_unit", "description", "references"], place: "[model]",
            table: "model")
        if let v = t["name"] { d.name = try string(v, "[model] name", table: "model", key: "name") }
        if let v = t["time_unit"] { d.timeUnit = try string(v, "[model] time_unit", table: "model", key: "time_unit") }
        if let v = t["concentration_unit"] {
            d.concentrationUnit = try string(v, "[model] concentration_unit", table: "model", key: "concentration_unit")
        }
        if let v = t["description"] {
            d.description = try string(v, "[model] description", table: "model", key: "description")
        }
        if let v = t["references"] {
            guard let array = v.array else {
                throw error("[model] references must be an array of strings.", table: "model", key: "references")
            }
            d.references = try array.map {
                try string($0, "each of [model] references", table: "model", key: "references")
            }
        }
    }

    func readCompartments(_ root: TOMLTable, into d: inout ModelDefinition) throws {
        guard let t = try table(root, "compartments") else {
            d.compartments = [.init(name: "cell", size: 1, unit: nil, description: nil)]
            return
        }
        for name in locator.fileOrder(of: t.keys, table: "compartments") {
            try checkName(name, "compartment", table: "compartments")
            let value = t[name]!
            var compartment = ModelDefinition.Compartment(name: name, size: 1, unit: nil, description: nil)
            let place = "compartment '\(name)'"
            if let entry = value.table {
                try checkKeys(
                    entry, allowed: ["size", "unit", "description"], place: "[compartments] \(name)",
                    table: "compartments", key: name)
                guard let size = entry["size"] else {
                    throw error("\(place) needs a size (\(name) = { size = 1.0 }).", table: "compartments", key: name)
                }
                compartment.size = try finiteNumber(size, "the size of \(place)", table: "compartments", key: name)
                if let u = entry["unit"] {
                    compartment.unit = try string(u, "the unit of \(place)", table: "compartments", key: name)
                }
                if let s = entry["description"] {
                    compartment.description = try string(
                        s, "the description of \(place)", table: "compartments", key: name)
                }
            } else {
                compartment.size = try finiteNumber(value, "the size of \(place)", table: "compartments", key: name)
            }
            guard compartment.size > 0 else {
                throw error(
                    "the size of \(place) must be > 0, not \(formatNumber(compartment.size)).", table: "compartments",
                    key: name)
            }
            d.compartments.append(compartment)
        }
        if d.compartments.isEmpty { d.compartments = [.init(name: "cell", size: 1, unit: nil, description: nil)] }
    }

    func readSpecies(_ root: TOMLTable, into d: inout ModelDefinition) throws {
        // A model without species is allowed: parameters with rate rules, observables of time.
        guard let t = try table(root, "species") else { return }
        let compartmentNames = d.compartments.map(\.name)
        for name in locator.fileOrder(of: t.keys, table: "species") {
            try checkName(name, "species", table: "species")
            let value = t[name]!
            let place = "species '\(name)'"
            var species = ModelDefinition.Species(
                name: name, initial: 0, compartment: 0, constant: false, unit: nil, description: nil)
            var compartmentName: String? = nil
            if let entry = value.table {
                try checkKeys(
                    entry, allowed: ["initial", "compartment", "constant", "unit", "description"],
                    place: "[species] \(name)", table: "species", key: name)
                guard let initial = entry["initial"] else {
                    throw error(
                        "\(place) needs an initial concentration (\(name) = { initial = 0.0 }).", table: "species",
                        key: name)
                }
                species.initial = try number(
                    initial, "the initial concentration of \(place)", table: "species", key: name)
                if let c = entry["compartment"] {
                    compartmentName = try string(c, "the compartment of \(place)", table: "species", key: name)
                }
                if let c = entry["constant"] {
                    guard let b = c.bool else {
                        throw error(
                            "'constant' of \(place) must be true or false, not \(describe(c)).", table: "species",
                            key: name)
                    }
                    species.constant = b
                }
                if let u = entry["unit"] {
                    species.unit = try string(u, "the unit of \(place)", table: "species", key: name)
                }
                if let s = entry["description"] {
                    species.description = try string(s, "the description of \(place)", table: "species", key: name)
                }
            } else {
                species.initial = try number(
                    value, "the initial concentration of \(place)", table: "species", key: name)
            }
            guard species.initial.isFinite, species.initial >= 0 else {
                throw error(
                    "the initial concentration of \(place) must be a finite number ≥ 0, not "
                        + "\(formatNumber(species.initial)).",
                    table: "species", key: name)
            }
            if let compartmentName {
                guard let index = compartmentNames.firstIndex(of: compartmentName) else {
                    throw error(
                        "\(place) is in compartment '\(compartmentName)', which is not declared in "
                            + "[compartments]\(didYouMean(compartmentName, among: compartmentNames)).",
                        table: "species", key: name)
                }
                species.compartment = index
            } else if d.compartments.count > 1 {
                throw error(
                    "\(place) needs a compartment: the model has \(d.compartments.count) "
                        + "(\(compartmentNames.joined(separator: ", "))).",
                    table: "species", key: name)
            }
            d.species.append(species)
        }
    }

    func readParameters(_ root: TOMLTable, into d: inout ModelDefinition) throws {
        guard let t = try table(root, "parameters") else { return }
        for name in locator.fileOrder(of: t.keys, table: "parameters") {
            try checkName(name, "parameter", table: "parameters")
            let value = t[name]!
            let place = "parameter '\(name)'"
            var parameter = ModelDefinition.Parameter(name: name, value: 0, unit: nil, description: nil)
            if let entry = value.table {
                try checkKeys(
                    entry, allowed: ["value", "unit", "description"], place: "[parameters] \(name)",
                    table: "parameters", key: name)
                guard let v = entry["value"] else {
                    throw error("\(place) needs a value (\(name) = { value = 1.0 }).", table: "parameters", key: name)
                }
                parameter.value = try number(v, "the value of \(place)", table: "parameters", key: name)
                if let u = entry["unit"] {
                    parameter.unit = try string(u, "the unit of \(place)", table: "parameters", key: name)
                }
                if let s = entry["description"] {
                    parameter.description = try string(s, "the description of \(place)", table: "parameters", key: name)
                }
            } else {
                // inf, -inf and nan are allowed (SBML allows them); rate constants are checked below.
                parameter.value = try number(value, "the value of \(place)", table: "parameters", key: name)
            }
            d.parameters.append(parameter)
        }
    }

    func checkUniqueNames(_ d: ModelDefinition) throws {
        var seen: [String: String] = [:]
        for c in d.compartments { seen[c.name] = "compartment" }
        for s in d.species {
            if let other = seen[s.name] {
                throw error(
                    "'\(s.name)' is declared both as a \(other) and as a species; names must be unique.",
                    table: "species", key: s.name)
            }
            seen[s.name] = "species"
        }
        for p in d.parameters {
            if let other = seen[p.name] {
                throw error(
                    "'\(p.name)' is declared both as a \(other) and as a parameter; names must be unique.",
                    table: "parameters", key: p.name)
            }
            seen[p.name] = "parameter"
        }
    }

    // MARK: Expressions

    /// Parses `text` and checks that every name resolves (observables only among `observableNames`,
    /// given while the observables themselves are read).
    func expression(
        _ text: String, _ place: String, d: ModelDefinition, observableNames: (list: [String], set: Set<String>)? = nil,
        table: String, index: Int? = nil, key: String?
    ) throws -> Expression {
        let parsed: Expression
        do {
            parsed = try ExpressionParser.parse(text)
        } catch let e as ExpressionSyntaxError {
            if e.tooDeep { throw tooDeep(place, e, table: table, index: index, key: key) }
            throw error(
                "\(place) \"\(text)\" is not a valid expression: \(e.message) at character \(e.offset + 1).",
                table: table, index: index, key: key)
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
            throw error(
                "\(place) \"\(text)\" uses '\(name)', which is not a species, parameter, compartment or "
                    + "observable\(didYouMean(name, among: known)).",
                table: table, index: index, key: key)
        }
        return parsed
    }

    /// An expression or condition nested past `Expression.maximumDepth`; the text itself, which
    /// can be huge, is left out.
    func tooDeep(_ place: String, _ e: ExpressionSyntaxError, table: String, index: Int?, key: String?) -> ModelError {
        error(
            "\(place) is nested more than \(Expression.maximumDepth) levels deep (at character \(e.offset + 1)); "
                + "every parenthesis, function call, power, unary minus, 'not' and operator counts, and "
                + "\(Expression.maximumDepth) is the limit. Long sums and products are fine: write a + b + c without "
                + "parentheses around each term.",
            table: table, index: index, key: key)
    }

    func expressionValue(
        _ value: TOMLValueConvertible, _ place: String, d: ModelDefinition, table: String, index: Int? = nil,
        key: String
    ) throws -> Expression {
        if let x = value.double ?? value.int.map(Double.init) {
            guard x.isFinite else {
                throw error("\(place) must be finite, not \(x).", table: table, index: index, key: key)
            }
            return .number(x)
        }
        guard let text = value.string else {
            throw error(
                "\(place) must be a number or an expression string, not \(describe(value)).", table: table,
                index: index, key: key)
        }
        return try expression(text, place, d: d, table: table, index: index, key: key)
    }

    func readObservables(_ root: TOMLTable, into d: inout ModelDefinition) throws {
        guard let t = try table(root, "observables") else { return }
        let names = locator.fileOrder(of: t.keys, table: "observables")
        for name in names {
            try checkName(name, "observable", table: "observables")
            if d.symbol(named: name) != nil {
                throw error(
                    "'\(name)' is declared both as an observable and as a species, parameter or compartment; names "
                        + "must be unique.",
                    table: "observables", key: name)
            }
        }
        let observableNames = (list: names, set: Set(names))
        // Appended all at once: the name index is rebuilt after every change of d.observables.
        var observables: [ModelDefinition.Observable] = []
        observables.reserveCapacity(names.count)
        for name in names {
            let place = "observable '\(name)'"
            let (text, unit, description) = try expressionEntry(
                t[name]!, place, table: "observables", key: name,
                hint: "\(place) needs an expression.", withUnit: true)
            let parsed = try expression(
                text, place, d: d, observableNames: observableNames, table: "observables", key: name)
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
                    throw error(
                        "observables refer to each other in a cycle: \(cycle.joined(separator: " → ")).",
                        table: "observables", key: observables[j].name)
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
        _ value: TOMLValueConvertible, _ place: String, table: String, key: String, hint: String,
        withUnit: Bool
    ) throws -> (text: String, unit: String?, description: String?) {
        guard let entry = value.table else {
            if let x = value.double ?? value.int.map(Double.init) { return (formatNumber(x), nil, nil) }
            return (try string(value, place, table: table, key: key), nil, nil)
        }
        try checkKeys(
            entry, allowed: ["expression"] + (withUnit ? ["unit"] : []) + ["description"], place: "[\(table)] \(key)",
            table: table, key: key)
        guard let e = entry["expression"] else { throw error(hint, table: table, key: key) }
        let text = try string(e, "the expression of \(place)", table: table, key: key)
        let unit = try entry["unit"].map { try string($0, "the unit of \(place)", table: table, key: key) }
        let description = try entry["description"].map {
            try string($0, "the description of \(place)", table: table, key: key)
        }
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
            let place = "the rate rule of '\(name)'"
            let (text, _, description) = try expressionEntry(
                t[name]!, place, table: "rate_rules", key: name,
                hint: "\(place) needs an expression (\(name) = { expression = \"-k * \(name)\" }).", withUnit: false)
            switch d.symbol(named: name) {
            case .species(let i):
                if d.species[i].constant {
                    throw error(
                        "species '\(name)' is constant but has a rate rule; drop 'constant = true' (a rate rule "
                            + "alone decides how it changes).",
                        table: "rate_rules", key: name)
                }
            case .parameter: break
            case .compartment:
                throw error(
                    "'\(name)' is a compartment; rate rules can change species and parameters only (compartment "
                        + "sizes are fixed during a run).",
                    table: "rate_rules", key: name)
            case .observable:
                throw error(
                    "'\(name)' is an observable, defined by its expression; a rate rule needs a species or parameter.",
                    table: "rate_rules", key: name)
            case .time:
                throw error("'t' is time; a rate rule needs a species or parameter.", table: "rate_rules", key: name)
            case nil:
                let known = d.species.map(\.name) + d.parameters.map(\.name)
                throw error(
                    "[rate_rules] names '\(name)', which is not a declared species or "
                        + "parameter\(didYouMean(name, among: known)).",
                    table: "rate_rules", key: name)
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
                rule.text, "the rate rule of '\(rule.name)'", d: d, table: "rate_rules", key: rule.name)
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
        throw error(
            "the model has \(n) state variables (species, and parameters with rate rules), more than the "
                + "\(ModelDefinition.maximumStateVariables) stat3sim accepts: the solver keeps a dense \(n) × \(n) "
                + "Jacobian, which would take \(size).",
            table: "species")
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
        func check(_ e: Expression, _ place: String, table: String, index: Int? = nil, key: String) throws {
            let (depth, size) = extent(e)
            if depth > Expression.maximumDepth {
                throw error(
                    "\(place), with the observables it uses written out (as the Jacobian differentiates it), is "
                        + "nested \(depth) levels deep; the limit is \(Expression.maximumDepth).",
                    table: table, index: index, key: key)
            }
            if size > ModelDefinition.maximumRateLawSize {
                throw error(
                    "\(place), with the observables it uses written out (as the Jacobian differentiates it), has "
                        + "more than \(ModelDefinition.maximumRateLawSize) operations; observables that use another "
                        + "observable more than once double in size at each step.",
                    table: table, index: index, key: key)
            }
        }
        for (r, reaction) in d.reactions.enumerated() {
            let key: String
            if case .rate = reaction.kinetics { key = "rate" } else { key = "forward" }
            try check(
                ReactionNetwork.ratePerVolume(reaction, in: d), "the rate law of reaction '\(reaction.id)'",
                table: "reactions", index: r, key: key)
        }
        for s in d.species {
            if let rule = s.rateRule {
                try check(rule, "the rate rule of '\(s.name)'", table: "rate_rules", key: s.name)
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
                throw error(
                    "reaction '\(reaction.id)' changes '\(d.species[s].name)', which has a rate rule; a rate rule "
                        + "alone decides how a quantity changes (a reaction may still use it as a catalyst, written on "
                        + "both sides of its equation).",
                    table: "rate_rules", key: d.species[s].name)
            }
        }
    }

    // MARK: Reactions

    func readReactions(_ root: TOMLTable, into d: inout ModelDefinition) throws {
        guard let value = root["reactions"] else { return }
        guard let array = value.array else {
            throw error("reactions must be an array of tables: write each one as [[reactions]].", table: "reactions")
        }
        var ids = Set<String>()
        for (index, element) in array.enumerated() {
            guard let t = element.table else {
                throw error("reaction #\(index + 1) must be a table ([[reactions]]).", table: "reactions", index: index)
            }
            try checkKeys(
                t, allowed: ["id", "equation", "forward", "reverse", "rate", "description"],
                place: "reaction #\(index + 1)", table: "reactions", index: index)
            var id = "R\(index + 1)"
            if let v = t["id"] {
                id = try string(v, "the id of reaction #\(index + 1)", table: "reactions", index: index, key: "id")
                try checkName(id, "reaction", table: "reactions", index: index, key: "id")
            }
            if !ids.insert(id).inserted {
                throw error(
                    "two reactions have the id '\(id)'; ids must be unique.", table: "reactions", index: index,
                    key: t["id"] == nil ? nil : "id")
            }
            let place = "reaction '\(id)'"
            guard let eq = t["equation"] else {
                throw error(
                    "\(place) has no equation (e.g. equation = \"A + B -> C\").", table: "reactions", index: index)
            }
            let equation = try string(eq, "the equation of \(place)", table: "reactions", index: index, key: "equation")
            let parsed = try parseEquation(equation, place, d: d, index: index)

            var kinetics: ModelDefinition.Reaction.Kinetics
            let hasRate = t["rate"] != nil
            let hasForward = t["forward"] != nil
            let hasReverse = t["reverse"] != nil
            if hasRate {
                if hasForward || hasReverse {
                    throw error(
                        "\(place) has both a general 'rate' and mass-action '\(hasForward ? "forward" : "reverse")'; "
                            + "give one or the other.",
                        table: "reactions", index: index, key: "rate")
                }
                kinetics = .rate(
                    try expressionValue(
                        t["rate"]!, "the rate law of \(place)", d: d, table: "reactions", index: index, key: "rate"))
            } else {
                guard hasForward else {
                    throw error(
                        "\(place) has no kinetics: give a mass-action rate constant 'forward' (and 'reverse' for "
                            + "<->) or a general 'rate'.",
                        table: "reactions", index: index)
                }
                let forward = try rateConstant(
                    t["forward"]!, "the forward rate constant of \(place)", d: d, index: index, key: "forward")
                var reverse: Expression? = nil
                if parsed.reversible {
                    guard hasReverse else {
                        throw error(
                            "\(place) is reversible (<->) but has no 'reverse' rate constant.", table: "reactions",
                            index: index, key: "equation")
                    }
                    reverse = try rateConstant(
                        t["reverse"]!, "the reverse rate constant of \(place)", d: d, index: index, key: "reverse")
                } else if hasReverse {
                    throw error(
                        "\(place) has a 'reverse' rate constant but its equation is irreversible (->); write <-> to "
                            + "make it reversible.",
                        table: "reactions", index: index, key: "reverse")
                }
                kinetics = .massAction(forward: forward, reverse: reverse)
            }
            var description: String? = nil
            if let s = t["description"] {
                description = try string(
                    s, "the description of \(place)", table: "reactions", index: index, key: "description")
            }
            d.reactions.append(
                .init(
                    id: id, equation: equation, reactants: parsed.reactants, products: parsed.products,
                    reversible: parsed.reversible, kinetics: kinetics, description: description))
        }
    }

    /// A rate constant: number or expression; numbers and plain parameters must be ≥ 0.
    func rateConstant(_ value: TOMLValueConvertible, _ place: String, d: ModelDefinition, index: Int, key: String)
        throws -> Expression
    {
        let e = try expressionValue(value, place, d: d, table: "reactions", index: index, key: key)
        switch e {
        case .number(let x) where x < 0:
            throw error(
                "\(place) is negative (\(formatNumber(x))); rate constants must be ≥ 0 (write the reaction the other "
                    + "way round instead).",
                table: "reactions", index: index, key: key)
        case .name(let n):
            let symbol = d.symbol(named: n)
            var parameter: ModelDefinition.Parameter? = nil
            if case .parameter(let i)? = symbol { parameter = d.parameters[i] }
            if let p = parameter, p.value < 0 {
                throw error(
                    "\(place) is the parameter '\(n)', whose value \(formatNumber(p.value)) is negative; rate "
                        + "constants must be ≥ 0.",
                    table: "reactions", index: index, key: key)
            }
            if let p = parameter, !p.value.isFinite {
                throw error(
                    "\(place) is the parameter '\(n)', whose value \(p.value) is not a finite number; rate constants "
                        + "must be finite and ≥ 0.",
                    table: "reactions", index: index, key: key)
            }
            // A parameter with a rate rule changes during the run; its start must still be valid.
            if case .species(let i)? = symbol, case let p = d.species[i], p.isParameter,
                !(p.initial.isFinite && p.initial >= 0)
            {
                throw error(
                    "\(place) is the parameter '\(n)' (with a rate rule), whose value \(formatNumber(p.initial)) at "
                        + "the start is not a finite number ≥ 0; rate constants must be finite and ≥ 0.",
                    table: "reactions", index: index, key: key)
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

    func parseEquation(_ equation: String, _ place: String, d: ModelDefinition, index: Int) throws -> ParsedEquation {
        let fail = { (why: String) in
            self.error(
                "\(place): the equation \"\(equation)\" \(why)", table: "reactions", index: index, key: "equation")
        }
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
        place: (Int) -> String
    ) throws -> [ModelDefinition.Event] {
        guard let value else { return [] }
        guard let array = value.array else {
            throw error("\(table) must be an array of tables ([[\(table)]]).", table: table, index: tableIndex)
        }
        var events: [ModelDefinition.Event] = []
        for (index, element) in array.enumerated() {
            let where_ = place(index)
            // Model events are [[events]] blocks; scenario events are inline tables on the scenario's lines.
            let locIndex = tableIndex ?? index
            let locKey: String? = tableIndex == nil ? nil : "events"
            guard let t = element.table else {
                throw error(
                    "\(where_) must be a table with 'at' and 'set'.", table: table, index: locIndex, key: locKey)
            }
            let triggerKeys = [
                "when", "initial_value", "persistent", "delay", "use_values_from_trigger_time", "priority",
            ]
            try checkKeys(
                t, allowed: ["at", "set", "description"] + triggerKeys, place: where_, table: table, index: locIndex)
            var times: [Double] = []
            var trigger: ModelDefinition.Event.Trigger? = nil
            if t["at"] != nil && t["when"] != nil {
                throw error(
                    "\(where_) has both a time 'at' and a condition 'when'; give one.", table: table, index: locIndex,
                    key: locKey ?? "when")
            }
            if let when = t["when"] {
                trigger = try readTrigger(t, when, where_, d: d, table: table, index: locIndex, key: locKey)
            } else if let key = triggerKeys.first(where: { t[$0] != nil }) {
                throw error(
                    "\(where_) has '\(key)', which belongs to a state event; add a condition 'when' or drop it.",
                    table: table, index: locIndex, key: locKey ?? key)
            } else {
                guard let at = t["at"] else {
                    throw error(
                        "\(where_) has no time 'at' (a number or a list of numbers) and no condition 'when'.",
                        table: table, index: locIndex, key: locKey)
                }
                if let list = at.array {
                    times = try list.map {
                        try finiteNumber(
                            $0, "each time in 'at' of \(where_)", table: table, index: locIndex, key: locKey ?? "at")
                    }
                    if times.isEmpty {
                        throw error(
                            "\(where_) has an empty list of times 'at'.", table: table, index: locIndex,
                            key: locKey ?? "at")
                    }
                } else {
                    times = [
                        try finiteNumber(
                            at, "the time 'at' of \(where_)", table: table, index: locIndex, key: locKey ?? "at")
                    ]
                }
                let sim = d.simulation
                for time in times where time < sim.tStart || time > sim.tEnd {
                    throw error(
                        "\(where_) happens at t = \(formatNumber(time)), outside the run "
                            + "[\(formatNumber(sim.tStart)), \(formatNumber(sim.tEnd))].",
                        table: table, index: locIndex, key: locKey ?? "at")
                }
            }
            let assignments = try readAssignments(t, where_, d: d, table: table, index: locIndex, key: locKey)
            var description: String? = nil
            if let s = t["description"] {
                description = try string(
                    s, "the description of \(where_)", table: table, index: locIndex, key: "description")
            }
            events.append(.init(times: times, assignments: assignments, description: description, trigger: trigger))
        }
        return events
    }

    /// The condition and SBML attributes of a state event.
    func readTrigger(
        _ t: TOMLTable, _ when: TOMLValueConvertible, _ where_: String, d: ModelDefinition,
        table: String, index: Int, key: String?
    ) throws -> ModelDefinition.Event.Trigger {
        let text = try string(when, "the condition 'when' of \(where_)", table: table, index: index, key: key ?? "when")
        let condition: Condition
        do {
            condition = try ExpressionParser.parseCondition(text)
        } catch let e as ExpressionSyntaxError {
            if e.tooDeep {
                throw tooDeep("the condition 'when' of \(where_)", e, table: table, index: index, key: key ?? "when")
            }
            throw error(
                "the condition 'when' of \(where_) \"\(text)\" is not a valid condition: \(e.message) at character "
                    + "\(e.offset + 1).",
                table: table, index: index, key: key ?? "when")
        }
        let symbols = d.symbolTable
        for name in condition.names where symbols[name] == nil {
            let known =
                d.species.map(\.name) + d.parameters.map(\.name) + d.compartments.map(\.name)
                + d.observables.map(\.name) + ["t"]
            throw error(
                "the condition 'when' of \(where_) \"\(text)\" uses '\(name)', which is not a species, parameter, "
                    + "compartment or observable\(didYouMean(name, among: known)).",
                table: table, index: index, key: key ?? "when")
        }
        if let equality = condition.comparisons.first(where: { $0.relation == .equal || $0.relation == .notEqual }) {
            throw error(
                "the condition 'when' of \(where_) compares with '\(equality.relation.rawValue)'; state events are "
                    + "found where a comparison changes between solver steps, which an equality of two continuous "
                    + "quantities does not do (write a crossing, e.g. \"\(ExpressionText.text(equality.left)) >= "
                    + "\(ExpressionText.text(equality.right))\").",
                table: table, index: index, key: key ?? "when")
        }
        var trigger = ModelDefinition.Event.Trigger(condition: condition)
        func flag(_ name: String) throws -> Bool? {
            guard let v = t[name] else { return nil }
            guard let b = v.bool else {
                throw error(
                    "'\(name)' of \(where_) must be true or false, not \(describe(v)).", table: table, index: index,
                    key: key ?? name)
            }
            return b
        }
        if let b = try flag("initial_value") { trigger.initialValue = b }
        if let b = try flag("persistent") { trigger.persistent = b }
        if let b = try flag("use_values_from_trigger_time") { trigger.useValuesFromTriggerTime = b }
        if let v = t["delay"] {
            let delay = try expressionValue(
                v, "the delay of \(where_)", d: d, table: table, index: index, key: key ?? "delay")
            if case .number(let x) = delay, x < 0 {
                throw error(
                    "the delay of \(where_) is negative (\(formatNumber(x))); a delay must be ≥ 0.", table: table,
                    index: index, key: key ?? "delay")
            }
            if delay != .number(0) { trigger.delay = delay }
        }
        if let v = t["priority"] {
            trigger.priority = try expressionValue(
                v, "the priority of \(where_)", d: d, table: table, index: index, key: key ?? "priority")
        }
        return trigger
    }

    func readAssignments(
        _ t: TOMLTable, _ where_: String, d: ModelDefinition, table: String, index locIndex: Int, key locKey: String?
    ) throws -> [ModelDefinition.Assignment] {
        guard let setValue = t["set"] else {
            throw error(
                "\(where_) has no assignments 'set' (e.g. set = { IL6 = 0 }).", table: table, index: locIndex,
                key: locKey)
        }
        guard let set = setValue.table, !set.isEmpty else {
            throw error(
                "'set' of \(where_) must be a non-empty table of assignments.", table: table, index: locIndex,
                key: locKey ?? "set")
        }
        var assignments: [ModelDefinition.Assignment] = []
        for target in set.keys {
            let kind: ModelDefinition.Assignment.Target
            switch d.symbol(named: target) {
            case .species(let i): kind = .species(i)
            case .parameter(let i): kind = .parameter(i)
            case .compartment, .observable, .time:
                throw error(
                    "\(where_) sets '\(target)', which is not a species or parameter; events can set only species "
                        + "and parameters.",
                    table: table, index: locIndex, key: locKey ?? "set")
            case nil:
                let names = d.species.map(\.name) + d.parameters.map(\.name)
                throw error(
                    "\(where_) sets '\(target)', which is not a species or "
                        + "parameter\(didYouMean(target, among: names)).",
                    table: table, index: locIndex, key: locKey ?? "set")
            }
            let e = try expressionValue(
                set[target]!, "the value set for '\(target)' by \(where_)", d: d, table: table, index: locIndex,
                key: locKey ?? "set")
            assignments.append(.init(target: kind, targetName: target, expression: e))
        }
        return assignments
    }

    func readSimulation(_ root: TOMLTable, into d: inout ModelDefinition) throws {
        guard let t = try table(root, "simulation") else { return }
        let allowed = ["t_start", "t_end", "output_interval", "output_times", "rtol", "atol"]
        try checkKeys(t, allowed: allowed, place: "[simulation]", table: "simulation")
        var s = ModelDefinition.Simulation()
        if let v = t["t_start"] {
            s.tStart = try finiteNumber(v, "[simulation] t_start", table: "simulation", key: "t_start")
        }
        if let v = t["t_end"] { s.tEnd = try finiteNumber(v, "[simulation] t_end", table: "simulation", key: "t_end") }
        guard s.tEnd > s.tStart else {
            throw error(
                "[simulation] t_end (\(formatNumber(s.tEnd))) must be later than t_start (\(formatNumber(s.tStart))).",
                table: "simulation", key: "t_end")
        }
        if t["output_interval"] != nil && t["output_times"] != nil {
            throw error(
                "[simulation] gives both output_interval and output_times; give one.", table: "simulation",
                key: "output_times")
        }
        if let v = t["output_interval"] {
            let dt = try finiteNumber(v, "[simulation] output_interval", table: "simulation", key: "output_interval")
            guard dt > 0 else {
                throw error(
                    "[simulation] output_interval must be > 0, not \(formatNumber(dt)).", table: "simulation",
                    key: "output_interval")
            }
            s.outputInterval = dt
        }
        if let v = t["output_times"] {
            guard let array = v.array, !array.isEmpty else {
                throw error(
                    "[simulation] output_times must be a non-empty array of times.", table: "simulation",
                    key: "output_times")
            }
            let times = try array.map {
                try finiteNumber($0, "each of [simulation] output_times", table: "simulation", key: "output_times")
            }
            for (a, b) in zip(times, times.dropFirst()) where !(b > a) {
                throw error(
                    "[simulation] output_times must be strictly ascending; \(formatNumber(b)) follows "
                        + "\(formatNumber(a)).",
                    table: "simulation", key: "output_times")
            }
            for time in times where time < s.tStart || time > s.tEnd {
                throw error(
                    "[simulation] output time \(formatNumber(time)) lies outside the run [\(formatNumber(s.tStart)), "
                        + "\(formatNumber(s.tEnd))].",
                    table: "simulation", key: "output_times")
            }
            s.explicitOutputTimes = times
        }
        for key in ["rtol", "atol"] {
            guard let v = t[key] else { continue }
            let x = try finiteNumber(v, "[simulation] \(key)", table: "simulation", key: key)
            guard x > 0 else {
                throw error("[simulation] \(key) must be > 0, not \(formatNumber(x)).", table: "simulation", key: key)
            }
            if key == "rtol" { s.rtol = x } else { s.atol = x }
        }
        d.simulation = s
    }

    func readSweep(_ root: TOMLTable, into d: inout ModelDefinition) throws {
        guard let t = try table(root, "sweep") else { return }
        try checkKeys(
            t, allowed: ["vary", "samples", "method", "seed", "points", "scenario", "metrics", "t_end", "out"],
            place: "[sweep]", table: "sweep")
        func strings(_ key: String) throws -> [String] {
            guard let v = t[key] else { return [] }
            guard let array = v.array else {
                throw error(
                    "[sweep] \(key) must be an array of strings, e.g. \(key) = [\"...\"].", table: "sweep", key: key)
            }
            return try array.map { try string($0, "each of [sweep] \(key)", table: "sweep", key: key) }
        }
        func integer(_ key: String) throws -> Int? {
            guard let v = t[key] else { return nil }
            guard let i = v.int else {
                throw error("[sweep] \(key) must be a whole number, not \(describe(v)).", table: "sweep", key: key)
            }
            return i
        }
        var s = ModelDefinition.Sweep()
        s.vary = try strings("vary")
        s.metrics = try strings("metrics")
        s.samples = try integer("samples")
        s.seed = try integer("seed")
        if let v = t["method"] { s.method = try string(v, "[sweep] method", table: "sweep", key: "method") }
        if let v = t["points"] { s.points = try string(v, "[sweep] points", table: "sweep", key: "points") }
        if let v = t["scenario"] { s.scenario = try string(v, "[sweep] scenario", table: "sweep", key: "scenario") }
        if let v = t["out"] { s.out = try string(v, "[sweep] out", table: "sweep", key: "out") }
        if let v = t["t_end"] { s.tEnd = try finiteNumber(v, "[sweep] t_end", table: "sweep", key: "t_end") }
        d.sweep = s
    }

    func readScenarios(_ root: TOMLTable, into d: inout ModelDefinition) throws {
        guard let value = root["scenarios"] else { return }
        guard let array = value.array else {
            throw error("scenarios must be an array of tables: write each one as [[scenarios]].", table: "scenarios")
        }
        for (index, element) in array.enumerated() {
            guard let t = element.table else {
                throw error("scenario #\(index + 1) must be a table ([[scenarios]]).", table: "scenarios", index: index)
            }
            try checkKeys(
                t, allowed: ["name", "description", "parameters", "initial", "compartments", "events"],
                place: "scenario #\(index + 1)", table: "scenarios", index: index)
            guard let n = t["name"] else {
                throw error("scenario #\(index + 1) has no name.", table: "scenarios", index: index)
            }
            let name = try string(
                n, "the name of scenario #\(index + 1)", table: "scenarios", index: index, key: "name")
            if d.scenarios.contains(where: { $0.name == name }) {
                throw error(
                    "two scenarios are named '\(name)'; scenario names must be unique.", table: "scenarios",
                    index: index, key: "name")
            }
            let place = "scenario '\(name)'"
            var scenario = ModelDefinition.Scenario(
                name: name, description: nil, parameters: [], initial: [], compartments: [], events: [])
            if let s = t["description"] {
                scenario.description = try string(
                    s, "the description of \(place)", table: "scenarios", index: index, key: "description")
            }
            func values(_ key: String, _ candidates: [String], _ kind: String) throws -> [(index: Int, value: Double)] {
                guard let v = t[key] else { return [] }
                guard let table = v.table else {
                    throw error(
                        "'\(key)' of \(place) must be a table (\(key) = { name = value }).", table: "scenarios",
                        index: index, key: key)
                }
                var result: [(index: Int, value: Double)] = []
                let position = Dictionary(candidates.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
                for k in table.keys {
                    guard let i = position[k] else {
                        throw error(
                            "\(place) sets \(kind) '\(k)', which is not declared\(didYouMean(k, among: candidates)).",
                            table: "scenarios", index: index, key: key)
                    }
                    let x = try finiteNumber(
                        table[k]!, "the value of '\(k)' in \(place)", table: "scenarios", index: index, key: key)
                    result.append((i, x))
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
            for (i, x) in scenario.initial where x < 0 && !d.species[i].isParameter {
                throw error(
                    "\(place) gives species '\(d.species[i].name)' the negative initial concentration "
                        + "\(formatNumber(x)).",
                    table: "scenarios", index: index, key: "initial")
            }
            scenario.compartments = try values("compartments", d.compartments.map(\.name), "the size of compartment")
            for (i, x) in scenario.compartments where x <= 0 {
                throw error(
                    "\(place) gives compartment '\(d.compartments[i].name)' the size \(formatNumber(x)); sizes must "
                        + "be > 0.",
                    table: "scenarios", index: index, key: "compartments")
            }
            scenario.events = try readEvents(
                t["events"], definition: d, table: "scenarios", tableIndex: index,
                place: { "event #\($0 + 1) of \(place)" })
            d.scenarios.append(scenario)
        }
    }
}
