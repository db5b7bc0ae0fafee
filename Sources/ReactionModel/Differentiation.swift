#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Symbolic differentiation and algebraic simplification of expressions, so that the solver gets
/// an exact analytic Jacobian of every rate law.
extension Expression {
    /// ∂self/∂variable, simplified. Names other than `variable` are constants here (observables
    /// must have been substituted by their definitions before).
    public func derivative(with variable: String) -> Expression {
        switch self {
        case .number: return .number(0)
        case .name(let n): return .number(n == variable ? 1 : 0)
        case .negate(let a), .function(_, let a): return derivative(a.derivative(with: variable))
        case .add(let a, let b), .subtract(let a, let b), .multiply(let a, let b), .divide(let a, let b),
            .power(let a, let b):
            return derivative(a.derivative(with: variable), b.derivative(with: variable))
        case .select(_, _, let x, let y):
            return derivative(x.derivative(with: variable), y.derivative(with: variable))
        // A past value does not move with the present state (the Newton matrix leaves it out,
        // as delay solvers built on BDF do).
        case .delay: return .number(0)
        }
    }

    /// ∂self/∂v for every name v that `wanted(v)` accepts, where that derivative is not a zero
    /// number (a missing entry is zero): the same expressions as `derivative(with:)`, in one walk
    /// whose cost is the sum over nodes of the names below them, not nodes × names (a rate law
    /// of 10 000 terms in 10 000 species has 10 000 nonzero derivatives).
    public func derivatives(where wanted: (String) -> Bool) -> [String: Expression] {
        var result: [String: Expression] = [:]
        func collect(_ entries: [String: Expression]) {
            result = entries.filter { $0.value != .number(0) }
        }
        switch self {
        case .number, .delay: break
        case .name(let n): if wanted(n) { result[n] = .number(1) }
        case .negate(let a), .function(_, let a):
            for (v, da) in a.derivatives(where: wanted) { result[v] = derivative(da) }
            collect(result)
        case .add(let a, let b), .subtract(let a, let b), .multiply(let a, let b), .divide(let a, let b),
            .power(let a, let b):
            let ga = a.derivatives(where: wanted)
            let gb = b.derivatives(where: wanted)
            for (v, da) in ga { result[v] = derivative(da, gb[v] ?? .number(0)) }
            for (v, db) in gb where ga[v] == nil { result[v] = derivative(.number(0), db) }
            collect(result)
        case .select(_, _, let x, let y):
            let gx = x.derivatives(where: wanted)
            let gy = y.derivatives(where: wanted)
            for (v, dx) in gx { result[v] = derivative(dx, gy[v] ?? .number(0)) }
            for (v, dy) in gy where gx[v] == nil { result[v] = derivative(.number(0), dy) }
            collect(result)
        }
        return result
    }

    /// The derivative of this node given the derivatives of its operands (of both branches for
    /// `select`): the chain rule, then simplification.
    func derivative(_ da: Expression, _ db: Expression = .number(0)) -> Expression {
        switch self {
        case .number, .name, .delay: preconditionFailure("leaves have no operands")
        case .negate: return Expression.negate(da).simplified
        case .add: return Expression.add(da, db).simplified
        case .subtract: return Expression.subtract(da, db).simplified
        case .multiply(let a, let b):
            return Expression.add(.multiply(da, b), .multiply(a, db)).simplified
        case .divide(let a, let b):
            // (a' b − a b') / b²
            if db == .number(0) { return Expression.divide(da, b).simplified }
            return Expression.divide(.subtract(.multiply(da, b), .multiply(a, db)), .power(b, .number(2))).simplified
        case .power(let base, let exponent):
            let (db, de) = (da, db)
            if de == .number(0) {
                // n · u^(n−1) · u'
                if db == .number(0) { return .number(0) }
                let reduced: Expression
                if case .number(let n) = exponent {
                    reduced = .number(n - 1)
                } else {
                    reduced = .subtract(exponent, .number(1))
                }
                return Expression.multiply(.multiply(exponent, .power(base, reduced)), db).simplified
            }
            if db == .number(0) {
                // u^v · v' · ln u, with its limit 0 at u = 0 (Hill terms x^n at x = 0, whose
                // sensitivity by n would otherwise be 0 · −∞ = NaN): ln(u + [u = 0]), so that u^v = 0
                // multiplies ln 1 there. (v' appears once: nested exponents stay linear in size.)
                let isZero = Expression.select(
                    left: .number(0), right: .function(.abs, base), ifLess: .number(0), otherwise: .number(1))
                return Expression.multiply(self, .multiply(de, .function(.log, .add(base, isZero)))).simplified
            }
            // u^v · (v' ln u + v u'/u)
            return Expression.multiply(
                self,
                .add(
                    .multiply(de, .function(.log, base)),
                    .divide(.multiply(exponent, db), base))
            ).simplified
        case .function(let f, let a):
            if da == .number(0) { return .number(0) }
            let outer: Expression
            switch f {
            case .exp: outer = self
            case .log: outer = .divide(.number(1), a)
            case .log10: outer = .divide(.number(1), .multiply(a, .number(M_LN10)))
            case .sqrt: outer = .divide(.number(1), .multiply(.number(2), self))
            case .abs: outer = .function(.sign, a)
            case .sign, .floor, .ceil: return .number(0)
            case .factorial: outer = .multiply(self, .function(.digamma, .add(a, .number(1))))
            case .digamma:
                preconditionFailure("digamma is not differentiated (it appears only in derivatives of factorial)")
            case .sin: outer = .function(.cos, a)
            case .cos: outer = .negate(.function(.sin, a))
            case .tan: outer = .divide(.number(1), .power(.function(.cos, a), .number(2)))
            case .asin: outer = .divide(.number(1), .function(.sqrt, .subtract(.number(1), .power(a, .number(2)))))
            case .acos:
                outer = .negate(.divide(.number(1), .function(.sqrt, .subtract(.number(1), .power(a, .number(2))))))
            case .atan: outer = .divide(.number(1), .add(.number(1), .power(a, .number(2))))
            case .sinh: outer = .function(.cosh, a)
            case .cosh: outer = .function(.sinh, a)
            case .tanh: outer = .subtract(.number(1), .power(self, .number(2)))
            case .asinh: outer = .divide(.number(1), .function(.sqrt, .add(.power(a, .number(2)), .number(1))))
            case .acosh: outer = .divide(.number(1), .function(.sqrt, .subtract(.power(a, .number(2)), .number(1))))
            case .atanh: outer = .divide(.number(1), .subtract(.number(1), .power(a, .number(2))))
            }
            return Expression.multiply(outer, da).simplified
        case .select(let l, let r, _, _):
            return Expression.select(left: l, right: r, ifLess: da, otherwise: db).simplified
        }
    }

    /// Constant folding and the identities 0+x, x·1, x·0, x^1, x^0, −(−x); keeps derivatives small.
    ///
    /// Bottom-up with explicit stacks rather than recursion: derivatives are several times deeper
    /// than the expressions they come from.
    public var simplified: Expression {
        // Each node is visited twice: first its operands are scheduled, then it is rebuilt from
        // their simplified forms, which lie on top of `done` in operand order.
        var pending: [(node: Expression, operandsDone: Bool)] = [(self, false)]
        var done: [Expression] = []
        while let (node, operandsDone) = pending.popLast() {
            switch node {
            case .number, .name, .delay:
                done.append(node)
                continue
            default: break
            }
            if !operandsDone {
                pending.append((node, true))
                switch node {
                case .number, .name, .delay: break
                case .negate(let a), .function(_, let a): pending.append((a, false))
                case .add(let a, let b), .subtract(let a, let b), .multiply(let a, let b), .divide(let a, let b),
                    .power(let a, let b):
                    pending.append((b, false))
                    pending.append((a, false))
                case .select(let l, let r, let x, let y):
                    pending.append((y, false))
                    pending.append((x, false))
                    pending.append((r, false))
                    pending.append((l, false))
                }
                continue
            }
            switch node {
            case .number, .name, .delay: break
            case .negate, .function:
                let a = done.removeLast()
                done.append(node.simplifiedNode(a))
            case .add, .subtract, .multiply, .divide, .power:
                let b = done.removeLast()
                let a = done.removeLast()
                done.append(node.simplifiedNode(a, b))
            case .select:
                let y = done.removeLast()
                let x = done.removeLast()
                let r = done.removeLast()
                let l = done.removeLast()
                done.append(node.simplifiedNode(l, r, x, y))
            }
        }
        return done[0]
    }

    /// This node simplified, given its operands already simplified (in operand order).
    private func simplifiedNode(
        _ x: Expression, _ y: Expression = .number(0), _ sx: Expression = .number(0),
        _ sy: Expression = .number(0)
    ) -> Expression {
        switch self {
        case .number, .name, .delay: return self
        case .negate:
            let s = x
            if case .number(let x) = s { return .number(-x) }
            if case .negate(let inner) = s { return inner }
            return .negate(s)
        case .add:
            if case .number(let p) = x, case .number(let q) = y { return .number(p + q) }
            if x == .number(0) { return y }
            if y == .number(0) { return x }
            if case .negate(let z) = y { return .subtract(x, z) }
            return .add(x, y)
        case .subtract:
            if case .number(let p) = x, case .number(let q) = y { return .number(p - q) }
            if y == .number(0) { return x }
            if x == .number(0) { return Expression.negate(y).simplified }
            return .subtract(x, y)
        case .multiply:
            if case .number(let p) = x, case .number(let q) = y { return .number(p * q) }
            if x == .number(0) || y == .number(0) { return .number(0) }
            if x == .number(1) { return y }
            if y == .number(1) { return x }
            if x == .number(-1) { return Expression.negate(y).simplified }
            if y == .number(-1) { return Expression.negate(x).simplified }
            return .multiply(x, y)
        case .divide:
            if case .number(let p) = x, case .number(let q) = y, q != 0 { return .number(p / q) }
            if x == .number(0) { return .number(0) }
            if y == .number(1) { return x }
            return .divide(x, y)
        case .power:
            if case .number(let p) = x, case .number(let q) = y { return .number(pow(p, q)) }
            if y == .number(1) { return x }
            if y == .number(0) { return .number(1) }
            return .power(x, y)
        case .function(let f, _):
            if case .number(let p) = x { return .number(Expression.apply(f, p)) }
            return .function(f, x)
        case .select:
            let (sl, sr) = (x, y)
            if sx == sy { return sx }
            if case .number(let p) = sl, case .number(let q) = sr { return p < q ? sx : sy }
            return .select(left: sl, right: sr, ifLess: sx, otherwise: sy)
        }
    }

    /// The value by walking the tree, with `value(name)` for names. For event assignments and
    /// tests: hot paths use compiled programs.
    public func evaluate(_ value: (String) -> Double) -> Double {
        switch self {
        case .number(let x): return x
        case .name(let n): return value(n)
        case .negate(let a): return -a.evaluate(value)
        case .add(let a, let b): return a.evaluate(value) + b.evaluate(value)
        case .subtract(let a, let b): return a.evaluate(value) - b.evaluate(value)
        case .multiply(let a, let b): return a.evaluate(value) * b.evaluate(value)
        case .divide(let a, let b): return a.evaluate(value) / b.evaluate(value)
        case .power(let a, let b): return pow(a.evaluate(value), b.evaluate(value))
        case .function(let f, let a): return Expression.apply(f, a.evaluate(value))
        case .select(let l, let r, let x, let y):
            return l.evaluate(value) < r.evaluate(value) ? x.evaluate(value) : y.evaluate(value)
        // The value now: callers with a run's history substitute past values first
        // (`ReactionNetwork.evaluate`).
        case .delay(let a, _): return a.evaluate(value)
        }
    }

    /// The value of function `f` at `x`.
    public static func apply(_ f: Function, _ x: Double) -> Double {
        switch f {
        case .exp: return exp(x)
        case .log: return log(x)
        case .log10: return log10(x)
        case .sqrt: return x.squareRoot()
        case .abs: return abs(x)
        case .sign: return x > 0 ? 1 : (x < 0 ? -1 : 0)
        case .floor: return x.rounded(.down)
        case .ceil: return x.rounded(.up)
        case .factorial: return tgamma(x + 1)
        case .digamma: return digamma(x)
        case .sin: return sin(x)
        case .cos: return cos(x)
        case .tan: return tan(x)
        case .asin: return asin(x)
        case .acos: return acos(x)
        case .atan: return atan(x)
        case .sinh: return sinh(x)
        case .cosh: return cosh(x)
        case .tanh: return tanh(x)
        case .asinh: return asinh(x)
        case .acosh: return acosh(x)
        case .atanh: return atanh(x)
        }
    }
}
