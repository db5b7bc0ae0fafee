/// The trigger of a state event (`when = "pSTAT3 > 0.5 and t > 10"`): comparisons of two
/// expressions combined with `and`, `or`, `xor` and `not`.
///
/// The solver watches each comparison through its root function `left − right` (the comparison
/// is a sign test of it: `left < right` exactly when `left − right < 0` in IEEE arithmetic), so
/// the moment a comparison changes is found by root finding on the dense output, not at the next
/// step's end.
public indirect enum Condition: Equatable, Sendable, CustomStringConvertible {
    case comparison(Expression, Relation, Expression)
    case and(Condition, Condition)
    case or(Condition, Condition)
    case xor(Condition, Condition)
    case not(Condition)
    case constant(Bool)

    public enum Relation: String, Sendable, CaseIterable {
        case less = "<"
        case lessEqual = "<="
        case greater = ">"
        case greaterEqual = ">="
        case equal = "=="
        case notEqual = "!="

        /// The comparison as a test of its root function's value `left − right`.
        @inline(__always)
        public func holds(_ difference: Double) -> Bool {
            switch self {
            case .less: return difference < 0
            case .lessEqual: return difference <= 0
            case .greater: return difference > 0
            case .greaterEqual: return difference >= 0
            case .equal: return difference == 0
            case .notEqual: return difference != 0
            }
        }
    }

    /// The comparisons in order of appearance (the order `evaluate` reads their values in).
    public var comparisons: [(left: Expression, relation: Relation, right: Expression)] {
        var list: [(left: Expression, relation: Relation, right: Expression)] = []
        func visit(_ c: Condition) {
            switch c {
            case .comparison(let l, let r, let x): list.append((l, r, x))
            case .and(let a, let b), .or(let a, let b), .xor(let a, let b):
                visit(a)
                visit(b)
            case .not(let a): visit(a)
            case .constant: break
            }
        }
        visit(self)
        return list
    }

    /// The root function of each comparison, `left − right`, in the order of `comparisons`.
    public var rootFunctions: [Expression] { comparisons.map { .subtract($0.left, $0.right) } }

    public var names: [String] {
        var seen = Set<String>()
        var list: [String] = []
        for c in comparisons { for n in c.left.names + c.right.names where seen.insert(n).inserted { list.append(n) } }
        return list
    }

    /// The truth value, given whether each comparison holds (indexed in `comparisons` order).
    public func evaluate(_ holds: (Int) -> Bool) -> Bool {
        var next = 0
        func value(_ c: Condition) -> Bool {
            switch c {
            case .comparison:
                defer { next += 1 }
                return holds(next)
            case .and(let a, let b):
                let x = value(a)
                let y = value(b)
                return x && y  // both sides: keeps the count
            case .or(let a, let b):
                let x = value(a)
                let y = value(b)
                return x || y
            case .xor(let a, let b): return value(a) != value(b)
            case .not(let a): return !value(a)
            case .constant(let b): return b
            }
        }
        return value(self)
    }

    /// Model-file text, parenthesised where `and` sits inside `or`/`xor` or under `not`.
    public var description: String {
        switch self {
        case .comparison(let l, let r, let x):
            return "\(ExpressionText.text(l)) \(r.rawValue) \(ExpressionText.text(x))"
        case .and(let a, let b): return "\(operand(a, in: self)) and \(operand(b, in: self))"
        case .or(let a, let b): return "\(operand(a, in: self)) or \(operand(b, in: self))"
        case .xor(let a, let b): return "\(operand(a, in: self)) xor \(operand(b, in: self))"
        case .not(let a):
            if case .comparison = a { return "not (\(a))" }
            if case .constant = a { return "not \(a)" }
            return "not (\(a))"
        case .constant(let b): return b ? "true" : "false"
        }
    }

    private func operand(_ c: Condition, in parent: Condition) -> String {
        switch (c, parent) {
        case (.comparison, _), (.constant, _), (.not, _): return c.description
        case (.and, .and): return c.description
        case (.or, .or): return c.description
        default: return "(\(c))"
        }
    }
}
