import Foundation
import ReactionModel

extension Importer {
    /// Global parameters by id, and the targets of event assignments.
    mutating func readParameters() {
        parameterNodes = model.list("listOfParameters", "parameter")
        parameterIDSet = Set(parameterNodes.compactMap { $0.attributes["id"] })
        eventTargets = Set(
            model.list("listOfEvents", "event").flatMap {
                $0.list("listOfEventAssignments", "eventAssignment").compactMap { $0.attributes["variable"] }
            })
        for node in parameterNodes {
            if let id = node.attributes["id"], parameterNodeByID[id] == nil { parameterNodeByID[id] = node }
        }
    }

    /// Local parameters: renamed to reaction-scoped globals (REACTION_ID, then _2, _3… if taken).
    mutating func readLocalParameters() throws {
        var taken = Set(compartmentIDs + Array(speciesCompartment.keys) + parameterIDSet)
            .union(reactionIDs).union(speciesReferenceIDs).union(functions.keys).union(amountName.values)
        if !variableCompartments.isEmpty { taken.insert(unitCompartment) }
        for r in model.list("listOfReactions", "reaction") {
            let id = r.attributes["id"] ?? "?"
            guard let law = r.child("kineticLaw") else { continue }
            for p in law.list("listOfParameters", "parameter") + law.list("listOfLocalParameters", "localParameter") {
                let pid = p.attributes["id"] ?? "?"
                guard let v = p.attributes["value"].flatMap(Double.init) else {
                    throw SBMLImportError(
                        "SBML local parameter '\(excerpt(pid))' of reaction '\(excerpt(id))' has no "
                            + "value; give it a value attribute.")
                }
                var name = "\(id)_\(pid)"
                var k = 1
                while taken.contains(name) {
                    k += 1
                    name = "\(id)_\(pid)_\(k)"
                }
                taken.insert(name)
                localNames[id, default: [:]][pid] = name
                localGlobalNames.insert(name)
                localParameters.append(
                    .init(
                        name: name, value: v,
                        description: "local parameter \(pid) of reaction \(id)"))
            }
        }
    }

    /// The parameters of the model file: those no rule sets, then stoichiometries and sizes that
    /// only events change (local parameters follow, with the reactions).
    mutating func buildParameters() {
        for node in parameterNodes {
            let id = node.attributes["id"]!
            guard parameterIDKept.contains(id) else { continue }
            parameters.append(.init(name: id, value: values[id]!, description: Importer.label(node)))
        }
        // Stoichiometries that only events change: parameters named by the speciesReference.
        for id in variableReferences.sorted() where rateRules[id] == nil && !observableIDSet.contains(id) {
            parameters.append(
                .init(
                    name: id, value: values[id]!,
                    description: "stoichiometry of speciesReference \(id)"))
        }
        // Sizes that only events change: parameters.
        for id in compartmentIDs
        where variableCompartments.contains(id) && rateRules[id] == nil
            && !observableIDSet.contains(id)
        {
            parameters.append(
                .init(
                    name: id, value: values[id]!,
                    description: "size of compartment \(id), which events change"))
        }
    }
}
