import ReactionModel

/// A model definition as a readable model file (docs/model-format.md), which `ModelLoader` reads
/// back to the same definition: numbers in their shortest exact form, expressions in infix with
/// only the parentheses the grammar needs.
public enum TOMLWriter {
    // One section after another, in the model file's order: long, but flat.
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
            let table = "\(c.name) = { \(fields.joined(separator: ", ")) }"
            out.append(fields.count == 1 ? "\(c.name) = \(number(c.size))" : table)
        }

        let realSpecies = d.species.filter { !$0.isParameter }
        if !realSpecies.isEmpty {
            out.append("")
            out.append("[species]")
        }
        for s in realSpecies {
            var fields = [
                "initial = \(number(s.initial))",
                "compartment = \(string(d.compartments[s.compartment].name))",
            ]
            if s.constant { fields.append("constant = true") }
            if s.mayBeNegative { fields.append("may_be_negative = true") }
            if let a = s.absoluteTolerance { fields.append("atol = \(number(a))") }
            if let u = s.unit { fields.append("unit = \(string(u))") }
            if let x = s.description { fields.append("description = \(string(x))") }
            out.append("\(s.name) = { \(fields.joined(separator: ", ")) }")
        }

        // Parameters with rate rules are state variables in the definition, parameters in the file.
        let parameters =
            d.parameters
            + d.species.filter(\.isParameter).map {
                ModelDefinition.Parameter(name: $0.name, value: $0.initial, unit: $0.unit, description: $0.description)
            }
        if !parameters.isEmpty {
            out.append("")
            out.append("[parameters]")
            for p in parameters {
                out.append(entry(p.name, "value", number(p.value), unit: p.unit, description: p.description))
            }
        }

        if !d.observables.isEmpty {
            out.append("")
            out.append("[observables]")
            for o in d.observables {
                let text = ExpressionText.text(o.expression)
                out.append(entry(o.name, "expression", string(text), unit: o.unit, description: o.description))
            }
        }

        let ruled = d.species.filter { $0.rateRule != nil }
        if !ruled.isEmpty {
            out.append("")
            out.append("[rate_rules]")
            for s in ruled { out.append("\(s.name) = \(string(ExpressionText.text(s.rateRule!)))") }
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
            if let trigger = e.trigger {
                out.append("when = \(string(trigger.condition.description))")
                if !trigger.initialValue { out.append("initial_value = false") }
                if !trigger.persistent { out.append("persistent = false") }
                if let delay = trigger.delay { out.append("delay = \(expressionValue(delay))") }
                if !trigger.useValuesFromTriggerTime { out.append("use_values_from_trigger_time = false") }
                if let priority = trigger.priority { out.append("priority = \(expressionValue(priority))") }
            } else {
                let list = "at = [\(e.times.map(number).joined(separator: ", "))]"
                out.append(e.times.count == 1 ? "at = \(number(e.times[0]))" : list)
            }
            let sets = e.assignments.map { "\($0.targetName) = \(expressionValue($0.expression))" }
            out.append("set = { \(sets.joined(separator: ", ")) }")
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
    /// `name = value`, or with a unit or a description an inline table
    /// `name = { key = value, unit = …, description = … }`.
    static func entry(_ name: String, _ key: String, _ value: String, unit: String?, description: String?) -> String {
        guard unit != nil || description != nil else { return "\(name) = \(value)" }
        var fields = ["\(key) = \(value)"]
        if let u = unit { fields.append("unit = \(string(u))") }
        if let x = description { fields.append("description = \(string(x))") }
        return "\(name) = { \(fields.joined(separator: ", ")) }"
    }

    static func equation(_ r: ModelDefinition.Reaction, _ d: ModelDefinition) -> String {
        func side(_ list: [(species: Int, coefficient: Double)]) -> String {
            list.map { ($0.coefficient == 1 ? "" : number($0.coefficient) + " ") + d.species[$0.species].name }
                .joined(separator: " + ")
        }
        let l = side(r.reactants)
        let rhs = side(r.products)
        let arrow = r.reversible ? "<->" : "->"
        return [l, arrow, rhs].filter { !$0.isEmpty }.joined(separator: " ")
    }

    static func expressionValue(_ e: Expression) -> String {
        if case .number(let x) = e, x.isFinite { return number(x) }
        return string(ExpressionText.text(e))
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
        let escaped = s.replacingScalars { c in
            switch c {
            case "\"": return "\\\""
            case "\\": return "\\\\"
            case "\n": return "\\n"
            case "\r": return "\\r"
            case "\t": return "\\t"
            default:
                guard c.value < 0x20 || c.value == 0x7F else { return nil }
                let hex = String(c.value, radix: 16)
                return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
        }
        return "\"" + escaped + "\""
    }
}
