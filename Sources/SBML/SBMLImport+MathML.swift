import Foundation
import ReactionModel

/// The bounds that keep a hostile file from exhausting the stack, the memory or the time of an
/// import: past them the import stops with an `SBMLImportError` that names the place and the limit.
enum ImportLimits {
    /// Elements nested inside each other in the file (the SBML Test Suite nests at most 12 deep).
    static let elementDepth = 1000
    /// Levels of an expression, and of the conversion that reads it (a function definition's
    /// body counts at the depth of its call); published models need fewer than 20.
    static let mathDepth = 512
    /// Terms of one expression, each shared part counted every time it occurs (what printing,
    /// evaluating and compiling it cost), and terms one function definition expands to.
    static let terms = 1_000_000
    /// MathML elements read for one expression, function bodies and reaction rates inlined.
    static let steps = 10_000_000
    /// An n-ary `plus`, `times`, `min`, `max` up to this many arguments is folded left to right
    /// (`a + b + c` is `(a + b) + c`, as other SBML tools read it); a longer one becomes a
    /// balanced tree of such folds, so its depth grows with the logarithm of its length.
    static let leftFold = 128
}

/// An expression as it is built, with its depth and its size (terms, shared parts counted each
/// time): both are checked at every step, so no conversion builds a tree past the limits.
struct Term {
    let expr: Expr
    let depth: Int
    let size: Int

    init(_ leaf: Expr) {
        expr = leaf
        depth = 1
        size = 1
    }

    /// A small fixed expression (a substitution written by the importer itself).
    init(measuring e: Expr) {
        func measure(_ e: Expr) -> (Int, Int) {
            let parts: [Expr]
            switch e {
            case .number, .name: return (1, 1)
            case .negate(let a), .function(_, let a): parts = [a]
            case .add(let a, let b), .subtract(let a, let b), .multiply(let a, let b), .divide(let a, let b),
                .power(let a, let b), .delay(let a, let b):
                parts = [a, b]
            case .select(let a, let b, let c, let d): parts = [a, b, c, d]
            }
            let measured = parts.map(measure)
            return (1 + measured.map(\.0).max()!, 1 + measured.map(\.1).reduce(0, +))
        }
        expr = e
        (depth, size) = measure(e)
    }

    fileprivate init(expr: Expr, depth: Int, size: Int) {
        self.expr = expr
        self.depth = depth
        self.size = size
    }
}

/// A trigger's condition as it is built, with its depth and size (as `Term`).
struct Clause {
    let condition: Condition
    let depth: Int
    let size: Int
}

/// What names mean while math is read: a function's arguments or a reaction's local parameters,
/// then (outside function bodies) the importer's global substitution.
struct Scope {
    var names: [String: Term] = [:]
    var global: [String: Term] = [:]
    subscript(name: String) -> Term? { names[name] ?? global[name] }
}

/// The current depth of the conversion and the elements read for the outermost expression: shared
/// by every nested conversion (reaction rates and `rateOf` read other math inside one expression).
final class MathBudget {
    var depth = 0
    var steps = 0
}

extension Importer {
    // MARK: Building within the limits

    func tooDeep(_ place: String) -> SBMLImportError {
        SBMLImportError.limit(
            "SBML \(place) nests its math deeper than \(ImportLimits.mathDepth) levels (function "
                + "definitions inlined), which is not supported; split it with assignment rules (parameters "
                + "for its parts).")
    }

    func tooLarge(_ place: String) -> SBMLImportError {
        SBMLImportError.limit(
            "SBML \(place) has more than \(ImportLimits.terms) terms once function definitions and "
                + "reaction rates are inlined, which is not supported; give repeated parts their own "
                + "assignment rules (parameters), which are not inlined.")
    }

    /// The depth and size of a node over `parts` (each measured by `measure`), if they stay within
    /// the limits.
    func bounded<Parts: Sequence>(
        _ parts: Parts, place: String, _ measure: (Parts.Element) -> (depth: Int, size: Int)
    ) throws -> (depth: Int, size: Int) {
        var depth = 0
        var size = 1
        for p in parts {
            let m = measure(p)
            depth = max(depth, m.depth)
            size += m.size
        }
        guard depth < ImportLimits.mathDepth else { throw tooDeep(place) }
        guard size <= ImportLimits.terms else { throw tooLarge(place) }
        return (depth + 1, size)
    }

    /// `e`, built from `parts`, if its depth and size stay within the limits.
    func node(_ e: Expr, _ parts: Term..., place: String) throws -> Term {
        let m = try bounded(parts, place: place) { ($0.depth, $0.size) }
        return Term(expr: e, depth: m.depth, size: m.size)
    }

    func clause(_ c: Condition, _ parts: [(depth: Int, size: Int)], place: String) throws -> Clause {
        let m = try bounded(parts, place: place) { $0 }
        return Clause(condition: c, depth: m.depth, size: m.size)
    }

    /// `parts` combined by `combine`: left to right up to `ImportLimits.leftFold` parts, longer
    /// lists as a balanced tree of such folds.
    func fold(_ parts: ArraySlice<Term>, place: String, _ combine: (Term, Term) throws -> Term) throws -> Term {
        if parts.count <= ImportLimits.leftFold {
            var result = parts.first!
            for p in parts.dropFirst() { result = try combine(result, p) }
            return result
        }
        let middle = parts.startIndex + parts.count / 2
        return try combine(
            try fold(parts[..<middle], place: place, combine),
            try fold(
                parts[middle...], place: place,
                combine))
    }

    /// Counts one level and one element of the conversion; the outermost call starts the count
    /// of elements anew.
    func enter(_ place: String) throws {
        if budget.depth == 0 { budget.steps = 0 }
        budget.depth += 1
        budget.steps += 1
        guard budget.depth <= ImportLimits.mathDepth else {
            budget.depth -= 1
            throw tooDeep(place)
        }
        guard budget.steps <= ImportLimits.steps else {
            budget.depth -= 1
            throw tooLarge(place)
        }
    }

    func leave() { budget.depth -= 1 }

    // MARK: MathML

    /// The `<math>` child of `node`, converted with local parameters and the global substitution.
    func math(of node: XMLNode, place: String, local: [String: Term] = [:]) throws -> Expr {
        try mathTerm(of: node, place: place, local: local).expr
    }

    func mathTerm(of node: XMLNode, place: String, local: [String: Term] = [:]) throws -> Term {
        guard let m = node.child("math"), let first = m.children.first(where: { $0.name != "annotation" }) else {
            throw SBMLImportError("SBML \(place) has no math; give it a <math> element with an expression.")
        }
        return try expression(first, place: place, scope: Scope(names: local, global: globalSubstitution))
    }

    /// The kinetic law of a reaction (amount per time), with its local parameters renamed: what
    /// the reaction's id stands for in SBML math.
    func reactionFlux(_ id: String, place: String) throws -> Term {
        guard let r = reactionNodes[id], let law = r.child("kineticLaw") else {
            throw SBMLImportError(
                "SBML \(place) uses the rate of reaction '\(excerpt(id))', which has no kineticLaw; give "
                    + "'\(excerpt(id))' a kineticLaw.")
        }
        if localNames[id]?[id] == nil, let m = law.child("math"),
            m.contains(where: {
                $0.name == "ci"
                    && $0.trimmedText == id
            })
        {
            throw SBMLImportError(
                "SBML kineticLaw of reaction '\(excerpt(id))' uses its own rate (the id '\(excerpt(id))'), which is "
                    + "not supported; write the rate law without it.")
        }
        return try oneLevelDeeper(
            refusing: "SBML kineticLaw of reaction '\(excerpt(id))' depends on itself through other "
                + "reactions' rates (an algebraic loop), which is not supported; write the rate laws without "
                + "each other's reaction ids."
        ) {
            var local: [String: Term] = [:]
            for (pid, name) in localNames[id] ?? [:] { local[pid] = Term(.name(name)) }
            return try mathTerm(of: law, place: "kineticLaw of reaction '\(excerpt(id))'", local: local)
        }
    }

    /// `body`, one level deeper in rates that read rates (reaction ids in kinetic laws, rateOf);
    /// past 20 levels the refusal `loop` instead.
    func oneLevelDeeper(refusing loop: @autoclosure () -> String, _ body: () throws -> Term) throws -> Term {
        rateOfDepth.value += 1
        defer { rateOfDepth.value -= 1 }
        if rateOfDepth.value > 20 { throw SBMLImportError(loop()) }
        return try body()
    }

    /// SBML's `rateOf(x)`: the right-hand side of x's rate rule; for a species changed by
    /// reactions Σ ν·flux (times its conversion factor, divided by its compartment unless it is in
    /// amounts); 0 for constants, local parameters and what only events change.
    func rateOf(_ id: String, place: String, scope: Scope) throws -> Term {
        var id = id
        if let e = scope.names[id] ?? scope.global[id] {
            // A local parameter is constant; a function's argument stands for what was passed.
            guard case .name(let n) = e.expr else {
                if globalSubstitution[id] != nil {  // a species in amounts or a changing compartment
                    return try rateOf(id, place: place, scope: Scope())
                }
                throw unsupported(
                    "rateOf of an expression passed to a function", place, instead: Importer.rateOfInstead)
            }
            if localGlobalNames.contains(n) { return Term(.number(0)) }
            id = n
        }
        return try oneLevelDeeper(
            refusing: "SBML \(place) uses rateOf in a loop (a rate that depends on itself), which is not supported; "
                + "\(Importer.rateOfInstead)."
        ) { [id] in try rateOf(symbol: id, place: place) }
    }

    /// `rateOf` of the model's symbol `id` (a local name already resolved).
    private func rateOf(symbol id: String, place: String) throws -> Term {
        // A species in amounts held as its amount state is named by that state here.
        let id = amountName.first { $0.value == id }?.key ?? id
        if let rule = rateRuleNodes[id] {
            if rule.contains(where: { ($0.attributes["definitionURL"] ?? "").hasSuffix("/rateOf") }) {
                throw unsupported(
                    "rateOf of '\(excerpt(id))', whose rate rule uses rateOf itself,", place,
                    instead: Importer.rateOfInstead)
            }
            return try mathTerm(of: rule, place: "rateRule for '\(excerpt(id))'")
        }
        if assignmentRuleTargets.contains(id) {
            throw unsupported(
                "rateOf of '\(excerpt(id))', which an assignment rule sets,", place, instead: Importer.rateOfInstead)
        }
        if let c = speciesCompartment[id], variableCompartments.contains(c) {
            throw unsupported(
                "rateOf of '\(excerpt(id))', whose compartment changes size,", place, instead: Importer.rateOfInstead)
        }
        guard let compartment = speciesCompartment[id] else {
            // Parameters and compartments without rate rules change only by events: rate 0.
            guard kindOf(id) == "parameter" || kindOf(id) == "compartment" else {
                throw unsupported(
                    "rateOf of \(kindOf(id)) '\(excerpt(id))'", place,
                    instead: "rateOf may name a species, a parameter or a compartment")
            }
            return Term(.number(0))
        }
        let speciesNode = speciesNodeByID[id]!
        if speciesNode.attributes["boundaryCondition"] == "true"
            || speciesNode.attributes["constant"] == "true"
        {
            return Term(.number(0))
        }
        var terms: [Term] = []
        for reaction in model.list("listOfReactions", "reaction") {
            let rid = reaction.attributes["id"] ?? "?"
            for (list, sign) in [("listOfReactants", -1.0), ("listOfProducts", 1.0)] {
                for ref in reaction.list(list, "speciesReference") where ref.attributes["species"] == id {
                    if ref.child("stoichiometryMath") != nil {
                        throw unsupported(
                            "rateOf of '\(excerpt(id))', whose stoichiometry in reaction '\(excerpt(rid))' "
                                + "is stoichiometryMath,", place, instead: Importer.rateOfInstead)
                    }
                    // A speciesReference with an id is a name until the values are known (`run`
                    // substitutes it in rules), then its value.
                    let nu: Expr =
                        ref.attributes["id"].map { r in stoichiometryValues[r].map(Expr.number) ?? .name(r) }
                        ?? .number(ref.attributes["stoichiometry"].flatMap(Double.init) ?? 1)
                    let scaled = try node(.multiply(.number(sign), nu), Term(.number(sign)), Term(nu), place: place)
                    let flux = try reactionFlux(rid, place: place)
                    terms.append(try node(.multiply(scaled.expr, flux.expr), scaled, flux, place: place))
                }
            }
        }
        guard !terms.isEmpty else { return Term(.number(0)) }
        var rate = try fold(terms[...], place: place) { try node(.add($0.expr, $1.expr), $0, $1, place: place) }
        if let factor = conversionFactor[id] {
            rate = try node(
                .multiply(rate.expr, .name(factor)), rate,
                Term(.name(factor)), place: place)
        }
        return onlySubstance.contains(id)
            ? rate : try node(.divide(rate.expr, .name(compartment)), rate, Term(.name(compartment)), place: place)
    }

    /// The scope for a call of function definition `name`: its parameters bound to the
    /// arguments. The body sees only its arguments (and time), so no outer substitution applies.
    func bind(_ name: String, _ args: [Term], place: String) throws -> Scope {
        let f = functions[name]!
        guard f.parameters.count == args.count else {
            throw SBMLImportError(
                "SBML \(place) calls functionDefinition '\(excerpt(name))' with \(args.count) arguments; it "
                    + "takes \(f.parameters.count): pass \(f.parameters.count).")
        }
        return Scope(names: Dictionary(zip(f.parameters, args), uniquingKeysWith: { a, _ in a }))
    }

    /// "SBML kineticLaw of reaction 'R' uses the MathML <x>, which is not supported yet; INSTEAD."
    /// `place` names the element and its id; `instead` says what to write instead.
    func unsupported(_ what: String, _ place: String, instead: String = Importer.mathInstead) -> SBMLImportError {
        SBMLImportError.unsupported("SBML \(place) uses the MathML \(what), which is not supported yet; \(instead).")
    }

    /// The initial assignment to `id` when its math reads time.
    func timeDependentInitialAssignment(_ id: String) -> XMLNode? {
        func readsTime(_ n: XMLNode) -> Bool {
            (n.name == "csymbol" && (n.attributes["definitionURL"] ?? "").hasSuffix("/time"))
                || n.children.contains(where: readsTime)
        }
        return model.list("listOfInitialAssignments", "initialAssignment").first {
            $0.attributes["symbol"] == id && $0.child("math").map(readsTime) == true
        }
    }

    /// A csymbol the import does not know (or delay outside a function application).
    func unsupportedCsymbol(_ url: String, _ place: String) -> SBMLImportError {
        if url.hasSuffix("/delay") {
            return unsupported(
                "csymbol delay without arguments", place,
                instead:
                    "apply delay to the value and the lag: <apply><csymbol …/delay> delay </csymbol> x tau </apply>")
        }
        return unsupported(
            "csymbol \(excerpt(url))", place,
            instead: "the csymbols read are time, avogadro and rateOf (http://www.sbml.org/sbml/symbols/…)")
    }

    /// What to do about MathML the import does not read.
    static let mathInstead =
        "write it with the MathML of SBML core that the import reads (docs/sbml-import.md, Supported: plus, "
        + "minus, times, divide, power, the functions, piecewise, relations and logic)"
    static let rateOfInstead = "write the rate as an expression (the rate law or rule it stands for) instead of rateOf"
    static let conditionInstead =
        "write it as relations of two values (<lt/>, <leq/>, <gt/>, <geq/>, <eq/>, <neq/>) combined with <and/>, "
        + "<or/>, <xor/>, <not/>"

    // The conversion recurses once per MathML level, through `expression` and `apply` only (the
    // operators are built in `operation`, outside the recursion, to keep each level's frame small).
    func expression(_ node: XMLNode, place: String, scope: Scope) throws -> Term {
        try enter(place)
        defer { leave() }
        switch node.name {
        case "semantics":
            guard let first = node.children.first else {
                throw unsupported(
                    "<semantics> without content", place, instead: "put the expression inside <semantics>")
            }
            return try expression(first, place: place, scope: scope)
        case "cn":
            return Term(.number(try number(node, place: place)))
        case "ci":
            let name = node.trimmedText
            if delayDepth.value > 0, scope.names[name] == nil, let ia = timeDependentInitialAssignment(name) {
                // Read in the past: before the start (t = 0) its history is its initial
                // assignment at that time, as the SBML Test Suite reads it.
                let depth = delayDepth.value
                delayDepth.value = 0
                let now = Result { try expression(node, place: place, scope: scope) }
                delayDepth.value = depth
                let before = try mathTerm(of: ia, place: "initialAssignment to '\(excerpt(name))'")
                let base = try now.get()
                return try self.node(
                    .select(left: .name("t"), right: .number(0), ifLess: before.expr, otherwise: base.expr), before,
                    base, place: place)
            }
            if let e = scope[name] { return e }
            if reactionIDs.contains(name) { return try reactionFlux(name, place: place) }
            // A speciesReference stands for its stoichiometry: a number once the initial values
            // are known, a name until then (replaced by `run`).
            if speciesReferenceIDs.contains(name) {
                return Term(
                    stoichiometryValues[name].map(Expr.number)
                        ?? .name(name))
            }
            return Term(.name(name))
        case "csymbol":
            let url = node.attributes["definitionURL"] ?? ""
            if url.hasSuffix("/time") { return Term(.name("t")) }
            // SBML Level 3's value (not CODATA 2018's).
            if url.hasSuffix("/avogadro") { return Term(.number(6.02214179e23)) }
            throw unsupportedCsymbol(url, place)
        case "pi": return Term(.number(Double.pi))
        case "infinity": return Term(.number(.infinity))
        case "notanumber": return Term(.number(.nan))
        case "exponentiale": return Term(.number(M_E))
        case "true": return Term(.number(1))
        case "false": return Term(.number(0))
        case "piecewise":
            // Without <otherwise> the value where no piece applies is undefined in SBML: NaN,
            // which a run reports where it reaches a rate (and writes where it is an output).
            var result = Term(.number(.nan))
            if let otherwise = node.child("otherwise") {
                guard let value = otherwise.children.first else {
                    throw unsupported("empty <otherwise>", place, instead: "give <otherwise> a value")
                }
                result = try expression(value, place: place, scope: scope)
            }
            for piece in node.children("piece").reversed() {
                guard piece.children.count == 2 else {
                    throw unsupported(
                        "<piece> without a value and a condition", place,
                        instead: "give each <piece> a value and then a condition")
                }
                let value = try expression(piece.children[0], place: place, scope: scope)
                result = try conditional(piece.children[1], then: value, else: result, place: place, scope: scope)
            }
            return result
        case "apply":
            return try apply(node, place: place, scope: scope)
        default:
            throw unsupported("<\(excerpt(node.name))>", place)
        }
    }

    func number(_ node: XMLNode, place: String) throws -> Double {
        let type = node.attributes["type"] ?? "real"
        let parts = node.text.split(separator: XMLNode.separator, omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        switch type {
        case "real", "integer":
            guard parts.count == 1, let x = Double(parts[0]) else {
                throw unsupported(
                    "number '\(excerpt(node.trimmedText))'", place,
                    instead: "write the number in decimal, as <cn> 1.5e-3 </cn>")
            }
            return x
        case "e-notation":
            guard parts.count == 2, let m = Double(parts[0]), let e = Double(parts[1]) else {
                throw unsupported(
                    "number '\(excerpt(node.trimmedText))'", place,
                    instead: "write the two parts as numbers, <cn type=\"\(type)\"> 1 <sep/> 3 </cn>")
            }
            return Double("\(parts[0])e\(parts[1])") ?? m * pow(10, e)
        case "rational":
            guard parts.count == 2, let p = Double(parts[0]), let q = Double(parts[1]) else {
                throw unsupported(
                    "number '\(excerpt(node.trimmedText))'", place,
                    instead: "write the two parts as numbers, <cn type=\"\(type)\"> 1 <sep/> 3 </cn>")
            }
            return p / q
        default:
            throw unsupported(
                "<cn type=\"\(excerpt(type))\">", place,
                instead: "use type real, integer, e-notation or rational (or write the value as a real)")
        }
    }

    func apply(_ node: XMLNode, place: String, scope: Scope) throws -> Term {
        guard let op = node.children.first else {
            throw unsupported("empty <apply>", place, instead: "give <apply> an operator and its arguments")
        }
        switch op.name {
        case "csymbol" where (op.attributes["definitionURL"] ?? "").hasSuffix("/rateOf"):
            guard node.children.count == 2, node.children[1].name == "ci" else {
                throw unsupported(
                    "rateOf of an expression", place,
                    instead: "rateOf takes one <ci>: write the rate of an expression out from the rates of its parts")
            }
            let rate = try rateOf(node.children[1].trimmedText, place: place, scope: scope)
            guard delayDepth.value > 0 else { return rate }
            // Read in the past: before the start (t = 0 in SBML) the history is constant, so its
            // rate is 0.
            return try self.node(
                .select(left: .name("t"), right: .number(0), ifLess: .number(0), otherwise: rate.expr), rate,
                place: place)
        case "csymbol" where Importer.isDelayCsymbol(op):
            guard node.children.count == 3 else {
                throw unsupported(
                    "csymbol delay with \(node.children.count - 1) arguments", place,
                    instead: "give delay two arguments: the value, then the lag")
            }
            let value = try { () throws -> Term in
                delayDepth.value += 1
                defer { delayDepth.value -= 1 }
                return try expression(node.children[1], place: place, scope: scope)
            }()
            let lag = try expression(node.children[2], place: place, scope: scope)
            if value.expr.containsDelay || lag.expr.containsDelay {
                throw unsupported(
                    "csymbol delay inside a delay", place,
                    instead: "introduce the inner delayed value as a species that follows it, or combine the lags")
            }
            return try self.node(.delay(value.expr, lag.expr), value, lag, place: place)
        case "csymbol":
            // A function csymbol other than rateOf and delay: one the import does not know.
            throw unsupportedCsymbol(op.attributes["definitionURL"] ?? "", place)
        case "lt", "gt", "leq", "geq", "eq", "neq", "and", "or", "not", "xor", "implies":
            // A condition in a numeric context: 1 when true, 0 when false.
            return try conditional(node, then: Term(.number(1)), else: Term(.number(0)), place: place, scope: scope)
        default: break
        }
        var args: [Term] = []
        for child in node.children.dropFirst() where child.name != "logbase" && child.name != "degree" {
            args.append(try expression(child, place: place, scope: scope))
        }
        if op.name == "ci" {
            let name = op.trimmedText
            guard let f = functions[name] else {
                if functionsWithoutMath.contains(name) {
                    throw unsupported(
                        "call of '\(excerpt(name))', a functionDefinition without math (it has no value)", place,
                        instead: "give '\(excerpt(name))' its <math><lambda>…</lambda></math>")
                }
                throw unsupported(
                    "call of '\(excerpt(name))', which is not a function definition", place,
                    instead: "declare '\(excerpt(name))' in listOfFunctionDefinitions, or correct the call")
            }
            return try expression(f.body, place: place, scope: try bind(name, args, place: place))
        }
        // The base of a logarithm and the degree of a root.
        var qualifier: Term?
        if op.name == "log", let base = node.child("logbase")?.children.first {
            qualifier = try expression(
                base,
                place: place, scope: scope)
        }
        if op.name == "root", let degree = node.child("degree")?.children.first {
            qualifier = try expression(
                degree,
                place: place, scope: scope)
        }
        return try operation(op.name, args, qualifier: qualifier, place: place)
    }

    /// The operator `name` applied to converted arguments.
    func operation(_ name: String, _ args: [Term], qualifier: Term?, place: String) throws -> Term {
        func arity(_ n: Int) throws {
            guard args.count == n else {
                throw unsupported(
                    "<\(name)> with \(args.count) arguments", place,
                    instead: "give <\(name)> \(n) argument\(n == 1 ? "" : "s")")
            }
        }
        func function(_ f: Expr.Function, _ a: Term) throws -> Term { try node(.function(f, a.expr), a, place: place) }
        func binary(_ a: Term, _ b: Term, _ make: (Expr, Expr) -> Expr) throws -> Term {
            try node(make(a.expr, b.expr), a, b, place: place)
        }
        func select(_ l: Term, _ r: Term, _ x: Term, _ y: Term) throws -> Term {
            try node(.select(left: l.expr, right: r.expr, ifLess: x.expr, otherwise: y.expr), l, r, x, y, place: place)
        }
        let one = Term(.number(1))
        switch name {
        case "plus":
            guard !args.isEmpty else { return Term(.number(0)) }
            return try fold(args[...], place: place) { try binary($0, $1, Expr.add) }
        case "times":
            guard !args.isEmpty else { return Term(.number(1)) }
            return try fold(args[...], place: place) { try binary($0, $1, Expr.multiply) }
        case "minus":
            if args.count == 1 { return try node(.negate(args[0].expr), args[0], place: place) }
            try arity(2)
            return try binary(args[0], args[1], Expr.subtract)
        case "divide":
            try arity(2)
            return try binary(args[0], args[1], Expr.divide)
        case "power":
            try arity(2)
            return try binary(args[0], args[1], Expr.power)
        case "exp", "ln", "abs", "floor", "ceiling", "factorial":
            try arity(1)
            let f: [String: Expr.Function] = [
                "exp": .exp, "ln": .log, "abs": .abs, "floor": .floor, "ceiling": .ceil,
                "factorial": .factorial,
            ]
            return try function(f[name]!, args[0])
        case "sin", "cos", "tan", "sinh", "cosh", "tanh":
            try arity(1)
            return try function(Expr.Function(rawValue: name)!, args[0])
        case "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh":
            try arity(1)
            return try function(Expr.Function(rawValue: "a" + name.dropFirst(3))!, args[0])
        case "sec", "csc", "cot", "sech", "csch", "coth":
            // Reciprocals of cos, sin, tan and their hyperbolic forms.
            try arity(1)
            let base = ["sec": "cos", "csc": "sin", "cot": "tan", "sech": "cosh", "csch": "sinh", "coth": "tanh"][name]!
            return try binary(one, try function(Expr.Function(rawValue: base)!, args[0]), Expr.divide)
        case "arcsec", "arccsc", "arccot", "arcsech", "arccsch", "arccoth":
            // Inverses of the reciprocals: arcsec x = arccos(1/x), and so on.
            try arity(1)
            let base = [
                "arcsec": "acos", "arccsc": "asin", "arccot": "atan", "arcsech": "acosh", "arccsch": "asinh",
                "arccoth": "atanh",
            ][name]!
            return try function(Expr.Function(rawValue: base)!, try binary(one, args[0], Expr.divide))
        case "quotient", "rem":
            // Integer division truncated toward zero, and the remainder with the dividend's sign.
            try arity(2)
            let ratio = try binary(args[0], args[1], Expr.divide)
            let truncated = try select(ratio, Term(.number(0)), try function(.ceil, ratio), try function(.floor, ratio))
            return name == "quotient"
                ? truncated
                : try binary(
                    args[0], try binary(args[1], truncated, Expr.multiply),
                    Expr.subtract)
        case "min", "max":
            // n-ary (MathML 3): nested selects.
            guard !args.isEmpty else {
                throw unsupported("<\(name)> without arguments", place, instead: "give <\(name)> at least one argument")
            }
            return try fold(args[...], place: place) { a, b in
                name == "min"
                    ? try select(a, b, a, b)
                    : try select(
                        a, b,
                        b, a)
            }
        case "log":
            try arity(1)
            if let b = qualifier {
                if b.expr == .number(10) { return try function(.log10, args[0]) }
                return try binary(try function(.log, args[0]), try function(.log, b), Expr.divide)
            }
            return try function(.log10, args[0])
        case "root":
            try arity(1)
            if let n = qualifier {
                if n.expr == .number(2) { return try function(.sqrt, args[0]) }
                return try binary(args[0], try binary(one, n, Expr.divide), Expr.power)
            }
            return try function(.sqrt, args[0])
        default:
            throw unsupported("<\(excerpt(name))>", place)
        }
    }

    /// A trigger's MathML as a condition: relations (chained ones such as `a < b < c` become
    /// `and`s), `and`, `or`, `xor`, `not`, `true`, `false`.
    func condition(_ node: XMLNode, place: String, scope: Scope? = nil) throws -> Clause {
        try enter(place)
        defer { leave() }
        let scope = scope ?? Scope(global: globalSubstitution)
        switch node.name {
        case "semantics":
            guard let first = node.children.first else {
                throw unsupported(
                    "<semantics> without content", place, instead: "put the expression inside <semantics>")
            }
            return try condition(first, place: place, scope: scope)
        case "true": return Clause(condition: .constant(true), depth: 1, size: 1)
        case "false": return Clause(condition: .constant(false), depth: 1, size: 1)
        case "cn":
            // A number as a trigger: true when nonzero.
            return Clause(condition: .constant(try number(node, place: place) != 0), depth: 1, size: 1)
        case "apply":
            guard let op = node.children.first else {
                throw unsupported("empty <apply>", place, instead: "give <apply> an operator and its arguments")
            }
            let operands = Array(node.children.dropFirst())
            func fold(_ combine: (Condition, Condition) -> Condition) throws -> Clause {
                let parts = try operands.map { try condition($0, place: place, scope: scope) }
                // Without arguments MathML's and is true, or and xor false.
                guard var result = parts.first else {
                    return Clause(condition: .constant(op.name == "and"), depth: 1, size: 1)
                }
                for p in parts.dropFirst() {
                    result = try clause(
                        combine(result.condition, p.condition),
                        [
                            (result.depth, result.size),
                            (
                                p.depth,
                                p.size
                            ),
                        ], place: place)
                }
                return result
            }
            switch op.name {
            case "and": return try fold { .and($0, $1) }
            case "or": return try fold { .or($0, $1) }
            case "xor": return try fold { .xor($0, $1) }
            case "not":
                guard operands.count == 1 else {
                    throw unsupported(
                        "<not> with \(operands.count) arguments", place, instead: "give <not> one argument")
                }
                let a = try condition(operands[0], place: place, scope: scope)
                return try clause(.not(a.condition), [(a.depth, a.size)], place: place)
            case "implies":
                guard operands.count == 2 else {
                    throw unsupported(
                        "<implies> with \(operands.count) arguments", place, instead: "give <implies> two arguments")
                }
                let a = try condition(operands[0], place: place, scope: scope)
                let b = try condition(operands[1], place: place, scope: scope)
                return try clause(
                    .or(.not(a.condition), b.condition), [(a.depth + 1, a.size + 1), (b.depth, b.size)],
                    place: place)
            case "lt", "gt", "leq", "geq", "eq", "neq":
                // An equality is kept only on quantities that change at events alone (then it
                // changes only where triggers are evaluated): `checkTriggerEqualities` refuses the
                // others once the model is built, as root finding cannot locate them.
                let relation: Condition.Relation = [
                    "lt": .less, "gt": .greater, "leq": .lessEqual,
                    "geq": .greaterEqual, "eq": .equal, "neq": .notEqual,
                ][op.name]!
                if op.name == "neq" && operands.count != 2 {
                    throw unsupported(
                        "<neq> with \(operands.count) arguments", place,
                        instead: "compare two values, or combine pairs with <and/>")
                }
                let args = try operands.map { try expression($0, place: place, scope: scope) }
                guard args.count >= 2 else {
                    throw unsupported(
                        "<\(op.name)> with \(args.count) argument", place, instead: "compare at least two values")
                }
                var result: Clause?
                for k in 0..<(args.count - 1) {
                    let pair = try clause(
                        .comparison(args[k].expr, relation, args[k + 1].expr),
                        [
                            (args[k].depth, args[k].size),
                            (
                                args[k + 1].depth,
                                args[k + 1].size
                            ),
                        ], place: place)
                    result =
                        try result.map {
                            try clause(
                                .and($0.condition, pair.condition), [($0.depth, $0.size), (pair.depth, pair.size)],
                                place: place)
                        } ?? pair
                }
                return result!
            case "ci" where functions[op.trimmedText] != nil:
                // A function definition returning a condition: its body, arguments substituted
                // (the body sees only its arguments and time).
                let args = try operands.map { try expression($0, place: place, scope: scope) }
                return try condition(
                    functions[op.trimmedText]!.body, place: place,
                    scope: try bind(
                        op.trimmedText,
                        args, place: place))
            default:
                throw unsupported("<\(excerpt(op.name))> as a trigger", place, instead: Importer.conditionInstead)
            }
        default:
            throw unsupported("<\(excerpt(node.name))> as a trigger", place, instead: Importer.conditionInstead)
        }
    }

    /// `value` where `x` is nonzero, else `rest` (MathML reads a number as a boolean that way).
    func nonzero(_ x: Term, then value: Term, else rest: Term, place: String) throws -> Term {
        let zero = Term(.number(0))
        let positive = try node(
            .select(left: zero.expr, right: x.expr, ifLess: value.expr, otherwise: rest.expr), zero, x, value, rest,
            place: place)
        return try node(
            .select(left: x.expr, right: zero.expr, ifLess: value.expr, otherwise: positive.expr), x, zero, value,
            positive, place: place)
    }

    /// `condition ? then : else` as a select, for conditions comparing two values (or constants),
    /// numbers (nonzero is true) and piecewise choices of conditions.
    func conditional(
        _ condition: XMLNode, then value: Term, else rest: Term, place: String,
        scope: Scope
    ) throws -> Term {
        try enter(place)
        defer { leave() }
        switch condition.name {
        case "true": return value
        case "false": return rest
        case "semantics" where condition.children.first != nil:
            return try conditional(condition.children[0], then: value, else: rest, place: place, scope: scope)
        case "ci", "cn", "csymbol":
            // A number as a condition (a parameter that holds a boolean): true when nonzero.
            return try nonzero(
                try expression(condition, place: place, scope: scope), then: value, else: rest, place: place)
        case "piecewise":
            // A condition chosen by conditions: the first piece whose condition holds gives the
            // condition that decides.
            let pieces = condition.children.filter { $0.name == "piece" }
            guard let otherwise = condition.child("otherwise")?.children.first else {
                throw unsupported(
                    "<piecewise> without <otherwise> as a condition", place,
                    instead: "add an <otherwise> with the condition where no piece applies")
            }
            var result = try conditional(otherwise, then: value, else: rest, place: place, scope: scope)
            for piece in pieces.reversed() {
                guard piece.children.count == 2 else {
                    throw unsupported(
                        "<piece> without a value and a condition", place,
                        instead: "give each <piece> a value and then a condition")
                }
                let chosen = try conditional(piece.children[0], then: value, else: rest, place: place, scope: scope)
                result = try conditional(piece.children[1], then: chosen, else: result, place: place, scope: scope)
            }
            return result
        case "apply":
            guard let op = condition.children.first else {
                throw unsupported("empty <apply>", place, instead: "give <apply> an operator and its arguments")
            }
            let operands = Array(condition.children.dropFirst())
            func sub(_ c: XMLNode, _ yes: Term, _ no: Term) throws -> Term {
                try conditional(c, then: yes, else: no, place: place, scope: scope)
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
                func odd(_ cs: ArraySlice<XMLNode>, _ yes: Term, _ no: Term) throws -> Term {
                    guard let c = cs.first else { return no }
                    return try sub(c, try odd(cs.dropFirst(), no, yes), try odd(cs.dropFirst(), yes, no))
                }
                guard operands.count <= 6 else {
                    throw unsupported(
                        "<xor> with \(operands.count) arguments", place,
                        instead: "nest <xor>s of at most 6 arguments each")
                }
                return try odd(operands[...], value, rest)
            case "not":
                guard operands.count == 1 else {
                    throw unsupported(
                        "<not> with \(operands.count) arguments", place, instead: "give <not> one argument")
                }
                return try sub(operands[0], rest, value)
            case "implies":
                // a ⇒ b: false only when a holds and b does not.
                guard operands.count == 2 else {
                    throw unsupported(
                        "<implies> with \(operands.count) arguments", place, instead: "give <implies> two arguments")
                }
                return try sub(operands[0], try sub(operands[1], value, rest), value)
            default: break
            }
            if op.name == "ci", let f = functions[op.trimmedText] {
                // A function definition returning a condition: its body, arguments substituted.
                let args = try operands.map { try expression($0, place: place, scope: scope) }
                return try conditional(
                    f.body, then: value, else: rest, place: place,
                    scope: try bind(
                        op.trimmedText,
                        args, place: place))
            }
            if !["lt", "gt", "leq", "geq", "eq", "neq"].contains(op.name) {
                // Arithmetic as a condition: true when the value is nonzero.
                return try nonzero(
                    try expression(condition, place: place, scope: scope), then: value, else: rest, place: place)
            }
            let args = try operands.map { try expression($0, place: place, scope: scope) }
            if args.count > 2, ["lt", "gt", "leq", "geq", "eq", "neq"].contains(op.name) {
                // a < b < c: every neighbouring pair holds.
                var result = value
                for k in stride(from: args.count - 2, through: 0, by: -1) {
                    let pair = XMLNode(name: "apply", attributes: [:])
                    pair.children = [op, operands[k], operands[k + 1]]
                    result = try conditional(pair, then: result, else: rest, place: place, scope: scope)
                }
                return result
            }
            func select(_ l: Term, _ r: Term, _ x: Term, _ y: Term) throws -> Term {
                try node(
                    .select(left: l.expr, right: r.expr, ifLess: x.expr, otherwise: y.expr), l, r, x, y,
                    place: place)
            }
            if args.count == 2, op.name == "eq" || op.name == "neq" {
                let (a, b) = (args[0], args[1])
                let equal = op.name == "eq" ? value : rest
                let different = op.name == "eq" ? rest : value
                return try select(a, b, different, try select(b, a, different, equal))
            }
            guard args.count == 2, ["lt", "gt", "leq", "geq"].contains(op.name) else {
                throw unsupported(
                    "condition <\(excerpt(op.name))> in <piecewise>", place, instead: Importer.conditionInstead)
            }
            let (a, b) = (args[0], args[1])
            switch op.name {
            case "lt": return try select(a, b, value, rest)
            case "gt": return try select(b, a, value, rest)
            case "geq": return try select(a, b, rest, value)
            default: return try select(b, a, rest, value)  // leq
            }
        default:
            throw unsupported(
                "condition <\(excerpt(condition.name))> in <piecewise>", place, instead: Importer.conditionInstead)
        }
    }
}
