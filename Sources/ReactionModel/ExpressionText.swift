/// Infix text of an expression in the model-file grammar (the form the loader reads back).
public enum ExpressionText {
    public static func text(_ e: Expression) -> String { print(e).text }

    /// Levels: 1 sum, 2 product, 3 unary minus, 4 power, 5 atom.
    static func print(_ e: Expression) -> (text: String, level: Int) {
        switch e {
        case .number(let x) where !x.isFinite:
            // No literal in the grammar (inf and nan may be names): IEEE division makes them.
            return (x.isNaN ? "(0/0)" : x > 0 ? "(1/0)" : "(-1/0)", 5)
        case .number(let x):
            let s = x.plainText
            return (s, x < 0 || s.hasPrefix("-") ? 3 : 5)
        case .name(let n): return (n, 5)
        case .negate(let a):
            let inner = print(a)
            return ("-" + (inner.level >= 4 ? inner.text : "(\(inner.text))"), 3)
        case .add(let a, let b): return (operand(a, atLeast: 1) + " + " + operand(b, atLeast: 2), 1)
        case .subtract(let a, let b): return (operand(a, atLeast: 1) + " - " + operand(b, atLeast: 2), 1)
        case .multiply(let a, let b): return (operand(a, atLeast: 2) + " * " + operand(b, atLeast: 3), 2)
        case .divide(let a, let b): return (operand(a, atLeast: 2) + " / " + operand(b, atLeast: 3), 2)
        case .power(let a, let b): return (operand(a, atLeast: 5) + "^" + operand(b, atLeast: 3), 4)
        case .function(let f, let a):
            switch f {
            case .sign: return ("if_less(\(text(a)), 0, -1, if_less(0, \(text(a)), 1, 0))", 5)
            default: return ("\(f.rawValue)(\(text(a)))", 5)
            }
        case .select(let l, let r, let ifLess, let otherwise):
            if ifLess == l && otherwise == r { return ("min(\(text(l)), \(text(r)))", 5) }
            if ifLess == r && otherwise == l { return ("max(\(text(l)), \(text(r)))", 5) }
            return ("if_less(\(text(l)), \(text(r)), \(text(ifLess)), \(text(otherwise)))", 5)
        case .delay(let value, let lag): return ("delay(\(text(value)), \(text(lag)))", 5)
        }
    }

    static func operand(_ e: Expression, atLeast level: Int) -> String {
        let p = print(e)
        return p.level >= level ? p.text : "(\(p.text))"
    }
}
