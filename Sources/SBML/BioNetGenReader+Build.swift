import Foundation
import ReactionModel

/// The blocks read by `NetReader.read`, resolved into a model definition: parameters (evaluated
/// in the order their expressions need), species, reactions, groups.
extension NetReader {
    static let compartment = "cell"
    /// BioNetGen's built-in constants, which its expressions may name.
    static let constants: [String: Double] = ["_pi": Double.pi, "_e": M_E]

    func build() throws -> ModelDefinition {
        var names: [String: (kind: String, line: Int)] = [NetReader.compartment: ("compartment", 0)]
        func claim(_ name: String, _ kind: String, line: Int) throws {
            try checkName(name, kind, line: line)
            if let other = names[name] {
                let place = other.line > 0 ? " at line \(other.line)" : " (the network's one compartment)"
                throw fail(
                    line,
                    "the \(kind) '\(name)' has the name of the \(other.kind)\(place); stat3sim keeps one "
                        + "namespace for species (named S1, S2, … after their index), parameters, observables and the "
                        + "compartment.")
            }
            names[name] = (kind, line)
        }
        let parameters = try readParameters(claim)
        var values: [String: Double] = NetReader.constants
        for p in parameters { values[p.name] = p.value }
        let (species, speciesIndex) = try readSpecies(values, claim)
        let reactions = try readReactions(values, speciesIndex, species)
        let observables = try readGroups(speciesIndex, species, claim)

        let base = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let counts = "\(species.count) species, \(reactions.count) reactions"
        return ModelDefinition(
            file: file, name: base,
            description: "BioNetGen network \(base).net (\(counts)" + (creator.map { "; \($0)" } ?? "") + ")",
            compartments: [.init(name: NetReader.compartment, size: 1)], species: species, parameters: parameters,
            observables: observables, reactions: reactions, events: [])
    }

    // MARK: Expressions

    /// Parses BioNetGen math (`**` is `^`; `_pi`, `_e` are constants) and checks that every name is
    /// a parameter (one of `known`).
    func expression(
        _ text: String, _ describe: @autoclosure () -> String, line: Int, known: (String) -> Bool, knownKind: String
    ) throws -> Expr {
        // Most values are plain numbers ("0" for nearly every species).
        if let x = Double(text), !text.hasPrefix("+") { return .number(x) }
        let what = describe()
        if text.hasPrefix("Sat(") || text.hasPrefix("MM(") || text.hasPrefix("Hill(") || text.hasPrefix("Arrhenius(") {
            let kind = text.prefix(while: { $0 != "(" })
            throw fail(
                line,
                "\(what) is a '\(kind)' rate law (\(excerpt(text, limit: 60))); only elementary (mass-action) "
                    + "rate laws are supported.")
        }
        let parsed: Expr
        do {
            parsed = try ExpressionParser.parse(text.replacingOccurrences(of: "**", with: "^"))
        } catch let e as ExpressionSyntaxError {
            throw fail(
                line,
                "\(what) \"\(excerpt(text, limit: 80))\" is not an expression stat3sim reads: \(e.message) at "
                    + "character \(e.offset + 1).")
        }
        if text.contains("log(") {
            throw fail(
                line,
                "\(what) \"\(excerpt(text, limit: 80))\" uses log(), whose base differs between tools (e or 10); "
                    + "write ln() or log10().")
        }
        for name in parsed.names where !known(name) && NetReader.constants[name] == nil {
            throw fail(line, "\(what) \"\(excerpt(text, limit: 80))\" uses '\(name)', which is not \(knownKind).")
        }
        return parsed.substituting { NetReader.constants[$0].map(Expr.number) }
    }

    /// The remaining fields of a line from `start`, as one text (BioNetGen writes expressions without
    /// spaces, but they are allowed).
    func rest(_ line: Line, from start: Int) -> String {
        line.fields.count == start + 1 ? line.fields[start] : line.fields[start...].joined(separator: " ")
    }

    // MARK: Parameters

    /// Every parameter, with expressions of others evaluated in the order they need (a parameter
    /// may name one defined further down); cycles are errors.
    func readParameters(_ claim: (String, String, Int) throws -> Void) throws -> [ModelDefinition.Parameter] {
        let lines = blocks["parameters"]?.lines ?? []
        var entries: [(name: String, text: String, line: Int)] = []
        var byName: [String: Int] = [:]
        for line in lines {
            _ = try index(line, "parameter")
            try requireFields(line, { $0 >= 3 }, "a parameter line is 'INDEX NAME VALUE' (e.g. '1 kon 0.01')")
            let name = String(line.fields[1])
            try claim(name, "parameter", line.number)
            byName[name] = entries.count
            entries.append((name, rest(line, from: 2), line.number))
        }
        var parsed: [Expr] = []
        for e in entries {
            parsed.append(
                try expression(
                    e.text, "the value of parameter '\(e.name)'", line: e.line, known: { byName[$0] != nil },
                    knownKind: "a parameter of the file"))
        }
        // Depth-first evaluation without recursion; `state` 1 = on the stack, 2 = done.
        var values: [String: Double] = NetReader.constants
        var state = [UInt8](repeating: 0, count: entries.count)
        for start in entries.indices where state[start] == 0 {
            var stack = [start]
            state[start] = 1
            while let i = stack.last {
                let pending = parsed[i].names.compactMap { byName[$0] }.filter { state[$0] != 2 }
                if let cycle = pending.first(where: { state[$0] == 1 }) {
                    throw fail(
                        entries[i].line,
                        "the value of parameter '\(entries[i].name)' depends on itself (through '"
                            + "\(entries[cycle].name)').")
                }
                if let next = pending.first {
                    state[next] = 1
                    stack.append(next)
                    continue
                }
                values[entries[i].name] = evaluate(parsed[i], values)!
                state[i] = 2
                stack.removeLast()
            }
        }
        return entries.enumerated().map { i, e in
            let isNumber: Bool
            if case .number = parsed[i] { isNumber = true } else { isNumber = false }
            return ModelDefinition.Parameter(
                name: e.name, value: values[e.name]!,
                description: isNumber ? nil : "= \(e.text) in the BioNetGen network (evaluated when read)")
        }
    }

    // MARK: Species

    func readSpecies(_ values: [String: Double], _ claim: (String, String, Int) throws -> Void) throws -> (
        [ModelDefinition.Species], [Int: Int]
    ) {
        var species: [ModelDefinition.Species] = []
        var position: [Int: Int] = [:]
        for line in blocks["species"]!.lines {
            let i = try index(line, "species")
            try requireFields(line, { $0 >= 3 }, "a species line is 'INDEX PATTERN AMOUNT' (e.g. '1 R(l) R0')")
            if let earlier = position[i] {
                throw fail(
                    line.number, "a second species with index \(i) (the first is \(species[earlier].description!)).")
            }
            var pattern = String(line.fields[1])
            let fixed = pattern.hasPrefix("$")
            if fixed { pattern.removeFirst() }
            if pattern.contains("@") {
                throw fail(
                    line.number,
                    "species \(i) '\(excerpt(pattern, limit: 60))' sits in a compartment ('@'); "
                        + "compartments (cBNGL) are not supported.")
            }
            let name = "S\(i)"
            try claim(name, "species", line.number)
            func what() -> String { "the amount of species \(i) (\(excerpt(pattern, limit: 60)))" }
            let e = try expression(
                rest(line, from: 2), what(), line: line.number, known: { values[$0] != nil }, knownKind: "a parameter")
            let amount = evaluate(e, values)!
            guard amount.isFinite, amount >= 0 else {
                throw fail(line.number, "\(what()) is \(amount.plainText); amounts must be finite and ≥ 0.")
            }
            position[i] = species.count
            species.append(
                .init(name: name, initial: amount, compartment: 0, constant: fixed, description: pattern))
        }
        return (species, position)
    }

    // MARK: Reactions

    /// Each reaction as mass action: the rate law, with its statistical factor, is the rate constant.
    func readReactions(
        _ values: [String: Double], _ position: [Int: Int], _ species: [ModelDefinition.Species]
    ) throws -> [ModelDefinition.Reaction] {
        var reactions: [ModelDefinition.Reaction] = []
        var seen: [Int: Int] = [:]
        // The same rate law is written on thousands of lines: parse each text once.
        var laws: [String: Expr] = [:]
        for line in blocks["reactions"]?.lines ?? [] {
            let i = try index(line, "reaction")
            try requireFields(
                line, { $0 >= 4 }, "a reaction line is 'INDEX REACTANTS PRODUCTS RATE' (e.g. '1 1,2 3 kon')")
            if let earlier = seen[i] {
                throw fail(line.number, "a second reaction with index \(i) (the first is at line \(earlier)).")
            }
            seen[i] = line.number
            let reactants = try side(line.fields[1], "reactants", reaction: i, line: line.number, position)
            let products = try side(line.fields[2], "products", reaction: i, line: line.number, position)
            let text = rest(line, from: 3)
            func what() -> String { "the rate law of reaction \(i)" }
            let law: Expr
            if let known = laws[text] {
                law = known
            } else {
                law = try expression(
                    text, what(), line: line.number, known: { values[$0] != nil }, knownKind: "a parameter")
                laws[text] = law
            }
            let k = evaluate(law, values)!
            guard k.isFinite, k >= 0 else {
                throw fail(
                    line.number,
                    "\(what()) \"\(excerpt(text, limit: 80))\" is \(k.plainText); rate constants must "
                        + "be finite and ≥ 0.")
            }
            let equation = [terms(reactants, species), "->", terms(products, species)].filter { !$0.isEmpty }
                .joined(separator: " ")
            let rule = line.comment.flatMap { $0.isEmpty ? nil : $0 }
            reactions.append(
                .init(
                    id: "R\(i)", equation: equation, reactants: reactants, products: products, reversible: false,
                    kinetics: .massAction(forward: law, reverse: nil), description: rule.map { "BioNetGen rule \($0)" })
            )
        }
        return reactions
    }

    /// `1,2,2` → [(S1, 1), (S2, 2)] in order of first appearance; `0` is no species.
    func side(
        _ field: String, _ what: String, reaction: Int, line: Int, _ position: [Int: Int]
    ) throws -> [(species: Int, coefficient: Double)] {
        var list: [(species: Int, coefficient: Double)] = []
        var at: [Int: Int] = [:]
        let items = field.split(separator: ",", omittingEmptySubsequences: false)
        for item in items {
            guard let i = Int(item), i >= 0 else {
                throw fail(
                    line,
                    "the \(what) of reaction \(reaction) '\(excerpt(field, limit: 60))' are not a comma-separated "
                        + "list of species indices ('\(excerpt(item))').")
            }
            if i == 0 {
                guard items.count == 1 else {
                    throw fail(line, "the \(what) of reaction \(reaction) list species 0 (no species) beside others.")
                }
                continue
            }
            guard let s = position[i] else {
                throw fail(
                    line, "the \(what) of reaction \(reaction) name species \(i), which the species block lacks.")
            }
            if let k = at[s] {
                list[k].coefficient += 1
            } else {
                at[s] = list.count
                list.append((s, 1))
            }
        }
        return list
    }

    func terms(_ list: [(species: Int, coefficient: Double)], _ species: [ModelDefinition.Species]) -> String {
        list.map { ($0.coefficient == 1 ? "" : "\($0.coefficient.plainText) ") + species[$0.species].name }
            .joined(separator: " + ")
    }

    // MARK: Groups

    /// `index name 2*5,7` → observable `name = 2*S5 + S7`.
    func readGroups(
        _ position: [Int: Int], _ species: [ModelDefinition.Species], _ claim: (String, String, Int) throws -> Void
    ) throws -> [ModelDefinition.Observable] {
        var observables: [ModelDefinition.Observable] = []
        for line in blocks["groups"]?.lines ?? [] {
            _ = try index(line, "group")
            try requireFields(
                line, { $0 == 2 || $0 == 3 }, "a group line is 'INDEX NAME ENTRIES' (e.g. '1 Bound 4,2*5')")
            let name = String(line.fields[1])
            try claim(name, "observable", line.number)
            var operands: [Expr] = []
            for item in line.fields.count == 3 ? line.fields[2].split(separator: ",") : [] {
                let parts = item.split(separator: "*", omittingEmptySubsequences: false)
                let weight = parts.count == 2 ? Double(parts[0]) : 1
                guard parts.count <= 2, let weight, weight.isFinite, let i = Int(parts[parts.count - 1]) else {
                    throw fail(
                        line.number,
                        "the entry '\(excerpt(item))' of group '\(name)' is not a species index or "
                            + "WEIGHT*INDEX (e.g. 5 or 2*5).")
                }
                guard let s = position[i] else {
                    throw fail(line.number, "group '\(name)' names species \(i), which the species block lacks.")
                }
                let term = Expr.name(species[s].name)
                operands.append(weight == 1 ? term : .multiply(.number(weight), term))
            }
            let sum =
                operands.isEmpty
                ? Expr.number(0)
                : Expr.chain(
                    operands, inverse: Array(repeating: false, count: operands.count - 1), direct: Expr.add,
                    inverse: Expr.subtract)
            observables.append(.init(name: name, expression: sum, text: ExpressionText.text(sum)))
        }
        return observables
    }
}
