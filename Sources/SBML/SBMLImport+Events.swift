import Foundation
import ReactionModel

extension Importer {
    /// The events of the model file: timed events (`at`) for triggers `time >= T` with a constant
    /// T and no delay or priority, state events (`when`, root finding) for every other trigger.
    mutating func buildEvents() throws {
        let stateIndex = Dictionary(species.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        let parameterIndex = Dictionary(parameters.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        for node in model.list("listOfEvents", "event") {
            try buildEvent(node, stateIndex: stateIndex, parameterIndex: parameterIndex)
        }
    }

    mutating func buildEvent(_ node: XMLNode, stateIndex: [String: Int], parameterIndex: [String: Int]) throws {
        let id = node.attributes["id"] ?? "(without id)"
        let priority = try node.child("priority").flatMap {
            $0.child("math") == nil ? nil : try math(of: $0, place: "priority of event '\(excerpt(id))'")
        }
        // Level 3 Version 2: an event without a trigger (or its math) never fires.
        guard let trigger = node.child("trigger") else {
            if level == 3 { return }
            throw SBMLImportError("SBML event '\(excerpt(id))' has no trigger; give it one (Level 2 requires it).")
        }
        guard trigger.child("math") != nil else { return }
        var delay: Expr? = nil
        if let d = node.child("delay"), d.child("math") != nil {
            let e = try math(of: d, place: "delay of event '\(excerpt(id))'")
            if e != .number(0) { delay = e }
        }
        // SBML's defaults (Level 2); Level 3 requires the attributes.
        let initialValue = trigger.attributes["initialValue"] != "false"
        let persistent = trigger.attributes["persistent"] != "false"
        let useValuesFromTriggerTime = node.attributes["useValuesFromTriggerTime"] != "false"
        var assignments = try eventAssignments(node, id, stateIndex: stateIndex, parameterIndex: parameterIndex)
        rescaleForChangedSizes(&assignments)
        if assignments.isEmpty { return }
        // `time >= T` with a constant T and no delay is a timed event: an exact stop, no root finding.
        if delay == nil, priority == nil, let (time, strict) = try triggerTime(trigger, values: values) {
            var at = time
            // A trigger already true at the start fires only when its initial value is false;
            // `time > 0` is false at the start and fires at once after it.
            if time < 0 || (time == 0 && !strict) {
                if !initialValue { at = 0 } else { return }
            }
            events.append(.init(times: [at], assignments: assignments, description: Importer.label(node)))
            eventIDs.append(id)
            return
        }
        guard let triggerMath = trigger.child("math")?.children.first(where: { $0.name != "annotation" }) else {
            throw SBMLImportError(
                "SBML trigger of event '\(excerpt(id))' has empty math; give it a condition inside its <math>.")
        }
        let condition = try self.condition(triggerMath, place: "trigger of event '\(excerpt(id))'").condition
        try checkTriggerEqualities(condition, event: id)
        if let keyword = condition.names.first(where: ["and", "or", "xor", "not", "true", "false"].contains) {
            throw SBMLImportError.unsupported(
                "SBML trigger of event '\(excerpt(id))' uses the id "
                    + "'\(excerpt(keyword))', a keyword of the model file's conditions, which is not supported yet "
                    + "(rename it in the SBML file).")
        }
        events.append(
            .init(
                times: [], assignments: assignments, description: Importer.label(node),
                trigger: .init(
                    condition: condition, initialValue: initialValue, persistent: persistent,
                    delay: delay, useValuesFromTriggerTime: useValuesFromTriggerTime,
                    priority: priority)))
        eventIDs.append(id)
    }

    /// What event `node` (`id`) sets, as assignments of the model file.
    func eventAssignments(
        _ node: XMLNode, _ id: String, stateIndex: [String: Int],
        parameterIndex: [String: Int]
    ) throws -> [ModelDefinition.Assignment] {
        var assignments: [ModelDefinition.Assignment] = []
        for a in node.list("listOfEventAssignments", "eventAssignment") {
            let variable = a.attributes["variable"] ?? ""
            let kind = kindOf(variable)
            if a.child("math") == nil { continue }  // Level 3 Version 2: no math, no assignment
            var e = try math(of: a, place: "eventAssignment to '\(excerpt(variable))' in event '\(excerpt(id))'")
            switch kind {
            case "species" where amountName[variable] != nil:
                // The new amount: the value itself in amounts, else concentration × size.
                // (The size before the event, also when the event sets it: SBML evaluates
                // all assignments first; case 01779 of the test suite.)
                if !onlySubstance.contains(variable) { e = .multiply(e, .name(speciesCompartment[variable]!)) }
                assignments.append(
                    .init(
                        target: .species(speciesIndex[variable]!), targetName: amountName[variable]!,
                        expression: e))
            case "species" where !ruledSpecies.contains(variable):
                if onlySubstance.contains(variable) { e = .divide(e, .name(speciesCompartment[variable]!)) }
                assignments.append(
                    .init(
                        target: .species(speciesIndex[variable]!), targetName: variable,
                        expression: e))
            case "compartment" where variableCompartments.contains(variable) && !observableIDSet.contains(variable),
                "symbol" where variableReferences.contains(variable) && !observableIDSet.contains(variable),
                "parameter" where !observableIDSet.contains(variable):
                // A size that changes (amounts stay; concentrations follow), a stoichiometry,
                // or a parameter: a state variable when it has a rate rule, else a parameter.
                let target: ModelDefinition.Assignment.Target =
                    rateRules[variable] != nil
                    ? .species(stateIndex[variable]!)
                    : .parameter(parameterIndex[variable]!)
                assignments.append(.init(target: target, targetName: variable, expression: e))
            default:
                throw SBMLImportError.unsupported(
                    "SBML eventAssignment to \(kind) '\(excerpt(variable))' in event '\(excerpt(id))' is not "
                        + "supported yet; an event may set a species, a parameter, a compartment or a "
                        + "speciesReference that no assignment rule sets: set what the rule for "
                        + "'\(excerpt(variable))' reads instead, or declare it as one of these.")
            }
        }
        return assignments
    }

    /// A size an event changes keeps amounts: species held as concentrations in that compartment
    /// (those with rate rules) are rescaled by old size / new size, a value the same event assigns
    /// them included (it is meant in the old size), all evaluated before the event like every
    /// assignment (cases 01505 and 01506 of the test suite).
    func rescaleForChangedSizes(_ assignments: inout [ModelDefinition.Assignment]) {
        for sized in assignments where variableCompartments.contains(sized.targetName) {
            for (index, node) in speciesNodes.enumerated() {
                let sid = node.attributes["id"]!
                guard speciesCompartment[sid] == sized.targetName, amountName[sid] == nil,
                    !species[index].constant
                else { continue }
                let scale = { (e: Expr) in Expr.divide(.multiply(e, .name(sized.targetName)), sized.expression) }
                if let k = assignments.firstIndex(where: { $0.targetName == sid }) {
                    assignments[k].expression = scale(assignments[k].expression)
                } else {
                    assignments.append(.init(target: .species(index), targetName: sid, expression: scale(.name(sid))))
                }
            }
        }
    }

    /// stat3sim runs events of one time one after another; SBML evaluates simultaneous events at
    /// the trigger time. The two agree unless one reads what another sets: refuse that case.
    func checkSimultaneousEvents() throws {
        let observableByName = Dictionary(observables.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        // What an event reads, through observables too (an assignment rule reads what it names).
        func reads(_ e: ModelDefinition.Event) -> Set<String> {
            var seen = Set<String>()
            var queue = e.assignments.flatMap { $0.expression.names }
            while let n = queue.popLast() {
                if seen.insert(n).inserted, let o = observableByName[n] { queue += o.expression.names }
            }
            return seen
        }
        for (i, a) in events.enumerated() where !a.times.isEmpty {
            for (j, b) in events.enumerated().dropFirst(i + 1) where b.times == a.times {
                let setsA = Set(a.assignments.map(\.targetName))
                let setsB = Set(b.assignments.map(\.targetName))
                let readsA = reads(a)
                let readsB = reads(b)
                if !setsA.isDisjoint(with: readsB) || !setsB.isDisjoint(with: readsA)
                    || !setsA.isDisjoint(with: setsB)
                {
                    let shared = setsA.intersection(readsB.union(setsB)).union(setsB.intersection(readsA)).sorted()
                    let names = shared.prefix(3).map { "'\(excerpt($0))'" }.joined(separator: ", ")
                    throw SBMLImportError.unsupported(
                        "SBML events '\(excerpt(eventIDs[i]))' and '\(excerpt(eventIDs[j]))' at the same time t = "
                            + "\(a.times[0]) read or set each other's variables (\(names)), which is not supported "
                            + "yet; merge them into one event (its assignments all see the values before it).")
                }
            }
        }
    }
}
