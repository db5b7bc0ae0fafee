import ReactionModel

/// A model definition as a readable model file (docs/model-format.md), which `ModelLoader` reads
/// back to the same definition: numbers in their shortest exact form, expressions in infix with
/// only the parentheses the grammar needs.
public enum TOMLWriter {
    public static func document(for d: ModelDefinition) -> String {
        var out: [String] = []
        out.append("[model]")
        out.append("name = \(string(d.name))")
        if let u = d.timeUnit { out.append("time_unit = \(string(u))") }
        if let u = d.concentrationUnit { out.append("concentration_unit = \(string(u))") }
        if let s = d.description { out.append("description = \(string(s))") }
        if !d.references.isEmpty { out.append("references = [\(d.references.map(string).joined(separator: ", "))]") }

        out.append("")
        out.append("[compartments]")
        for c in d.compartments {
            var fields = ["size = \(number(c.size))"]
            if let u = c.unit { fields.append("unit = \(string(u))") }
            if let s = c.description { fields.append("description = \(string(s))") }
            out.append(fields.count == 1 ? "\(c.name) = \(number(c.size))" : "\(c.name) = { \(fields.joined(separator: ", ")) }")
        }

        out.append("")
        out.append("[species]")
        for s in d.species {
            var fields = ["initial = \(number(s.initial))", "compartment = \(string(d.compartments[s.compartment].name))"]
            if s.constant { fields.append("constant = true") }
            if let u = s.unit { fields.append("unit = \(string(u))") }
            if let x = s.description { fields.append("description = \(string(x))") }
            out.append("\(s.name) = { \(fields.joined(separator: ", ")) }")
        }

        if !d.parameters.isEmpty {
            out.append("")
            out.append("[parameters]")
            for p in d.parameters {
                if p.unit == nil && p.description == nil {
                    out.append("\(p.name) = \(number(p.value))")
                } else {
                    var fields = ["value = \(number(p.value))"]
                    if let u = p.unit { fields.append("unit = \(string(u))") }
                    if let x = p.description { fields.append("description = \(string(x))") }
                    out.append("\(p.name) = { \(fields.joined(separator: ", ")) }")
                }
            }
        }

        if !d.observables.isEmpty {
            out.append("")
            out.append("[observables]")
            for o in d.observables {
                let text = ExpressionPrinter.text(o.expression)
                if o.unit == nil && o.description == nil {
                    out.append("\(o.name) = \(string(text))")
                } else {
                    var fields = ["expression = \(string(text))"]
                    if let u = o.unit { fields.append("unit = \(string(u))") }
                    if let x = o.description { fields.append("description = \(string(x))") }
                    out.append("\(o.name) = { \(fields.joined(separator: ", ")) }")
                }
            }
        }

        for r in d.reactions {
            out.append("")
            out.append("[[reactions]]")
            out.append("id = \(string(r.id))")
            out.append("equation = \(string(equation(r, d)))")
            switch r.kinetics {
            case .massAction(let f, let b):
                out.append("forward = \(expressionValue(f))")
                if let b { out.append("reverse = \(expressionValue(b))") }
            case .rate(let e):
                out.append("rate = \(expressionValue(e))")
            }
            if let s = r.description { out.append("description = \(string(s))") }
        }

        for e in d.events {
            out.append("")
            out.append("[[events]]")
            out.append(e.times.count == 1 ? "at = \(number(e.times[0]))" : "at = [\(e.times.map(number).joined(separator: ", "))]")
            out.append("set = { \(e.assignments.map { "\($0.targetName) = \(expressionValue($0.expression))" }.joined(separator: ", ")) }")
            if let s = e.description { out.append("description = \(string(s))") }
        }

        let s = d.simulation
        out.append("")
        out.append("[simulation]")
        out.append("t_start = \(number(s.tStart))")
        out.append("t_end = \(number(s.tEnd))")
        if let times = s.explicitOutputTimes {
            out.append("output_times = [\(times.map(number).joined(separator: ", "))]")
        } else if let dt = s.outputInterval {
            out.append("output_interval = \(number(dt))")
        }
        out.append("rtol = \(number(s.rtol))")
        out.append("atol = \(number(s.atol))")
        return out.joined(separator: "\n") + "\n"
    }

    /// The reaction's equation rebuilt from its stoichiometry ("2 A + B -> C").
    static func equation(_ r: ModelDefinition.Reaction, _ d: ModelDefinition) -> String {
        func side(_ list: [(species: Int, coefficient: Double)]) -> String {
            list.map { ($0.coefficient == 1 ? "" : number($0.coefficient) + " ") + d.species[$0.species].name }
                .joined(separator: " + ")
        }
        let l = side(r.reactants), rhs = side(r.products)
        let arrow = r.reversible ? "<->" : "->"
        return [l, arrow, rhs].filter { !$0.isEmpty }.joined(separator: " ")
    }

    static func expressionValue(_ e: Expression) -> String {
        if case .number(let x) = e, x.isFinite { return number(x) }
        return string(ExpressionPrinter.text(e))
    }

    /// A TOML number in shortest round-trip form (integers without a decimal point).
    public static func number(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        return "\(x)"
    }

    /// A TOML basic string.
    public static func string(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if c.value < 0x20 || c.value == 0x7F {
                    out += "\\u" + String(repeating: "0", count: 4 - String(c.value, radix: 16).count) + String(c.value, radix: 16)
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out + "\""
    }
}

/// Infix text of an expression in the model-file grammar, parenthesised only where the grammar
/// needs it, so that `ExpressionParser.parse` gives back the same tree.
public enum ExpressionPrinter {
    // Levels: 1 sum, 2 product, 3 unary minus, 4 power, 5 atom.
    public static func text(_ e: Expression) -> String { print(e).text }

    private static func print(_ e: Expression) -> (text: String, level: Int) {
        switch e {
        case .number(let x):
            let s = TOMLWriter.number(x)
            return (s, x < 0 || s.hasPrefix("-") ? 3 : 5)
        case .name(let n): return (n, 5)
        case .negate(let a):
            let inner = print(a)
            // "--x" parses, but "-(-x)" reads better.
            return ("-" + (inner.level >= 4 ? inner.text : "(\(inner.text))"), 3)
        case .add(let a, let b): return (operand(a, atLeast: 1) + " + " + operand(b, atLeast: 2), 1)
        case .subtract(let a, let b): return (operand(a, atLeast: 1) + " - " + operand(b, atLeast: 2), 1)
        case .multiply(let a, let b): return (operand(a, atLeast: 2) + " * " + operand(b, atLeast: 3), 2)
        case .divide(let a, let b): return (operand(a, atLeast: 2) + " / " + operand(b, atLeast: 3), 2)
        case .power(let a, let b): return (operand(a, atLeast: 5) + "^" + operand(b, atLeast: 3), 4)
        case .function(let f, let a):
            switch f {
            case .sign:
                return ("if_less(\(text(a)), 0, -1, if_less(0, \(text(a)), 1, 0))", 5)
            default:
                return ("\(f.rawValue)(\(text(a)))", 5)
            }
        case .select(let l, let r, let ifLess, let otherwise):
            if ifLess == l && otherwise == r { return ("min(\(text(l)), \(text(r)))", 5) }
            if ifLess == r && otherwise == l { return ("max(\(text(l)), \(text(r)))", 5) }
            return ("if_less(\(text(l)), \(text(r)), \(text(ifLess)), \(text(otherwise)))", 5)
        }
    }

    private static func operand(_ e: Expression, atLeast level: Int) -> String {
        let p = print(e)
        return p.level >= level ? p.text : "(\(p.text))"
    }
}
