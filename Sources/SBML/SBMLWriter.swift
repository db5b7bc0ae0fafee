import ReactionModel

/// SBML Level 3 Version 2 core from a model definition: the same ODEs, in the same units, so that
/// libRoadRunner, COPASI or AMICI simulate the numbers `stat3sim run` prints.
///
/// The mapping (docs/model-format.md, "Semantics", is SBML's already):
/// * compartments → `<compartment spatialDimensions="3" constant="true">` with their sizes;
/// * species → `<species initialConcentration hasOnlySubstanceUnits="false">`; a constant
///   (clamped) species is `boundaryCondition="true"` and still `constant="false"`, so events may
///   set it;
/// * parameters → `<parameter>`, `constant="false"` when an exported event assigns them;
/// * observables → parameters of the same name with an `<assignmentRule>`;
/// * reactions → `<kineticLaw>` giving the flux (amount per time): `V · k · Π c^ν` for mass
///   action (`V · (k_f Π reactants − k_r Π products)` when reversible) and `V · rate` for a rate
///   law, where `V` is the compartment of the first reactant (of the first product for a synthesis);
/// * events → one `<event>` per distinct event time `T`, triggered by `time ≥ T`. Events at the
///   same time run one after another in file order in stat3sim; they are composed into one SBML
///   event (a later event's right-hand sides see the earlier ones' results), so the export does not
///   depend on how a tool orders simultaneous events.
///
/// * state events (`when`) → `<event>` with their trigger, delay, priority and flags. When there
///   is one without delay, the export adds a parameter `last_state_event_time` (which each of those
///   events sets to the time it fires) and a no-op event `recheck_after_state_event`, triggered by
///   `time ≥ last_state_event_time + δ` with δ = 1e-6 × (t_end − t_start): COPASI takes a root
///   found before the state has moved by its relative tolerance since the last event to be the
///   same root, so a trigger that turns false just after its own event (a dose that turns the
///   marker down at once) is missed and the event never fires again; the later stop makes COPASI
///   evaluate the triggers again. Both carry the annotation `<stat3sim:exportHelper/>`, and
///   `stat3sim import` drops them.
///
/// A scenario (or several, applied left to right as on the command line) replaces parameter
/// values, initial concentrations and compartment sizes and adds its events.
public enum SBMLWriter {
    public static func document(for model: ModelDefinition, scenario: ModelDefinition.Scenario?) -> String {
        document(for: model, scenarios: scenario.map { [$0] } ?? [])
    }

    public static func document(for model: ModelDefinition, scenarios: [ModelDefinition.Scenario]) -> String {
        var writer = Writer(model: model, scenarios: scenarios)
        return writer.write()
    }

    /// Text escaped for XML character data and attribute values (both quote kinds).
    public static func escape(_ text: String) -> String {
        text.replacingScalars { c in
            switch c {
            case "&": return "&amp;"
            case "<": return "&lt;"
            case ">": return "&gt;"
            case "\"": return "&quot;"
            case "'": return "&apos;"
            case "\n": return "&#10;"
            case "\r": return "&#13;"
            case "\t": return "&#9;"
            // Control characters other than tab/newline/return are not allowed in XML 1.0.
            default: return c.value < 0x20 ? "\u{FFFD}" : nil
            }
        }
    }

    /// A number as SBML and MathML read it back exactly (shortest round-trip form).
    /// The namespace of stat3sim's annotation (the run settings of an exported model).
    public static let annotationNamespace = "urn:stat3sim:simulation:1"

    /// The annotation of the elements the export adds for other tools only (see above); import
    /// drops every element that carries it.
    public static let exportHelperAnnotation =
        "<annotation><stat3sim:exportHelper xmlns:stat3sim=\"\(annotationNamespace)\"/></annotation>"

    /// The time after a state event at which the export's helper event has other tools evaluate
    /// the triggers again: 1e-6 of the simulated span (1 when the span is not positive).
    public static func recheckDelay(tStart: Double, tEnd: Double) -> Double {
        let span = tEnd - tStart
        return 1e-6 * (span > 0 && span.isFinite ? span : 1)
    }

    public static func number(_ x: Double) -> String {
        if x.isNaN { return "NaN" }  // XML Schema's spellings
        if x.isInfinite { return x > 0 ? "INF" : "-INF" }
        if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
        return "\(x)"
    }

    /// MathML content markup of an expression (no `<math>` wrapper).
    public static func mathML(_ e: Expression) -> String {
        switch e {
        case .number(let x) where x.isNaN: return "<notanumber/>"
        case .number(let x) where x.isInfinite: return x > 0 ? "<infinity/>" : "<apply><minus/><infinity/></apply>"
        case .number(let x): return "<cn> \(number(x)) </cn>"
        case .name("t"):
            return "<csymbol encoding=\"text\" definitionURL=\"http://www.sbml.org/sbml/symbols/time\"> time </csymbol>"
        case .name(let n): return "<ci> \(escape(n)) </ci>"
        case .negate(let a): return apply("minus", a)
        case .add: return "<apply><plus/>" + operands(e).map(mathML).joined() + "</apply>"
        case .subtract(let a, let b): return apply("minus", a, b)
        case .multiply: return "<apply><times/>" + operands(e).map(mathML).joined() + "</apply>"
        case .divide(let a, let b): return apply("divide", a, b)
        case .power(let a, let b): return apply("power", a, b)
        case .function(let f, let a):
            switch f {
            case .exp: return apply("exp", a)
            case .log: return apply("ln", a)
            case .log10: return "<apply><log/><logbase><cn> 10 </cn></logbase>\(mathML(a))</apply>"
            case .sqrt: return apply("root", a)
            case .abs: return apply("abs", a)
            case .floor: return apply("floor", a)
            case .ceil: return apply("ceiling", a)
            case .factorial: return apply("factorial", a)
            case .sin, .cos, .tan, .sinh, .cosh, .tanh: return apply(f.rawValue, a)
            case .asin, .acos, .atan, .asinh, .acosh, .atanh: return apply("arc" + f.rawValue.dropFirst(), a)
            case .digamma:
                preconditionFailure("digamma appears only in derivatives, never in a model's own expressions")
            case .sign:
                let x = mathML(a)
                return "<piecewise><piece><cn> -1 </cn><apply><lt/>\(x)<cn> 0 </cn></apply></piece>"
                    + "<piece><cn> 1 </cn><apply><gt/>\(x)<cn> 0 </cn></apply></piece>"
                    + "<otherwise><cn> 0 </cn></otherwise></piecewise>"
            }
        case .select(let l, let r, let ifLess, let otherwise):
            return "<piecewise><piece>\(mathML(ifLess))<apply><lt/>\(mathML(l))\(mathML(r))</apply></piece>"
                + "<otherwise>\(mathML(otherwise))</otherwise></piecewise>"
        case .delay(let value, let lag):
            return "<apply><csymbol encoding=\"text\" definitionURL=\"http://www.sbml.org/sbml/symbols/delay\"> delay "
                + "</csymbol>\(mathML(value))\(mathML(lag))</apply>"
        }
    }

    /// The operands of a left-nested chain of one associative operator, in order:
    /// `((a + b) + c)` → [a, b, c], written as one n-ary `<apply>` (evaluated left to right).
    private static func operands(_ e: Expression) -> [Expression] {
        switch e {
        case .add(let a, let b): if case .add = a { return operands(a) + [b] } else { return [a, b] }
        case .multiply(let a, let b): if case .multiply = a { return operands(a) + [b] } else { return [a, b] }
        default: return [e]
        }
    }

    /// A condition as MathML relations and logic.
    static func mathML(_ c: Condition) -> String {
        switch c {
        case .comparison(let a, let relation, let b):
            let op = [
                Condition.Relation.less: "lt", .lessEqual: "leq", .greater: "gt", .greaterEqual: "geq",
                .equal: "eq", .notEqual: "neq",
            ][relation]!
            return apply(op, a, b)
        case .and(let a, let b): return "<apply><and/>\(mathML(a))\(mathML(b))</apply>"
        case .or(let a, let b): return "<apply><or/>\(mathML(a))\(mathML(b))</apply>"
        case .xor(let a, let b): return "<apply><xor/>\(mathML(a))\(mathML(b))</apply>"
        case .not(let a): return "<apply><not/>\(mathML(a))</apply>"
        case .constant(let b): return b ? "<true/>" : "<false/>"
        }
    }

    private static func apply(_ op: String, _ args: Expression...) -> String {
        "<apply><\(op)/>" + args.map(mathML).joined() + "</apply>"
    }
}

private struct Writer {
    let model: ModelDefinition
    let scenarios: [ModelDefinition.Scenario]
    var lines: [String] = []

    init(model: ModelDefinition, scenarios: [ModelDefinition.Scenario]) {
        self.model = model
        self.scenarios = scenarios
    }

    mutating func line(_ depth: Int, _ text: String) {
        lines.append(String(repeating: "  ", count: depth) + text)
    }

    func attribute(_ name: String, _ value: String) -> String { " \(name)=\"\(SBMLWriter.escape(value))\"" }

    func number(_ x: Double) -> String { SBMLWriter.number(x) }

    /// `<notes>` with one XHTML paragraph, for descriptions.
    mutating func notes(_ depth: Int, _ text: String?) {
        guard let text, !text.isEmpty else { return }
        line(depth, "<notes>")
        line(depth + 1, "<body xmlns=\"http://www.w3.org/1999/xhtml\">")
        for paragraph in text.components(separatedBy: "\n\n") where !paragraph.isEmpty {
            line(depth + 2, "<p>\(SBMLWriter.escape(paragraph).replacingOccurrences(of: "&#10;", with: " "))</p>")
        }
        line(depth + 1, "</body>")
        line(depth, "</notes>")
    }

    mutating func math(_ depth: Int, _ content: String) {
        line(depth, "<math xmlns=\"http://www.w3.org/1998/Math/MathML\">")
        line(depth + 1, content)
        line(depth, "</math>")
    }

    /// An SBML SId from arbitrary text.
    static func identifier(_ text: String) -> String {
        var id = String(
            text.unicodeScalars.map { c -> Character in
                (("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "_")
                    ? Character(c) : "_"
            })
        if id.isEmpty { id = "model" }
        if let first = id.unicodeScalars.first, ("0"..."9").contains(first) { id = "_" + id }
        return id
    }

    // One pass over the document in SBML's element order (compartments, species, parameters,
    // rules, reactions, events): long, but each part reads the values in force set up at the top.
    mutating func write() -> String {
        let d = model
        // Values in force: the file's, then the scenarios' left to right (later values win).
        var parameterValues = d.parameters.map(\.value)
        var sizes = d.compartments.map(\.size)
        var initial = d.species.map(\.initial)
        for s in scenarios {
            for (i, x) in s.parameters { parameterValues[i] = x }
            for (i, x) in s.compartments { sizes[i] = x }
            for (i, x) in s.initial { initial[i] = x }
        }
        let events = d.events + scenarios.flatMap(\.events)
        let eventTargets = Set(events.flatMap { $0.assignments.map(\.targetName) })

        // SBML has one namespace for all ids: reactions and events get ids that clash with nothing.
        var used = Set(
            d.compartments.map(\.name) + d.species.map(\.name) + d.parameters.map(\.name)
                + d.observables.map(\.name))

        // State events without delay get a helper (see the type's documentation): its parameter and
        // event ids clash with no other id, reactions' and events' included.
        let stateEvents = events.filter { $0.trigger != nil }
        let recheck = stateEvents.contains { $0.trigger!.delay == nil }
        var helperIDs: (parameter: String, event: String)? = nil
        if recheck {
            var taken = used.union(d.reactions.map(\.id))
            taken.formUnion((1...(events.count + 1)).map { "event_\($0)" })
            let parameter = taken.insertUnused("last_state_event_time")
            let event = taken.insertUnused("recheck_after_state_event")
            used.formUnion([parameter, event])
            helperIDs = (parameter, event)
        }
        let recheckDelay = SBMLWriter.recheckDelay(tStart: d.simulation.tStart, tEnd: d.simulation.tEnd)

        let modelID = Writer.identifier(URLlessBaseName(d.file))
        line(0, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        line(0, "<sbml xmlns=\"http://www.sbml.org/sbml/level3/version2/core\" level=\"3\" version=\"2\">")
        let title =
            scenarios.isEmpty ? d.name : d.name + " — scenario " + scenarios.map(\.name).joined(separator: "+")
        line(1, "<model" + attribute("id", modelID) + attribute("name", title) + ">")
        var description = d.description ?? ""
        for s in scenarios {
            let text = "Scenario \(s.name)" + (s.description.map { ": \($0)" } ?? ".")
            description += description.isEmpty ? text : "\n\n" + text
        }
        notes(2, description.isEmpty ? nil : description)
        // The run settings, which SBML has no place for, in stat3sim's own annotation: import
        // reads them back (other tools ignore it).
        let sim = d.simulation
        var settings =
            attribute("tStart", number(sim.tStart)) + attribute("tEnd", number(sim.tEnd))
            + attribute("rtol", number(sim.rtol)) + attribute("atol", number(sim.atol))
        let own = d.species.compactMap { s in s.absoluteTolerance.map { "\(s.name)=\(number($0))" } }
        if !own.isEmpty { settings += attribute("speciesAtol", own.joined(separator: " ")) }
        if let times = sim.explicitOutputTimes {
            settings += attribute("outputTimes", times.map(number).joined(separator: " "))
        } else if let interval = sim.outputInterval {
            settings += attribute("outputInterval", number(interval))
        }
        line(2, "<annotation>")
        line(3, "<stat3sim:simulation xmlns:stat3sim=\"\(SBMLWriter.annotationNamespace)\"" + settings + "/>")
        line(2, "</annotation>")

        line(2, "<listOfCompartments>")
        for (i, c) in d.compartments.enumerated() {
            line(
                3,
                "<compartment" + attribute("id", c.name) + attribute("spatialDimensions", "3")
                    + attribute("size", number(sizes[i])) + attribute("constant", "true") + "/>")
        }
        line(2, "</listOfCompartments>")

        line(2, "<listOfSpecies>")
        // A species with a rate rule is a boundary species in SBML: reactions do not change it,
        // exactly as in the model file. Parameters with rate rules are parameters again.
        for (i, s) in d.species.enumerated() where !s.isParameter {
            line(
                3,
                "<species" + attribute("id", s.name) + attribute("compartment", d.compartments[s.compartment].name)
                    + attribute("initialConcentration", number(initial[i]))
                    + attribute("hasOnlySubstanceUnits", "false")
                    + attribute("boundaryCondition", s.constant || s.rateRule != nil ? "true" : "false")
                    + attribute("constant", "false") + "/>")
        }
        line(2, "</listOfSpecies>")

        let stateParameters = d.species.indices.filter { d.species[$0].isParameter }
        if !d.parameters.isEmpty || !d.observables.isEmpty || !stateParameters.isEmpty || helperIDs != nil {
            line(2, "<listOfParameters>")
            for (i, p) in d.parameters.enumerated() {
                line(
                    3,
                    "<parameter" + attribute("id", p.name) + attribute("value", number(parameterValues[i]))
                        + attribute("constant", eventTargets.contains(p.name) ? "false" : "true") + "/>")
            }
            for i in stateParameters {
                line(
                    3,
                    "<parameter" + attribute("id", d.species[i].name) + attribute("value", number(initial[i]))
                        + attribute("constant", "false") + "/>")
            }
            for o in d.observables {
                line(3, "<parameter" + attribute("id", o.name) + attribute("constant", "false") + "/>")
            }
            if let helperIDs {
                // Before the start by more than the delay: the helper's trigger is true at the start
                // (initialValue true), so it fires only after a state event.
                line(
                    3,
                    "<parameter" + attribute("id", helperIDs.parameter)
                        + attribute("value", number(d.simulation.tStart - 2 * recheckDelay))
                        + attribute("constant", "false") + ">")
                line(4, SBMLWriter.exportHelperAnnotation)
                line(3, "</parameter>")
            }
            line(2, "</listOfParameters>")
        }

        let rateRules = d.species.filter { $0.rateRule != nil }
        if !d.observables.isEmpty || !rateRules.isEmpty {
            line(2, "<listOfRules>")
            for o in d.observables {
                line(3, "<assignmentRule" + attribute("variable", o.name) + ">")
                math(4, SBMLWriter.mathML(o.expression))
                line(3, "</assignmentRule>")
            }
            for s in rateRules {
                line(3, "<rateRule" + attribute("variable", s.name) + ">")
                math(4, SBMLWriter.mathML(s.rateRule!))
                line(3, "</rateRule>")
            }
            line(2, "</listOfRules>")
        }

        if !d.reactions.isEmpty {
            line(2, "<listOfReactions>")
            for r in d.reactions {
                line(
                    3,
                    "<reaction" + attribute("id", used.insertUnused(r.id)) + attribute("name", r.equation)
                        + attribute("reversible", r.reversible ? "true" : "false") + ">")
                notes(4, r.description)
                let sides = [("listOfReactants", r.reactants), ("listOfProducts", r.products)]
                for (tag, list) in sides where !list.isEmpty {
                    line(4, "<\(tag)>")
                    for (s, nu) in list {
                        line(
                            5,
                            "<speciesReference" + attribute("species", d.species[s].name)
                                + attribute("stoichiometry", number(nu)) + attribute("constant", "true") + "/>")
                    }
                    line(4, "</\(tag)>")
                }
                // Species that enter the rate law without being reactants or products.
                let touched = Set(r.reactants.map(\.species) + r.products.map(\.species))
                let lawNames: [String]
                switch r.kinetics {
                case .massAction(let f, let b): lawNames = f.names + (b?.names ?? [])
                case .rate(let e): lawNames = e.names
                }
                let modifiers = lawNames.compactMap { name -> Int? in
                    guard let i = d.species.firstIndex(where: { $0.name == name }), !touched.contains(i) else {
                        return nil
                    }
                    return i
                }
                if !modifiers.isEmpty {
                    line(4, "<listOfModifiers>")
                    for i in modifiers {
                        line(5, "<modifierSpeciesReference" + attribute("species", d.species[i].name) + "/>")
                    }
                    line(4, "</listOfModifiers>")
                }
                line(4, "<kineticLaw>")
                math(5, SBMLWriter.mathML(Writer.flux(r, model: d)))
                line(4, "</kineticLaw>")
                line(3, "</reaction>")
            }
            line(2, "</listOfReactions>")
        }

        let grouped = Writer.composedEvents(events, model: d)
        if !grouped.isEmpty || !stateEvents.isEmpty {
            line(2, "<listOfEvents>")
            for (k, e) in grouped.enumerated() {
                line(
                    3,
                    "<event" + attribute("id", used.insertUnused("event_\(k + 1)"))
                        + attribute("useValuesFromTriggerTime", "true") + ">")
                notes(4, e.description)
                line(4, "<trigger" + attribute("initialValue", "false") + attribute("persistent", "true") + ">")
                math(5, "<apply><geq/>" + SBMLWriter.mathML(.name("t")) + "<cn> \(number(e.time)) </cn></apply>")
                line(4, "</trigger>")
                line(4, "<listOfEventAssignments>")
                for (target, expression) in e.assignments {
                    line(5, "<eventAssignment" + attribute("variable", target) + ">")
                    math(6, SBMLWriter.mathML(expression))
                    line(5, "</eventAssignment>")
                }
                line(4, "</listOfEventAssignments>")
                line(3, "</event>")
            }
            var stateEventNumber = 0
            for e in stateEvents {
                let trigger = e.trigger!
                stateEventNumber += 1
                line(
                    3,
                    "<event" + attribute("id", used.insertUnused("event_\(grouped.count + stateEventNumber)"))
                        + attribute("useValuesFromTriggerTime", trigger.useValuesFromTriggerTime ? "true" : "false")
                        + ">")
                notes(4, e.description)
                line(
                    4,
                    "<trigger" + attribute("initialValue", trigger.initialValue ? "true" : "false")
                        + attribute("persistent", trigger.persistent ? "true" : "false") + ">")
                math(5, SBMLWriter.mathML(trigger.condition))
                line(4, "</trigger>")
                if let delay = trigger.delay {
                    line(4, "<delay>")
                    math(5, SBMLWriter.mathML(delay))
                    line(4, "</delay>")
                }
                if let priority = trigger.priority {
                    line(4, "<priority>")
                    math(5, SBMLWriter.mathML(priority))
                    line(4, "</priority>")
                }
                line(4, "<listOfEventAssignments>")
                for a in e.assignments {
                    line(5, "<eventAssignment" + attribute("variable", a.targetName) + ">")
                    math(6, SBMLWriter.mathML(a.expression))
                    line(5, "</eventAssignment>")
                }
                if let helperIDs, trigger.delay == nil {
                    line(5, "<eventAssignment" + attribute("variable", helperIDs.parameter) + ">")
                    line(6, SBMLWriter.exportHelperAnnotation)
                    math(6, SBMLWriter.mathML(.name("t")))
                    line(5, "</eventAssignment>")
                }
                line(4, "</listOfEventAssignments>")
                line(3, "</event>")
            }
            if let helperIDs {
                // A no-op (it sets its parameter to its own value) that only stops the integration.
                line(
                    3,
                    "<event" + attribute("id", helperIDs.event) + attribute("useValuesFromTriggerTime", "true") + ">")
                line(4, SBMLWriter.exportHelperAnnotation)
                line(4, "<trigger" + attribute("initialValue", "true") + attribute("persistent", "true") + ">")
                math(
                    5,
                    SBMLWriter.mathML(
                        Condition.comparison(
                            .name("t"), .greaterEqual,
                            .add(.name(helperIDs.parameter), .number(recheckDelay)))))
                line(4, "</trigger>")
                line(4, "<listOfEventAssignments>")
                line(5, "<eventAssignment" + attribute("variable", helperIDs.parameter) + ">")
                math(6, SBMLWriter.mathML(.name(helperIDs.parameter)))
                line(5, "</eventAssignment>")
                line(4, "</listOfEventAssignments>")
                line(3, "</event>")
            }
            line(2, "</listOfEvents>")
        }

        line(1, "</model>")
        line(0, "</sbml>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The reaction's flux (amount per time): compartment size times the flux per volume.
    static func flux(_ r: ModelDefinition.Reaction, model d: ModelDefinition) -> Expression {
        let first = r.reactants.first?.species ?? r.products.first?.species
        func product(_ list: [(species: Int, coefficient: Double)], _ k: Expression) -> Expression {
            list.reduce(k) { acc, term in
                let c = Expression.name(d.species[term.species].name)
                return .multiply(acc, term.coefficient == 1 ? c : .power(c, .number(term.coefficient)))
            }
        }
        let perVolume: Expression
        switch r.kinetics {
        case .massAction(let forward, let reverse):
            let f = product(r.reactants, forward)
            if let reverse { perVolume = .subtract(f, product(r.products, reverse)) } else { perVolume = f }
        case .rate(let e):
            perVolume = e
        }
        guard let first else { return perVolume }
        return .multiply(.name(d.compartments[d.species[first].compartment].name), perVolume)
    }

    struct ComposedEvent {
        var time: Double
        var assignments: [(String, Expression)]
        var description: String?
    }

    /// One event per distinct time, in time order. stat3sim runs the events of one time in file
    /// order, each evaluating its right-hand sides just before it fires; composing them (a later
    /// right-hand side with the earlier assignments substituted, observables expanded first so that
    /// they see the new values) gives one simultaneous assignment with the same result.
    static func composedEvents(_ events: [ModelDefinition.Event], model d: ModelDefinition) -> [ComposedEvent] {
        let times = Array(Set(events.flatMap(\.times))).sorted()
        let observables = Dictionary(d.observables.map { ($0.name, $0.expression) }, uniquingKeysWith: { a, _ in a })
        func expandObservables(_ e: Expression) -> Expression {
            e.substituting { name in observables[name].map(expandObservables) }
        }
        return times.map { time in
            let here = events.filter { $0.times.contains(time) }
            var order: [String] = []
            var composed: [String: Expression] = [:]
            for event in here {
                var updates: [(String, Expression)] = []
                for a in event.assignments {
                    var e = a.expression
                    if !composed.isEmpty {
                        e = expandObservables(e).substituting { composed[$0] }
                    }
                    updates.append((a.targetName, e))
                }
                for (target, e) in updates {
                    if composed[target] == nil { order.append(target) }
                    composed[target] = e
                }
            }
            let descriptions = here.compactMap(\.description)
            return ComposedEvent(
                time: time, assignments: order.map { ($0, composed[$0]!) },
                description: descriptions.isEmpty ? nil : descriptions.joined(separator: "\n\n"))
        }
    }
}

/// The file name without directories and extension ("Models/classic.toml" → "classic").
private func URLlessBaseName(_ path: String) -> String {
    let name = path.split(separator: "/").last.map(String.init) ?? path
    if let dot = name.lastIndex(of: "."), dot != name.startIndex { return String(name[..<dot]) }
    return name
}
