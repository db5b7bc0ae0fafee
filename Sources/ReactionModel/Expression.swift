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
        var seen: [String] = []
        func visit(_ e: Expression) {
            switch e {
            case .number: break
            case .name(let n): if !seen.contains(n) { seen.append(n) }
            case .negate(let a), .function(_, let a): visit(a)
            case .add(let a, let b), .subtract(let a, let b), .multiply(let a, let b),
                 .divide(let a, let b), .power(let a, let b):
                visit(a); visit(b)
            case .select(let a, let b, let c, let d): visit(a); visit(b); visit(c); visit(d)
            }
        }
        visit(self)
        return seen
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
        case .select(let a, let b, let c, let d):
            return .select(left: a.substituting(substitution), right: b.substituting(substitution),
                           ifLess: c.substituting(substitution), otherwise: d.substituting(substitution))
        }
    }

    public var description: String {
        switch self {
        case .number(let x): return formatNumber(x)
        case .name(let n): return n
        case .negate(let a): return "-(\(a))"
        case .add(let a, let b): return "(\(a) + \(b))"
        case .subtract(let a, let b): return "(\(a) - \(b))"
        case .multiply(let a, let b): return "\(a)*\(b)"
        case .divide(let a, let b): return "\(a)/(\(b))"
        case .power(let a, let b): return "(\(a))^(\(b))"
        case .function(let f, let a): return "\(f.rawValue)(\(a))"
        case .select(let a, let b, let c, let d): return "(\(a) < \(b) ? \(c) : \(d))"
        }
    }
}

func formatNumber(_ x: Double) -> String {
    if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
    return "\(x)"
}

/// Why an expression could not be parsed, with the character offset of the problem.
public struct ExpressionSyntaxError: Error, Equatable, Sendable {
    public var message: String
    public var offset: Int
}

/// Recursive-descent parser: sum := product (('+'|'-') product)*; product := unary (('*'|'/') unary)*;
/// unary := '-' unary | power; power := atom ('^' unary)?; atom := number | name | name '(' args ')' | '(' sum ')'.
public struct ExpressionParser {
    private let characters: [Character]
    private var position = 0

    public static func parse(_ text: String) throws -> Expression {
        var parser = ExpressionParser(characters: Array(text))
        parser.skipSpaces()
        guard !parser.atEnd else { throw ExpressionSyntaxError(message: "the expression is empty", offset: 0) }
        let expression = try parser.parseSum()
        parser.skipSpaces()
        if !parser.atEnd {
            throw ExpressionSyntaxError(message: "unexpected '\(parser.characters[parser.position])'", offset: parser.position)
        }
        return expression
    }

    /// A condition: `or`/`xor` of `and`s of (`not`) comparisons `sum REL sum` with REL one of
    /// `< <= > >= == !=`, parenthesised conditions, `true`, `false`.
    public static func parseCondition(_ text: String) throws -> Condition {
        var parser = ExpressionParser(characters: Array(text))
        parser.skipSpaces()
        guard !parser.atEnd else { throw ExpressionSyntaxError(message: "the condition is empty", offset: 0) }
        let condition = try parser.parseOr()
        parser.skipSpaces()
        if !parser.atEnd {
            throw ExpressionSyntaxError(message: "unexpected '\(parser.characters[parser.position])'", offset: parser.position)
        }
        return condition
    }

    private init(characters: [Character]) { self.characters = characters }

    /// Accepts `word` as a whole word (not the start of a longer name).
    private mutating func acceptWord(_ word: String) -> Bool {
        skipSpaces()
        let letters = Array(word)
        guard position + letters.count <= characters.count, Array(characters[position..<position + letters.count]) == letters else { return false }
        if position + letters.count < characters.count {
            let next = characters[position + letters.count]
            if next.isLetter || next.isNumber || next == "_" { return false }
        }
        position += letters.count
        return true
    }

    private mutating func parseOr() throws -> Condition {
        var left = try parseAnd()
        while true {
            if acceptWord("or") { left = .or(left, try parseAnd()) }
            else if acceptWord("xor") { left = .xor(left, try parseAnd()) }
            else { return left }
        }
    }

    private mutating func parseAnd() throws -> Condition {
        var left = try parseNot()
        while acceptWord("and") { left = .and(left, try parseNot()) }
        return left
    }

    private mutating func parseNot() throws -> Condition {
        if acceptWord("not") { return .not(try parseNot()) }
        if acceptWord("true") { return .constant(true) }
        if acceptWord("false") { return .constant(false) }
        // "(" opens either a condition or the first operand of a comparison: try the condition,
        // and fall back when what follows the ")" continues an expression.
        let mark = position
        if accept("(") {
            if let inner = try? parseOr(), accept(")") {
                let after = position
                skipSpaces()
                let continues = current.map { "+-*/^<>=!".contains($0) } ?? false
                if !continues { position = after; return inner }
            }
            position = mark
        }
        return try parseComparison()
    }

    private mutating func parseComparison() throws -> Condition {
        let left = try parseSum()
        skipSpaces()
        let start = position
        var symbol = ""
        while let c = current, "<>=!".contains(c), symbol.count < 2 { symbol.append(c); position += 1 }
        guard let relation = Condition.Relation(rawValue: symbol) else {
            let found = symbol.isEmpty ? (current.map { "'\($0)'" } ?? "the end") : "'\(symbol)'"
            throw ExpressionSyntaxError(message: "expected a comparison (< <= > >= == !=) but found \(found)", offset: start)
        }
        return .comparison(left, relation, try parseSum())
    }

    private var atEnd: Bool { position >= characters.count }
    private var current: Character? { atEnd ? nil : characters[position] }

    private mutating func skipSpaces() {
        while let c = current, c == " " || c == "\t" || c == "\n" || c == "\r" { position += 1 }
    }

    private mutating func accept(_ c: Character) -> Bool {
        skipSpaces()
        if current == c { position += 1; return true }
        return false
    }

    private mutating func parseSum() throws -> Expression {
        var left = try parseProduct()
        while true {
            if accept("+") { left = .add(left, try parseProduct()) }
            else if accept("-") { left = .subtract(left, try parseProduct()) }
            else { return left }
        }
    }

    private mutating func parseProduct() throws -> Expression {
        var left = try parseUnary()
        while true {
            if accept("*") {
                if accept("*") { throw ExpressionSyntaxError(message: "'**' is not an operator; write powers as a^b", offset: position - 2) }
                left = .multiply(left, try parseUnary())
            } else if accept("/") { left = .divide(left, try parseUnary()) }
            else { return left }
        }
    }

    private mutating func parseUnary() throws -> Expression {
        if accept("-") { return .negate(try parseUnary()) }
        if accept("+") { return try parseUnary() }
        return try parsePower()
    }

    private mutating func parsePower() throws -> Expression {
        let base = try parseAtom()
        if accept("^") { return .power(base, try parseUnary()) }
        return base
    }

    private mutating func parseAtom() throws -> Expression {
        skipSpaces()
        guard let c = current else { throw ExpressionSyntaxError(message: "the expression ends too early", offset: position) }
        if c.isNumber || c == "." { return .number(try parseNumber()) }
        if c.isLetter || c == "_" {
            let start = position
            while let d = current, d.isLetter || d.isNumber || d == "_" { position += 1 }
            let name = String(characters[start..<position])
            if accept("(") { return try parseCall(name, at: start) }
            return .name(name)
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
        guard let value = Double(text) else { throw ExpressionSyntaxError(message: "'\(text)' is not a number", offset: start) }
        return value
    }

    private mutating func parseCall(_ name: String, at start: Int) throws -> Expression {
        var arguments: [Expression] = []
        if !accept(")") {
            repeat { arguments.append(try parseSum()) } while accept(",")
            guard accept(")") else { throw ExpressionSyntaxError(message: "missing ')' after the arguments of \(name)", offset: position) }
        }
        func expect(_ count: Int) throws {
            guard arguments.count == count else {
                throw ExpressionSyntaxError(message: "\(name) takes \(count) argument\(count == 1 ? "" : "s"), not \(arguments.count)", offset: start)
            }
        }
        switch name {
        case "exp", "log", "log10", "sqrt", "abs", "floor", "ceil", "factorial",
             "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh":
            try expect(1)
            return .function(Expression.Function(rawValue: name)!, arguments[0])
        case "ln":
            try expect(1)
            return .function(.log, arguments[0])
        case "pow":
            try expect(2)
            return .power(arguments[0], arguments[1])
        case "min":
            try expect(2)
            return .select(left: arguments[0], right: arguments[1], ifLess: arguments[0], otherwise: arguments[1])
        case "max":
            try expect(2)
            return .select(left: arguments[0], right: arguments[1], ifLess: arguments[1], otherwise: arguments[0])
        case "if_less":
            // if_less(a, b, x, y) = x when a < b, else y (the form SBML piecewise imports to).
            try expect(4)
            return .select(left: arguments[0], right: arguments[1], ifLess: arguments[2], otherwise: arguments[3])
        case "hill":
            try expect(3)
            let (x, k, n) = (arguments[0], arguments[1], arguments[2])
            return .divide(.power(x, n), .add(.power(k, n), .power(x, n)))
        default:
            throw ExpressionSyntaxError(message: "unknown function '\(name)' (known: exp, log, ln, log10, sqrt, abs, floor, ceil, factorial, sin, cos, tan, asin, acos, atan, sinh, cosh, tanh, asinh, acosh, atanh, min, max, pow, hill, if_less)", offset: start)
        }
    }
}
