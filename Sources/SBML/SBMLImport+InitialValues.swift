import Foundation
import ReactionModel

extension Importer {
    /// What has a value at the start, in the order the values are computed first.
    enum InitialItem {
        case compartment(XMLNode)
        case parameter(XMLNode)
        case observable(String)
        case species(XMLNode)
        case stoichiometry(XMLNode)
        case amount(String)
    }

    /// Initial assignments, converted (evaluated with the other values at the start).
    mutating func readInitialAssignments() throws {
        for ia in model.list("listOfInitialAssignments", "initialAssignment") {
            let symbol = ia.attributes["symbol"] ?? ""
            let kind = kindOf(symbol)
            if ia.child("math") == nil { continue }  // Level 3 Version 2: no math, no effect
            guard
                [
                    "species", "parameter",
                    "compartment",
                ].contains(kind)
                    || speciesReferenceIDs.contains(symbol), !observableIDSet.contains(symbol)
            else {
                throw SBMLImportError.unsupported(
                    "SBML initialAssignment to \(kind) '\(excerpt(symbol))' is not supported yet; an "
                        + "initialAssignment may set a species, a parameter, a compartment or a speciesReference "
                        + "that no assignment rule sets: give what the rule for '\(excerpt(symbol))' reads its "
                        + "initial value instead, or declare it as one of these.")
            }
            initialAssignments[symbol] = try math(of: ia, place: "initialAssignment to \(kind) '\(excerpt(symbol))'")
        }
    }

    /// Values at t = 0, in stat3sim's terms (species as concentrations): the initial values
    /// themselves are numbers in the model file.
    mutating func computeInitialValues() throws {
        references = model.list("listOfReactions", "reaction").flatMap {
            $0.list(
                "listOfReactants",
                "speciesReference") + $0.list("listOfProducts", "speciesReference")
        }
        .filter { $0.attributes["id"] != nil }
        // Local parameters are numbers; a reduced fast reaction's equilibrium reads them.
        for p in localParameters { values[p.name] = p.value }
        let pending: [InitialItem] =
            compartmentNodes.map { .compartment($0) } + parameterNodes.map { .parameter($0) }
            + observableIDs.map { .observable($0) } + speciesNodes.map { .species($0) }
            + references.map { .stoichiometry($0) }
            + amountName.keys.sorted().map { .amount($0) }
        // In the file's order first; an item whose value is not known yet waits for the names it
        // is computed from and is tried again when one of them gets its value (passes over all
        // pending items would be quadratic in a chain of rules listed backwards).
        var waiting: [String: [Int]] = [:]
        var done = [Bool](repeating: false, count: pending.count)
        var queued = [Bool](
            repeating: true,
            count: pending.count)
        var waits = [Bool](repeating: false, count: pending.count)
        var queue = Array(pending.indices)
        var head = 0
        while head < queue.count {
            let i = queue[head]
            head += 1
            queued[i] = false
            let item = pending[i]
            let (id, value) = try initialValue(item)
            guard let value else {
                if !waits[i] {
                    waits[i] = true
                    for n in dependencies(item) where values[n] == nil { waiting[n, default: []].append(i) }
                }
                continue
            }
            done[i] = true
            if case .parameter(let n) = item, observableIDSet.contains(n.attributes["id"]!) { continue }
            if case .stoichiometry(let n) = item, observableIDSet.contains(n.attributes["id"]!) { continue }
            if case .compartment(let n) = item, observableIDSet.contains(n.attributes["id"]!) { continue }
            values[id] = value
            for j in waiting.removeValue(forKey: id) ?? [] where !done[j] && !queued[j] {
                queued[j] = true
                queue.append(j)
            }
        }
        if let first = done.firstIndex(of: false) {
            let (id, _) = try initialValue(pending[first])
            throw SBMLImportError.unsupported(
                "SBML initial value of \(kindOf(id)) '\(excerpt(id))' cannot be computed at import (it "
                    + "depends on a value that is not defined at the start), which is not supported yet; give "
                    + "'\(excerpt(id))' a value, or an initialAssignment that reads only values known at the start.")
        }
        for node in references where !variableReferences.contains(node.attributes["id"]!) {
            stoichiometryValues[node.attributes["id"]!] = values[node.attributes["id"]!]
        }
        // Math read before the values were known (rules) named speciesReferences: now numbers.
        let stoichiometries = stoichiometryValues
        for (id, e) in ruleExpressions { ruleExpressions[id] = e.substituting { stoichiometries[$0].map(Expr.number) } }
        for (id, e) in rateRules { rateRules[id] = e.substituting { stoichiometries[$0].map(Expr.number) } }
        clearRoundOff()
    }

    /// The value of `item` (under its name in the model file), or nil while one it is computed
    /// from is not known yet.
    func initialValue(_ item: InitialItem) throws -> (String, Double?) {
        switch item {
        case .compartment(let node):
            let id = node.attributes["id"]!
            if observableIDSet.contains(id) { return (id, 0) }  // replaced by its observable item
            if let e = initialAssignments[id] { return (id, evaluate(e, values)) }
            return (id, node.attributes["size"].flatMap(Double.init) ?? 1)
        case .parameter(let node):
            let id = node.attributes["id"]!
            if observableIDSet.contains(id) { return (id, 0) }  // replaced by its observable item
            if let e = initialAssignments[id] { return (id, evaluate(e, values)) }
            guard let v = node.attributes["value"].flatMap(Double.init) else {
                throw SBMLImportError(
                    "SBML parameter '\(excerpt(id))' has no value and no initial assignment; give it a value "
                        + "attribute or an initialAssignment.")
            }
            return (id, v)
        case .observable(let id):
            return (id, evaluate(ruleExpressions[id]!, values))
        case .species(let node):
            let id = node.attributes["id"]!
            let c = speciesCompartment[id]!
            if let e = initialAssignments[id] {
                guard let v = evaluate(e, values) else { return (id, nil) }
                if onlySubstance.contains(id) {
                    guard let size = values[c] else { return (id, nil) }
                    return (id, v / size)
                }
                return (id, v)
            }
            if let x = node.attributes["initialConcentration"].flatMap(Double.init) { return (id, x) }
            if let a = node.attributes["initialAmount"].flatMap(Double.init) {
                guard let size = values[c] else { return (id, nil) }
                return (id, a / size)
            }
            throw SBMLImportError(
                "SBML species '\(excerpt(id))' has no initial amount, concentration or assignment; give it "
                    + "an initialConcentration, an initialAmount or an initialAssignment.")
        case .amount(let id):
            guard let c = values[id], let size = values[speciesCompartment[id]!] else { return (amountName[id]!, nil) }
            return (amountName[id]!, c * size)
        case .stoichiometry(let node):
            let id = node.attributes["id"]!
            if observableIDSet.contains(id) { return (id, 0) }  // replaced by its observable item
            if let e = initialAssignments[id] { return (id, evaluate(e, values)) }
            return (id, node.attributes["stoichiometry"].flatMap(Double.init) ?? 1)
        }
    }

    /// The names an item's value is computed from.
    func dependencies(_ item: InitialItem) -> Set<String> {
        switch item {
        case .compartment(let node), .parameter(let node), .stoichiometry(let node):
            return initialAssignments[node.attributes["id"]!].map(names) ?? []
        case .observable(let id):
            return names(ruleExpressions[id]!)
        case .species(let node):
            let id = node.attributes["id"]!
            return (initialAssignments[id].map(names) ?? []).union([speciesCompartment[id]!])
        case .amount(let id):
            return [id, speciesCompartment[id]!]
        }
    }
}
