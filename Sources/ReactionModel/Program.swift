#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Expressions compiled to a flat postfix program over a slot array (species, parameters,
/// compartments, observables, time), evaluated by a small stack machine: no tree walking, no
/// existentials, no allocation per evaluation. All programs of a model share one tape.
struct Instruction {
    enum Code: UInt8 {
        case slot, constant
        case add, subtract, multiply, divide, negate
        /// x^k for a small integer k (in `index`) by repeated multiplication.
        case powerInteger
        case power
        case exp, log, log10, sqrt, abs, sign, floor, ceil, factorial, digamma
        /// Any other function of one argument: `Expression.apply` (not hot in IL-6 models).
        case function
        /// pops right, left, otherwise, ifLess (pushed in that order reversed): see `compile`.
        /// With `index` ≥ 0 the slot there, when set (not NaN), chooses instead of the comparison:
        /// nonzero takes ifLess (a `Switch`); the same for abs, sign, floor and ceil.
        case select
        /// pushes value + Σ coefficient·slot over `count` terms of the linear table from `index`:
        /// sums of species (totals, fractions' numerators) in one tight loop.
        case linear
    }
    var code: Code
    var index: Int32
    var value: Double
    var count: Int32 = 0

    /// The functions `.function` names by index.
    static let functions = Expression.Function.allCases
}

/// A contiguous piece of the tape that computes one expression.
struct ProgramRange {
    var start: Int32
    var end: Int32
    /// When the whole program is one slot load or one constant, evaluation skips the machine.
    var singleSlot: Int32 = -1
    var isConstant = false
    var constantValue = 0.0
}

/// Growable tape used while compiling; frozen into `ProgramTape`.
struct ProgramBuilder {
    var instructions: [Instruction] = []
    var maxDepth = 1
    var linearSlots: [Int32] = []
    var linearCoefficients: [Double] = []
    /// The slot of the switch that fixes a select (`.less`, of left − right), abs or sign
    /// (`.less`, of the argument), floor or ceil node, or −1 (`ReactionNetwork` sets it).
    var switchSlot: ((Switch.Kind, Expression) -> Int)? = nil
    /// The slot that holds the past value of a `delay` node (`ReactionNetwork` fills it before
    /// each evaluation), or nil: the value now is compiled instead.
    var delaySlot: ((Expression) -> Int)? = nil

    /// The terms of `e` when it is a sum of (number ×) names and numbers with at least three
    /// name terms, else nil.
    static func linearTerms(_ e: Expression, slot: (String) -> Int) -> (terms: [(Int, Double)], constant: Double)? {
        switch e {
        case .add, .subtract: break
        default: return nil
        }
        var terms: [(Int, Double)] = []
        var constant = 0.0
        // Depth first, left operand first (the order of the terms in the text), without recursion.
        var pending: [(Expression, Double)] = [(e, 1)]
        while let (e, sign) = pending.popLast() {
            switch e {
            case .number(let x): constant += sign * x
            case .name(let n): terms.append((slot(n), sign))
            case .multiply(.number(let c), .name(let n)), .multiply(.name(let n), .number(let c)):
                terms.append((slot(n), sign * c))
            case .negate(let a): pending.append((a, -sign))
            case .add(let a, let b):
                pending.append((b, sign))
                pending.append((a, sign))
            case .subtract(let a, let b):
                pending.append((b, -sign))
                pending.append((a, sign))
            default: return nil
            }
        }
        return terms.count >= 3 ? (terms, constant) : nil
    }

    /// Compiles `expression`, mapping names to slots with `slot(name)` (names are already checked).
    /// Post-order with an explicit stack: the Jacobian's expressions are deeper than the model's.
    mutating func compile(_ expression: Expression, slot: (String) -> Int) -> ProgramRange {
        let start = instructions.count
        var depth = 0
        func switchOf(_ kind: Switch.Kind, _ argument: Expression) -> Int {
            switchSlot?(kind, argument) ?? -1
        }
        func emit(_ code: Instruction.Code, _ index: Int = 0, _ value: Double = 0, delta: Int) {
            instructions.append(Instruction(code: code, index: Int32(index), value: value))
            depth += delta
            maxDepth = max(maxDepth, depth)
        }
        // An operand still to compile, or the operator of a node whose operands are compiled.
        var pending: [(node: Expression, operandsDone: Bool)] = [(expression, false)]
        while let (e, operandsDone) = pending.popLast() {
            if !operandsDone {
                if let (terms, constant) = ProgramBuilder.linearTerms(e, slot: slot) {
                    let start = linearSlots.count
                    for (s, c) in terms {
                        linearSlots.append(Int32(s))
                        linearCoefficients.append(c)
                    }
                    instructions.append(
                        Instruction(code: .linear, index: Int32(start), value: constant, count: Int32(terms.count)))
                    depth += 1
                    maxDepth = max(maxDepth, depth)
                    continue
                }
                switch e {
                case .number(let x): emit(.constant, 0, x, delta: 1)
                case .name(let n): emit(.slot, slot(n), delta: 1)
                case .delay(let a, _):
                    if let delaySlot { emit(.slot, delaySlot(e), delta: 1) } else { pending.append((a, false)) }
                case .negate(let a), .function(_, let a):
                    pending.append((e, true))
                    pending.append((a, false))
                case .power(let a, .number(let k)) where k == k.rounded() && k >= 2 && k <= 8:
                    pending.append((e, true))
                    pending.append((a, false))
                case .add(let a, let b), .subtract(let a, let b), .multiply(let a, let b), .divide(let a, let b),
                    .power(let a, let b):
                    pending.append((e, true))
                    pending.append((b, false))
                    pending.append((a, false))
                case .select(let l, let r, let x, let y):
                    // Operands in the order ifLess, otherwise, left, right (see `.select`).
                    pending.append((e, true))
                    pending.append((r, false))
                    pending.append((l, false))
                    pending.append((y, false))
                    pending.append((x, false))
                }
                continue
            }
            switch e {
            case .number, .name, .delay: break
            case .negate: emit(.negate, delta: 0)
            case .add: emit(.add, delta: -1)
            case .subtract: emit(.subtract, delta: -1)
            case .multiply: emit(.multiply, delta: -1)
            case .divide: emit(.divide, delta: -1)
            case .power(_, .number(let k)) where k == k.rounded() && k >= 2 && k <= 8:
                emit(.powerInteger, Int(k), delta: 0)
            case .power: emit(.power, delta: -1)
            case .function(let f, let a):
                switch f {
                case .exp: emit(.exp, delta: 0)
                case .log: emit(.log, delta: 0)
                case .log10: emit(.log10, delta: 0)
                case .sqrt: emit(.sqrt, delta: 0)
                case .abs: emit(.abs, switchOf(.less, a), delta: 0)
                case .sign: emit(.sign, switchOf(.less, a), delta: 0)
                case .floor: emit(.floor, switchOf(.floor, a), delta: 0)
                case .ceil: emit(.ceil, switchOf(.ceil, a), delta: 0)
                case .factorial: emit(.factorial, delta: 0)
                case .digamma: emit(.digamma, delta: 0)
                default: emit(.function, Instruction.functions.firstIndex(of: f)!, delta: 0)
                }
            case .select(let l, let r, _, _): emit(.select, switchOf(.less, .subtract(l, r)), delta: -3)
            }
        }
        var range = ProgramRange(start: Int32(start), end: Int32(instructions.count))
        if instructions.count - start == 1 {
            let only = instructions[start]
            if only.code == .slot { range.singleSlot = only.index }
            if only.code == .constant {
                range.isConstant = true
                range.constantValue = only.value
            }
        }
        return range
    }
}

/// The frozen tape and the evaluation stack. A final class so that the pointers live as long as
/// the compiled model; evaluation writes only into its own stack.
final class ProgramTape {
    let instructions: UnsafeMutablePointer<Instruction>
    let count: Int
    let stack: UnsafeMutablePointer<Double>
    let linearSlots: UnsafeMutablePointer<Int32>
    let linearCoefficients: UnsafeMutablePointer<Double>

    init(_ builder: ProgramBuilder) {
        count = builder.instructions.count
        instructions = .allocate(capacity: max(count, 1))
        instructions.initialize(from: builder.instructions, count: count)
        linearSlots = .allocate(capacity: max(builder.linearSlots.count, 1))
        linearSlots.initialize(from: builder.linearSlots, count: builder.linearSlots.count)
        linearCoefficients = .allocate(capacity: max(builder.linearCoefficients.count, 1))
        linearCoefficients.initialize(from: builder.linearCoefficients, count: builder.linearCoefficients.count)
        stack = .allocate(capacity: builder.maxDepth + 1)
        stack.initialize(repeating: 0, count: builder.maxDepth + 1)
    }

    deinit {
        instructions.deallocate()
        stack.deallocate()
        linearSlots.deallocate()
        linearCoefficients.deallocate()
    }

    @inline(__always)
    func evaluate(_ range: ProgramRange, _ slots: UnsafePointer<Double>) -> Double {
        if range.singleSlot >= 0 { return slots[Int(range.singleSlot)] }
        if range.isConstant { return range.constantValue }
        var top = -1
        let s = stack
        var pc = Int(range.start)
        let end = Int(range.end)
        while pc < end {
            let instruction = instructions[pc]
            switch instruction.code {
            case .slot:
                top &+= 1
                s[top] = slots[Int(instruction.index)]
            case .constant:
                top &+= 1
                s[top] = instruction.value
            case .add:
                top &-= 1
                s[top] += s[top &+ 1]
            case .subtract:
                top &-= 1
                s[top] -= s[top &+ 1]
            case .multiply:
                top &-= 1
                s[top] *= s[top &+ 1]
            case .divide:
                top &-= 1
                s[top] /= s[top &+ 1]
            case .negate: s[top] = -s[top]
            case .powerInteger:
                let x = s[top]
                var r = x * x
                var k = 2
                while k < Int(instruction.index) {
                    r *= x
                    k &+= 1
                }
                s[top] = r
            case .power:
                top &-= 1
                s[top] = pow(s[top], s[top &+ 1])
            case .exp: s[top] = exp(s[top])
            case .log: s[top] = log(s[top])
            case .log10: s[top] = log10(s[top])
            case .sqrt: s[top] = s[top].squareRoot()
            case .abs:
                let fixed = instruction.index >= 0 ? slots[Int(instruction.index)] : .nan
                s[top] = fixed.isNaN ? abs(s[top]) : (fixed != 0 ? -s[top] : s[top])
            case .sign:
                let fixed = instruction.index >= 0 ? slots[Int(instruction.index)] : .nan
                s[top] = fixed.isNaN ? (s[top] > 0 ? 1 : (s[top] < 0 ? -1 : 0)) : (fixed != 0 ? -1 : 1)
            case .floor:
                let fixed = instruction.index >= 0 ? slots[Int(instruction.index)] : .nan
                s[top] = fixed.isNaN ? s[top].rounded(.down) : fixed
            case .ceil:
                let fixed = instruction.index >= 0 ? slots[Int(instruction.index)] : .nan
                s[top] = fixed.isNaN ? s[top].rounded(.up) : fixed
            case .factorial: s[top] = tgamma(s[top] + 1)
            case .digamma: s[top] = Expression.digamma(s[top])
            case .function: s[top] = Expression.apply(Instruction.functions[Int(instruction.index)], s[top])
            case .linear:
                var sum = instruction.value
                var e = Int(instruction.index)
                let end = e &+ Int(instruction.count)
                while e < end {
                    sum += linearCoefficients[e] * slots[Int(linearSlots[e])]
                    e &+= 1
                }
                top &+= 1
                s[top] = sum
            case .select:
                let right = s[top]
                let left = s[top &- 1]
                top &-= 3
                // stack now: [.., ifLess, otherwise] with top at ifLess; keep one
                let fixed = instruction.index >= 0 ? slots[Int(instruction.index)] : .nan
                let less = fixed.isNaN ? left < right : fixed != 0
                s[top] = less ? s[top] : s[top &+ 1]
            }
            pc &+= 1
        }
        return s[0]
    }
}
