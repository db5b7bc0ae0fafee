import Foundation

/// A rate-law expression, parsed once from text. Names are resolved later, against the model.
///
/// `hill(x, K, n)` and `pow(a, b)` are desugared while parsing (to `x^n/(K^n + x^n)` and `a^b`),
/// so differentiation and compilation see only these node kinds.
public indirect enum Expression: Equatable, Sendable, CustomStringConvertible {
    case number(Double)
    /// A name as written: a species, parameter, compartment or observable; `t` is time.
    case name(String)
    case negate(Expression)
    case add(Expression, Expression)
    case subtract(Expression, Expression)
    case multiply(Expression, Expression)
    case divide(Expression, Expression)
    case power(Expression, Expression)
    case function(Function, Expression)
    /// `lessThan ? ifLess : otherwise` when `left < right`; the form of min, max and their
    /// derivatives.
    case select(left: Expression, right: Expression, ifLess: Expression, otherwise: Expression)
    /// `delay(value, lag)`: `value` as it was `lag` time units ago (SBML's delay csymbol; a
    /// delay differential equation). Before the start of a run the value is the initial one.
    /// Solving it needs the run's history (`StateHistory`); without one (steady states) it is
    /// the value now, which is where a steady state of the delay equation lies.
    case delay(Expression, Expression)

    public enum Function: String, Sendable, CaseIterable {
        case exp, log, log10, sqrt, abs
        /// sign(x) ∈ {−1, 0, 1}: the derivative of abs.
        case sign
        /// Rounding down and up (derivative zero almost everywhere).
        case floor, ceil
        /// x! = Γ(x + 1) (SBML's `factorial`), defined for non-integers too.
        case factorial
        /// Trigonometric and hyperbolic functions and their inverses (radians), as in C.
        case sin, cos, tan, asin, acos, atan, sinh, cosh, tanh, asinh, acosh, atanh
        /// ψ(x) = Γ′(x)/Γ(x): only in derivatives of `factorial`, never parsed from a file.
        case digamma
    }

    /// Every name the expression mentions, in order of first appearance.
    public var names: [String] {
        var seen = Set<String>()
        var list: [String] = []
        func visit(_ e: Expression) {
            switch e {
            case .number: break
            case .name(let n): if seen.insert(n).inserted { list.append(n) }
            case .negate(let a), .function(_, let a): visit(a)
            case .add(let a, let b), .subtract(let a, let b), .multiply(let a, let b),
                .divide(let a, let b), .power(let a, let b), .delay(let a, let b):
                visit(a)
                visit(b)
            case .select(let a, let b, let c, let d):
                visit(a)
                visit(b)
                visit(c)
                visit(d)
            }
        }
        visit(self)
        return list
    }

    /// Levels (a leaf is one) and nodes of the tree, where a name counts as `named(name)` levels
    /// and nodes (an observable written out). Sizes saturate instead of overflowing.
    func extent(named: (String) -> (depth: Int, size: Int)) -> (depth: Int, size: Int) {
        func combine(_ parts: (depth: Int, size: Int)...) -> (depth: Int, size: Int) {
            var depth = 0
            var size = 1
            for p in parts {
                depth = max(depth, p.depth)
                size = min(size &+ p.size, Int.max / 4)
            }
            return (depth + 1, size)
        }
        switch self {
        case .number: return (1, 1)
        case .name(let n): return named(n)
        case .negate(let a), .function(_, let a): return combine(a.extent(named: named))
        case .add(let a, let b), .subtract(let a, let b), .multiply(let a, let b),
            .divide(let a, let b), .power(let a, let b), .delay(let a, let b):
            return combine(a.extent(named: named), b.extent(named: named))
        case .select(let a, let b, let c, let d):
            return combine(
                a.extent(named: named), b.extent(named: named), c.extent(named: named), d.extent(named: named))
        }
    }

    /// The expression with every name replaced by `substitution(name)` where that is non-nil.
    public func substituting(_ substitution: (String) -> Expression?) -> Expression {
        switch self {
        case .number: return self
        case .name(let n): return substitution(n) ?? self
        case .negate(let a): return .negate(a.substituting(substitution))
        case .function(let f, let a): return .function(f, a.substituting(substitution))
        case .add(let a, let b): return .add(a.substituting(substitution), b.substituting(substitution))
        case .subtract(let a, let b): return .subtract(a.substituting(substitution), b.substituting(substitution))
        case .multiply(let a, let b): return .multiply(a.substituting(substitution), b.substituting(substitution))
        case .divide(let a, let b): return .divide(a.substituting(substitution), b.substituting(substitution))
        case .power(let a, let b): return .power(a.substituting(substitution), b.substituting(substitution))
        case .delay(let a, let b): return .delay(a.substituting(substitution), b.substituting(substitution))
        case .select(let a, let b, let c, let d):
            return .select(
                left: a.substituting(substitution), right: b.substituting(substitution),
                ifLess: c.substituting(substitution), otherwise: d.substituting(substitution))
        }
    }

    /// The expression with every `delay(value, lag)` node replaced by `replacement(value, lag)`
    /// where that is non-nil (the outermost node; replacements are not walked again).
    public func replacingDelays(_ replacement: (Expression, Expression) -> Expression?) -> Expression {
        func walk(_ e: Expression) -> Expression {
            switch e {
            case .number, .name: return e
            case .negate(let a): return .negate(walk(a))
            case .function(let f, let a): return .function(f, walk(a))
            case .add(let a, let b): return .add(walk(a), walk(b))
            case .subtract(let a, let b): return .subtract(walk(a), walk(b))
            case .multiply(let a, let b): return .multiply(walk(a), walk(b))
            case .divide(let a, let b): return .divide(walk(a), walk(b))
            case .power(let a, let b): return .power(walk(a), walk(b))
            case .select(let a, let b, let c, let d):
                return .select(left: walk(a), right: walk(b), ifLess: walk(c), otherwise: walk(d))
            case .delay(let a, let b): return replacement(a, b) ?? .delay(walk(a), walk(b))
            }
        }
        return walk(self)
    }

    /// Whether a `delay` node occurs anywhere in the expression.
    public var containsDelay: Bool {
        var pending = [self]
        while let e = pending.popLast() {
            switch e {
            case .number, .name: break
            case .delay: return true
            case .negate(let a), .function(_, let a): pending.append(a)
            case .add(let a, let b), .subtract(let a, let b), .multiply(let a, let b), .divide(let a, let b),
                .power(let a, let b):
                pending += [a, b]
            case .select(let a, let b, let c, let d): pending += [a, b, c, d]
            }
        }
        return false
    }

    public var description: String {
        switch self {
        case .number(let x): return x.plainText
        case .name(let n): return n
        case .negate(let a): return "-(\(a))"
        case .add(let a, let b): return "(\(a) + \(b))"
        case .subtract(let a, let b): return "(\(a) - \(b))"
        case .multiply(let a, let b): return "\(a)*\(b)"
        case .divide(let a, let b): return "\(a)/(\(b))"
        case .power(let a, let b): return "(\(a))^(\(b))"
        case .function(let f, let a): return "\(f.rawValue)(\(a))"
        case .select(let a, let b, let c, let d): return "(\(a) < \(b) ? \(c) : \(d))"
        case .delay(let a, let b): return "delay(\(a), \(b))"
        }
    }
}

extension Expression {
    /// The deepest expression a model may hold, counting every operator, call and parenthesis as
    /// a level (so also how deep the parser may recurse). Everything that walks an expression
    /// recurses (and releasing a tree does too, in the Swift runtime), so this bound, with room
    /// for derivatives, which are deeper, keeps them within a 512 KB thread stack.
    public static let maximumDepth = 100

    /// Chains of one associative operator with more operands than this are built as balanced
    /// trees: a sum of 100 000 terms is then 17 levels deep, not 100 000. Shorter chains keep
    /// the left-to-right order of evaluation, and so their exact results.
    public static let longChain = 64

    /// `operands[0] op₁ operands[1] op₂ …` evaluated left to right, where opₖ is `inverse(…)`
    /// when `inverse[k − 1]` (a − b, a / b) and `direct(…)` otherwise; longer than `longChain`,
    /// a balanced tree of the same operands in the same order (a − b + c as a − (b − c)).
    public static func chain(
        _ operands: [Expression], inverse: [Bool], direct: (Expression, Expression) -> Expression,
        inverse inverted: (Expression, Expression) -> Expression
    ) -> Expression {
        precondition(!operands.isEmpty && inverse.count == operands.count - 1)
        if operands.count <= longChain {
            var result = operands[0]
            for k in 1..<operands.count {
                result = inverse[k - 1] ? inverted(result, operands[k]) : direct(result, operands[k])
            }
            return result
        }
        // operands[lo..<hi] with each operator after the first flipped when `flip`; recursion
        // depth log₂ n.
        func build(_ lo: Int, _ hi: Int, flip: Bool) -> Expression {
            if hi - lo == 1 { return operands[lo] }
            let mid = (lo + hi) / 2
            let splitsInverse = inverse[mid - 1] != flip
            let left = build(lo, mid, flip: flip)
            let right = build(mid, hi, flip: flip != splitsInverse)
            return splitsInverse ? inverted(left, right) : direct(left, right)
        }
        return build(0, operands.count, flip: false)
    }
}

/// Why an expression could not be parsed, with the character offset of the problem.
public struct ExpressionSyntaxError: Error, Equatable, Sendable {
    public var message: String
    public var offset: Int
    /// The text nests deeper than `Expression.maximumDepth`.
    public var tooDeep = false
}

/// The result of a parse on the parser's own thread.
private final class ParserResult<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}

/// Recursive-descent parser: sum := product (('+'|'-') product)*; product := unary (('*'|'/') unary)*;
/// unary := '-' unary | power; power := atom ('^' unary)?; atom := number | name | name '(' args ')' | '(' sum ')'.
///
/// Recursion and the trees it builds are bounded by `Expression.maximumDepth`, so hostile input
/// fails with an error instead of overflowing the stack (see `tooDeep`).
public struct ExpressionParser {
    private let characters: [Character]
    private var position = 0
    /// Productions entered and not yet left: bounds the parser's own recursion.
    private var nesting = 0

    /// A parsed subtree and its depth (a leaf is 1), so that depth is checked while building.
    private typealias Parsed = (expression: Expression, depth: Int)
    private typealias ParsedCondition = (condition: Condition, depth: Int)

    public static func parse(_ text: String) throws -> Expression {
        try parseWhole(text, "expression") { try $0.parseSum().expression }
    }

    /// A condition: `or`/`xor` of `and`s of (`not`) comparisons `sum REL sum` with REL one of
    /// `< <= > >= == !=`, parenthesised conditions, `true`, `false`.
    public static func parseCondition(_ text: String) throws -> Condition {
        try parseWhole(text, "condition") { try $0.parseOr().condition }
    }

    /// All of `text` as one `production` (`what` it is, for the message when the text is empty),
    /// on a thread with a deep stack if the text may nest deeply.
    private static func parseWhole<T>(
        _ text: String, _ what: String, _ production: @escaping @Sendable (inout ExpressionParser) throws -> T
    ) throws -> T {
        if mayNestDeeply(text) { return try onParserStack { try parseWhole(shallow: text, what, production) } }
        return try parseWhole(shallow: text, what, production)
    }

    private static func parseWhole<T>(
        shallow text: String, _ what: String, _ production: (inout ExpressionParser) throws -> T
    ) throws -> T {
        var parser = ExpressionParser(characters: Array(text))
        parser.skipSpaces()
        guard !parser.atEnd else { throw ExpressionSyntaxError(message: "the \(what) is empty", offset: 0) }
        let parsed = try production(&parser)
        parser.skipSpaces()
        if !parser.atEnd {
            throw ExpressionSyntaxError(
                message: "unexpected '\(parser.characters[parser.position])'", offset: parser.position)
        }
        return parsed
    }

    /// Whether `text` has enough openers (parentheses, minus signs, powers, `not`) to nest more
    /// than a few levels. Recursive descent costs several KB of stack per level in a debug build,
    /// more than a 512 KB worker thread has at `Expression.maximumDepth`.
    static func mayNestDeeply(_ text: String) -> Bool {
        var openers = 0
        var previous: UInt8 = 0
        for b in text.utf8 {
            if b == UInt8(ascii: "(") || b == UInt8(ascii: "-") || b == UInt8(ascii: "^") {
                openers += 1
            } else if b == UInt8(ascii: "t") && previous == UInt8(ascii: "o") {
                openers += 1
            }  // "not"
            previous = b
        }
        return openers > 16
    }

    /// Runs the parser on a thread of its own with a stack that holds the deepest allowed text,
    /// whatever thread asked.
    private static func onParserStack<T>(_ parse: @escaping @Sendable () throws -> T) throws -> T {
        let box = ParserResult<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.result = Result { try parse() }
            done.signal()
        }
        thread.stackSize = 16 << 20
        thread.start()
        done.wait()
        return try box.result!.get()
    }

    private func tooDeep() -> ExpressionSyntaxError {
        ExpressionSyntaxError(
            message: "it is nested more than \(Expression.maximumDepth) levels deep", offset: position, tooDeep: true)
    }

    /// Enters a production that may recurse; `leave()` must follow.
    private mutating func enter() throws {
        nesting += 1
        if nesting > Expression.maximumDepth { throw tooDeep() }
    }

    private mutating func leave() { nesting -= 1 }

    private func checked(_ depth: Int) throws -> Int {
        if depth > Expression.maximumDepth { throw tooDeep() }
        return depth
    }

    private init(characters: [Character]) { self.characters = characters }

    /// Accepts `word` as a whole word (not the start of a longer name).
    private mutating func acceptWord(_ word: String) -> Bool {
        skipSpaces()
        let letters = Array(word)
        guard position + letters.count <= characters.count,
            Array(characters[position..<position + letters.count]) == letters
        else { return false }
        if position + letters.count < characters.count {
            let next = characters[position + letters.count]
            if next.isLetter || next.isNumber || next == "_" { return false }
        }
        position += letters.count
        return true
    }

    private mutating func parseOr() throws -> ParsedCondition {
        var operands = [try parseAnd()]
        var operators: [Bool] = []  // true: xor
        while true {
            if acceptWord("or") {
                operators.append(false)
            } else if acceptWord("xor") {
                operators.append(true)
            } else {
                break
            }
            operands.append(try parseAnd())
        }
        // or and xor are each associative, but not with each other: only a run of one of them
        // may be rebalanced.
        let same = !operators.contains(true) || !operators.contains(false)
        return try conditionChain(operands, balanced: same) { a, b, k in operators[k - 1] ? .xor(a, b) : .or(a, b) }
    }

    private mutating func parseAnd() throws -> ParsedCondition {
        var operands = [try parseNot()]
        while acceptWord("and") { operands.append(try parseNot()) }
        return try conditionChain(operands, balanced: true) { a, b, _ in .and(a, b) }
    }

    /// Joins operands left to right with `join(left, right, index of right)`; a long chain of one
    /// associative operator becomes a balanced tree (same operands in the same order, so
    /// `Condition.evaluate` reads the comparisons in the same order).
    private func conditionChain(
        _ operands: [ParsedCondition], balanced: Bool,
        _ join: (Condition, Condition, Int) -> Condition
    ) throws -> ParsedCondition {
        if operands.count == 1 { return operands[0] }
        if balanced && operands.count > Expression.longChain {
            func build(_ lo: Int, _ hi: Int) -> ParsedCondition {
                if hi - lo == 1 { return operands[lo] }
                let mid = (lo + hi) / 2
                let left = build(lo, mid)
                let right = build(mid, hi)
                return (join(left.condition, right.condition, mid), 1 + max(left.depth, right.depth))
            }
            let result = build(0, operands.count)
            return (result.condition, try checked(result.depth))
        }
        var result = operands[0]
        for k in 1..<operands.count {
            result = (
                join(result.condition, operands[k].condition, k), try checked(1 + max(result.depth, operands[k].depth))
            )
        }
        return result
    }

    private mutating func parseNot() throws -> ParsedCondition {
        try enter()
        defer { leave() }
        if acceptWord("not") {
            let inner = try parseNot()
            return (.not(inner.condition), try checked(inner.depth + 1))
        }
        if acceptWord("true") { return (.constant(true), 1) }
        if acceptWord("false") { return (.constant(false), 1) }
        // "(" opens either a condition or the first operand of a comparison: try the condition,
        // and fall back when what follows the ")" continues an expression.
        let mark = position
        if accept("(") {
            do {
                let inner = try parseOr()
                if accept(")") {
                    let after = position
                    skipSpaces()
                    let continues = current.map { "+-*/^<>=!".contains($0) } ?? false
                    if !continues {
                        position = after
                        return inner
                    }
                }
            } catch let e as ExpressionSyntaxError where e.tooDeep {
                throw e
            } catch {}
            position = mark
        }
        return try parseComparison()
    }

    private mutating func parseComparison() throws -> ParsedCondition {
        let left = try parseSum()
        skipSpaces()
        let start = position
        var symbol = ""
        while let c = current, "<>=!".contains(c), symbol.count < 2 {
            symbol.append(c)
            position += 1
        }
        guard let relation = Condition.Relation(rawValue: symbol) else {
            let found = symbol.isEmpty ? (current.map { "'\($0)'" } ?? "the end") : "'\(symbol)'"
            throw ExpressionSyntaxError(
                message: "expected a comparison (< <= > >= == !=) but found \(found)", offset: start)
        }
        let right = try parseSum()
        return (.comparison(left.expression, relation, right.expression), try checked(1 + max(left.depth, right.depth)))
    }

    private var atEnd: Bool { position >= characters.count }
    private var current: Character? { atEnd ? nil : characters[position] }

    private mutating func skipSpaces() {
        while let c = current, c == " " || c == "\t" || c == "\n" || c == "\r" { position += 1 }
    }

    private mutating func accept(_ c: Character) -> Bool {
        skipSpaces()
        if current == c {
            position += 1
            return true
        }
        return false
    }

    private mutating func parseSum() throws -> Parsed {
        var operands = [try parseProduct()]
        var subtracts: [Bool] = []
        while true {
            if accept("+") { subtracts.append(false) } else if accept("-") { subtracts.append(true) } else { break }
            operands.append(try parseProduct())
        }
        return try chain(operands, inverse: subtracts, direct: Expression.add, inverse: Expression.subtract)
    }

    private mutating func parseProduct() throws -> Parsed {
        var operands = [try parseUnary()]
        var divides: [Bool] = []
        while true {
            if accept("*") {
                if accept("*") {
                    throw ExpressionSyntaxError(
                        message: "'**' is not an operator; write powers as a^b", offset: position - 2)
                }
                divides.append(false)
            } else if accept("/") {
                divides.append(true)
            } else {
                break
            }
            operands.append(try parseUnary())
        }
        return try chain(operands, inverse: divides, direct: Expression.multiply, inverse: Expression.divide)
    }

    /// `operands[0] op₁ operands[1] op₂ …`, left-associative; a chain longer than
    /// `Expression.longChain` becomes a balanced tree (`Expression.chain`).
    private func chain(
        _ operands: [Parsed], inverse: [Bool], direct: (Expression, Expression) -> Expression,
        inverse inverted: (Expression, Expression) -> Expression
    ) throws -> Parsed {
        if operands.count == 1 { return operands[0] }
        let joined = Expression.chain(operands.map(\.expression), inverse: inverse, direct: direct, inverse: inverted)
        var depth: Int
        if operands.count > Expression.longChain {
            // The balanced tree is at most ⌈log₂ n⌉ levels above its deepest operand.
            var levels = 0
            while (1 << levels) < operands.count { levels += 1 }
            depth = levels + operands.map(\.depth).max()!
        } else {
            depth = operands[0].depth
            for operand in operands.dropFirst() { depth = 1 + max(depth, operand.depth) }
        }
        return (joined, try checked(depth))
    }

    private mutating func parseUnary() throws -> Parsed {
        try enter()
        defer { leave() }
        while accept("+") {}  // unary plus changes nothing
        if accept("-") {
            let inner = try parseUnary()
            return (.negate(inner.expression), try checked(inner.depth + 1))
        }
        return try parsePower()
    }

    private mutating func parsePower() throws -> Parsed {
        let base = try parseAtom()
        if accept("^") {
            let exponent = try parseUnary()
            return (.power(base.expression, exponent.expression), try checked(1 + max(base.depth, exponent.depth)))
        }
        return base
    }

    private mutating func parseAtom() throws -> Parsed {
        skipSpaces()
        guard let c = current else {
            throw ExpressionSyntaxError(message: "the expression ends too early", offset: position)
        }
        if c.isNumber || c == "." { return (.number(try parseNumber()), 1) }
        if c.isLetter || c == "_" {
            let start = position
            while let d = current, d.isLetter || d.isNumber || d == "_" { position += 1 }
            let name = String(characters[start..<position])
            if accept("(") { return try parseCall(name, at: start) }
            return (.name(name), 1)
        }
        if accept("(") {
            let inner = try parseSum()
            guard accept(")") else { throw ExpressionSyntaxError(message: "missing ')'", offset: position) }
            return inner
        }
        throw ExpressionSyntaxError(message: "unexpected '\(c)'", offset: position)
    }

    private mutating func parseNumber() throws -> Double {
        let start = position
        while let d = current, d.isNumber || d == "." { position += 1 }
        if let e = current, e == "e" || e == "E" {
            let mark = position
            position += 1
            if let s = current, s == "+" || s == "-" { position += 1 }
            if let d = current, d.isNumber {
                while let d = current, d.isNumber { position += 1 }
            } else {
                position = mark
            }
        }
        let text = String(characters[start..<position])
        guard let value = Double(text) else {
            throw ExpressionSyntaxError(message: "'\(text)' is not a number", offset: start)
        }
        return value
    }

    private mutating func parseCall(_ name: String, at start: Int) throws -> Parsed {
        var parsed: [Parsed] = []
        if !accept(")") {
            repeat { parsed.append(try parseSum()) } while accept(",")
            guard accept(")") else {
                throw ExpressionSyntaxError(message: "missing ')' after the arguments of \(name)", offset: position)
            }
        }
        let arguments = parsed.map(\.expression)
        // hill adds three levels (x^n / (K^n + x^n)), every other call at most one.
        let depth = try checked((parsed.map(\.depth).max() ?? 0) + (name == "hill" ? 3 : 1))
        func expect(_ count: Int) throws {
            guard arguments.count == count else {
                throw ExpressionSyntaxError(
                    message: "\(name) takes \(count) argument\(count == 1 ? "" : "s"), not \(arguments.count)",
                    offset: start)
            }
        }
        switch name {
        case "exp", "log", "log10", "sqrt", "abs", "floor", "ceil", "factorial",
            "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh":
            try expect(1)
            return (.function(Expression.Function(rawValue: name)!, arguments[0]), depth)
        case "ln":
            try expect(1)
            return (.function(.log, arguments[0]), depth)
        case "pow":
            try expect(2)
            return (.power(arguments[0], arguments[1]), depth)
        case "min":
            try expect(2)
            return (
                .select(left: arguments[0], right: arguments[1], ifLess: arguments[0], otherwise: arguments[1]), depth
            )
        case "max":
            try expect(2)
            return (
                .select(left: arguments[0], right: arguments[1], ifLess: arguments[1], otherwise: arguments[0]), depth
            )
        case "if_less":
            // if_less(a, b, x, y) = x when a < b, else y (the form SBML piecewise imports to).
            try expect(4)
            return (
                .select(left: arguments[0], right: arguments[1], ifLess: arguments[2], otherwise: arguments[3]), depth
            )
        case "delay":
            try expect(2)
            return (.delay(arguments[0], arguments[1]), depth)
        case "hill":
            try expect(3)
            let (x, k, n) = (arguments[0], arguments[1], arguments[2])
            return (.divide(.power(x, n), .add(.power(k, n), .power(x, n))), depth)
        default:
            throw ExpressionSyntaxError(
                message:
                    "unknown function '\(name)' (known: exp, log, ln, log10, sqrt, abs, floor, ceil, factorial, sin, "
                    + "cos, tan, asin, acos, atan, sinh, cosh, tanh, asinh, acosh, atanh, min, max, pow, hill, "
                    + "if_less, delay)",
                offset: start)
        }
    }
}
