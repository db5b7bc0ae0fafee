import Foundation
import ReactionModel

extension Importer {
    /// Compartment ids (units are not read: they do not change a simulation).
    mutating func readCompartments() throws {
        compartmentNodes = model.list("listOfCompartments", "compartment")
        compartmentIDs = compartmentNodes.compactMap { $0.attributes["id"] }
        compartmentIDSet = Set(compartmentIDs)
    }

    /// Compartments that change size: their species that reactions change become amounts
    /// (states NAME_amount in a unit-size compartment), and every mention of such a species
    /// reads amount / size (the amount itself when hasOnlySubstanceUnits).
    mutating func findChangingCompartments() throws {
        let changedIDs = Set(
            (model.child("listOfRules")?.children ?? []).compactMap { $0.attributes["variable"] }
                + model.list("listOfEvents", "event").flatMap {
                    $0.list(
                        "listOfEventAssignments",
                        "eventAssignment"
                    ).compactMap { $0.attributes["variable"] }
                })
        variableCompartments = Set(compartmentIDs.filter(changedIDs.contains)).union(compartmentsInAlgebraicRules())
        if !variableCompartments.isEmpty {
            var allIDs = Set(compartmentIDs + Array(speciesCompartment.keys) + parameterIDSet)
                .union(reactionIDs).union(speciesReferenceIDs).union(functions.keys)
            unitCompartment = allIDs.insertUnused("unit_volume")
            let rules = (model.child("listOfRules")?.children ?? []).filter { $0.child("math") != nil }
            let ruledIDs = Set(rules.compactMap { $0.attributes["variable"] })
            let rateRuledIDs = Set(rules.filter { $0.name == "rateRule" }.compactMap { $0.attributes["variable"] })
            for node in allSpeciesNodes {
                let id = node.attributes["id"]!
                let c = speciesCompartment[id]!
                // (Rules without math have no effect: Level 3 Version 2.) A species in amounts with
                // a rate rule is an amount state like the others here: its rule is its rate.
                let ruled = ruledIDs.contains(id) && !(onlySubstance.contains(id) && rateRuledIDs.contains(id))
                guard variableCompartments.contains(c), !ruled else {
                    if variableCompartments.contains(c), onlySubstance.contains(id) {
                        throw SBMLImportError.unsupported(
                            "SBML species '\(excerpt(id))' in amounts (hasOnlySubstanceUnits=\"true\"), set by an assignment rule "
                                + "in compartment '\(excerpt(c))' whose size changes, is not supported yet; let the "
                                + "rule give its concentration (hasOnlySubstanceUnits=\"false\", the rule divided by "
                                + "the size), or hold the compartment's size constant.")
                    }
                    continue
                }
                // (Boundary and constant species too: what SBML holds is the amount.)
                let name = allIDs.insertUnused("\(id)_amount")
                amountName[id] = name
                globalSubstitution[id] = Term(
                    measuring: onlySubstance.contains(id)
                        ? .name(name)
                        : .divide(
                            .name(name),
                            .name(c)))
            }
        }
    }

    /// The compartments of the model file (those that change size are parameters or states).
    mutating func buildCompartments() {
        for node in compartmentNodes where !variableCompartments.contains(node.attributes["id"]!) {
            let id = node.attributes["id"]!
            compartments.append(.init(name: id, size: values[id]!, description: Importer.label(node)))
        }
        if !variableCompartments.isEmpty {
            compartments.append(
                .init(
                    name: unitCompartment, size: 1,
                    description: "unit volume: species of compartments that change size are "
                        + "integrated here as amounts"))
        }
        compartmentIndexByName = Dictionary(
            compartments.enumerated().map { ($1.name, $0) },
            uniquingKeysWith: {
                a,
                _ in a
            })
    }

    /// The compartment a species sits in, in the imported model.
    func compartmentIndex(_ species: String) -> Int {
        let c = speciesCompartment[species]!
        return compartmentIndexByName[variableCompartments.contains(c) ? unitCompartment : c]!
    }
}
