/// The discontinuities of a model's right-hand side, as AMICI's Heaviside switches: every
/// condition of a `select` (piecewise, if_less, min, max) and every `abs`, `sign`, `floor` and
/// `ceil` of a quantity that changes with time or the state.
///
/// Each switch owns a slot of the network that, while set, fixes which branch the compiled
/// programs take (a `select` or `abs` its side, a `floor` or `ceil` its integer), so that between
/// two switches the right-hand side is smooth and the solver never steps across a jump. The
/// integration loop sets the slots at the start and at every restart, watches each switch's root
/// functions, stops where one crosses and restarts there; a switch that depends on time alone
/// (affinely, given the other switches) is an exact stop time computed ahead instead. A slot
/// that is not set (NaN, outside the loop) makes the programs compare live, as before.
public struct Switch: Sendable {
    public enum Kind: Sendable, Equatable {
        /// `argument < 0` picks a select's `ifLess` (or negates an abs): the slot holds 1 or 0.
        case less
        /// floor(argument) or ceil(argument): the slot holds the integer.
        case floor, ceil
    }

    public let kind: Kind
    /// `left − right` of a select, the argument of abs/sign/floor/ceil, observables written out.
    public let argument: Expression
    /// Whether the argument depends on nothing but time, parameters, compartment sizes and other
    /// switches.
    public let timeOnly: Bool
    /// When `timeOnly`: the argument as `a + b·t` with `a` and `b` free of time and state (other
    /// switches count as constants: their slots are fixed between stops), if it is affine.
    public let affine: (a: Expression, b: Expression)?

    /// The key that identifies a switch among the nodes of rate laws, observables and their
    /// derivatives.
    static func key(_ kind: Kind, _ argument: Expression) -> String {
        switch kind {
        case .less: return "<\(argument.simplified)"
        case .floor: return "f\(argument.simplified)"
        case .ceil: return "c\(argument.simplified)"
        }
    }

    /// The name a root function uses for switch `k`'s slot (never a name of a model).
    public static func slotName(_ k: Int) -> String { "$switch\(k)" }

    static func index(ofSlotName name: String) -> Int? {
        guard name.hasPrefix("$switch") else { return nil }
        return Int(name.dropFirst(7))
    }

    /// The root functions that watch switch `k` (each crosses zero where the switch changes) and
    /// the relation that holds before the crossing, for one that is watched by root finding.
    /// A `less` switch has one, `argument`; a floor or ceil of value n two: where the argument
    /// reaches the next integer up and where it falls past the one below.
    public func rootFunctions(_ k: Int) -> [(expression: Expression, relation: Condition.Relation)] {
        let n = Expression.name(Switch.slotName(k))
        switch kind {
        case .less: return [(argument, .less)]
        case .floor:
            // floor(x) = n on [n, n + 1): up when x ≥ n + 1, down when x < n.
            return [
                (.subtract(argument, .add(n, .number(1))), .less),
                (.subtract(argument, n), .less),
            ]
        case .ceil:
            // ceil(x) = m on (m − 1, m]: up when x > m, down when x ≤ m − 1.
            return [
                (.subtract(argument, n), .lessEqual),
                (.subtract(argument, .subtract(n, .number(1))), .lessEqual),
            ]
        }
    }

    /// The slot's value for the current branch, from the argument's value `x` (evaluated with
    /// every switch comparing live).
    public func value(at x: Double) -> Double {
        switch kind {
        case .less: return x < 0 ? 1 : 0
        case .floor: return x.rounded(.down)
        case .ceil: return x.rounded(.up)
        }
    }

    /// For an affine time switch of slot value `current`, whose argument is `a + b·t`: the next
    /// time after `time` at which it changes, and its value from then on.
    public func nextChange(after time: Double, current: Double, a: Double, b: Double) -> (
        time: Double, value: Double
    )? {
        guard b != 0, b.isFinite, a.isFinite, current.isFinite else { return nil }
        switch kind {
        case .less:
            let root = -a / b
            guard root > time else { return nil }
            return (root, b < 0 ? 1 : 0)
        case .floor, .ceil:
            // The integer level where the value changes, up or down; a crossing that rounds to
            // `time` itself is the next level's.
            let up = b > 0
            var level: Double
            switch (kind, up) {
            case (.floor, true): level = current + 1
            case (.floor, false): level = current
            case (_, true): level = current
            default: level = current - 1
            }
            var after = up ? current + 1 : current - 1
            for _ in 0..<3 {
                let root = (level - a) / b
                if root > time { return root.isFinite ? (root, after) : nil }
                level += up ? 1 : -1
                after += up ? 1 : -1
            }
            return nil
        }
    }

    /// The switches of `definition`'s rate laws, rate rules and observables, in order of first
    /// appearance, without those whose argument is constant between events (parameters only).
    public static func collect(_ definition: ModelDefinition) -> [Switch] {
        let symbols = definition.symbolTable
        let inlined = ReactionNetwork.allObservablesInlined(definition, symbols)
        func inline(_ name: String) -> Expression? { inlined[name] }
        var list: [Switch] = []
        var seen = Set<String>()
        func add(_ kind: Kind, _ raw: Expression) {
            let argument = raw.substituting(inline).simplified
            var dependsOnTime = false
            var dependsOnState = false
            for n in argument.names {
                switch symbols[n] {
                case .time?: dependsOnTime = true
                case .species?, .observable?, nil: dependsOnState = true
                default: break
                }
            }
            guard dependsOnTime || dependsOnState else { return }
            guard seen.insert(key(kind, argument)).inserted else { return }
            let timeOnly = !dependsOnState
            list.append(
                Switch(
                    kind: kind, argument: argument, timeOnly: timeOnly,
                    affine: timeOnly ? argument.affineInTime(isSwitch: true) : nil))
        }
        func visit(_ e: Expression) {
            var pending = [e]
            while let node = pending.popLast() {
                switch node {
                // A past value is computed live from the history, inside and out.
                case .number, .name, .delay: break
                case .negate(let a): pending.append(a)
                case .function(let f, let a):
                    switch f {
                    case .abs, .sign: add(.less, a)
                    case .floor: add(.floor, a)
                    case .ceil: add(.ceil, a)
                    default: break
                    }
                    pending.append(a)
                case .add(let a, let b), .subtract(let a, let b), .multiply(let a, let b), .divide(let a, let b),
                    .power(let a, let b):
                    pending.append(b)
                    pending.append(a)
                case .select(let l, let r, let x, let y):
                    add(.less, .subtract(l, r))
                    pending.append(y)
                    pending.append(x)
                    pending.append(r)
                    pending.append(l)
                }
            }
        }
        for reaction in definition.reactions {
            switch reaction.kinetics {
            case .rate(let law): visit(law)
            case .massAction(let f, let r):
                visit(f)
                if let r { visit(r) }
            }
        }
        for s in definition.species { if let rule = s.rateRule { visit(rule) } }
        for o in definition.observables { visit(o.expression) }
        return list
    }
}

extension Expression {
    /// The expression as `a + b·t` with `a` and `b` free of `t`, when it is affine in `t`
    /// (`t` being the name "t"); with `isSwitch`, floor, ceil and selects of time are constants
    /// (their switches' slots are fixed between stops) when their branches are.
    func affineInTime(isSwitch: Bool) -> (a: Expression, b: Expression)? {
        let zero = Expression.number(0)
        func timeFree(_ e: Expression) -> Bool { !e.names.contains("t") }
        func affine(_ e: Expression) -> (a: Expression, b: Expression)? {
            if timeFree(e) { return (e, zero) }
            switch e {
            case .name("t"): return (zero, .number(1))
            case .negate(let x):
                guard let p = affine(x) else { return nil }
                return (.negate(p.a), .negate(p.b))
            case .add(let x, let y):
                guard let p = affine(x), let q = affine(y) else { return nil }
                return (.add(p.a, q.a), .add(p.b, q.b))
            case .subtract(let x, let y):
                guard let p = affine(x), let q = affine(y) else { return nil }
                return (.subtract(p.a, q.a), .subtract(p.b, q.b))
            case .multiply(let x, let y):
                if timeFree(x), let q = affine(y) { return (.multiply(x, q.a), .multiply(x, q.b)) }
                if timeFree(y), let p = affine(x) { return (.multiply(p.a, y), .multiply(p.b, y)) }
                return nil
            case .divide(let x, let y):
                guard timeFree(y), let p = affine(x) else { return nil }
                return (.divide(p.a, y), .divide(p.b, y))
            case .function(.floor, _), .function(.ceil, _):
                return isSwitch ? (e, zero) : nil
            case .select(_, _, let x, let y):
                guard isSwitch, timeFree(x), timeFree(y) else { return nil }
                return (e, zero)
            default: return nil
            }
        }
        guard let (a, b) = affine(self) else { return nil }
        return (a.simplified, b.simplified)
    }
}
