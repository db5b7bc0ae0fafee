import Foundation
import ReactionModel

extension Importer {
    /// Species by id: their compartments, conversion factors, and the substitution of those in
    /// amounts (`hasOnlySubstanceUnits`: every mention of S is S * V).
    mutating func readSpecies() throws {
        allSpeciesNodes = model.list("listOfSpecies", "species")
        for s in allSpeciesNodes {
            guard let id = s.attributes["id"] else {
                throw SBMLImportError("SBML species without an id; give every species an id.")
            }
            guard let c = s.attributes["compartment"], compartmentIDSet.contains(c) else {
                throw SBMLImportError(
                    "SBML species '\(excerpt(id))' is in compartment "
                        + "'\(excerpt(s.attributes["compartment"] ?? ""))', which is not declared; declare it in "
                        + "listOfCompartments or correct the species' compartment.")
            }
            if let factor = s.attributes["conversionFactor"]
                ?? model.attributes["conversionFactor"]
            {
                conversionFactor[id] = factor
            }
            speciesCompartment[id] = c
            if speciesNodeByID[id] == nil { speciesNodeByID[id] = s }
            if s.attributes["hasOnlySubstanceUnits"] == "true" {
                onlySubstance.insert(id)
                globalSubstitution[id] = Term(measuring: .multiply(.name(id), .name(c)))
            }
        }
    }

    /// Round-off below zero (COPASI writes steady states such as -1.2e-26) is zero: 1e-12 of the
    /// model's largest value is far below any tolerance. Anything larger stays, and the species
    /// is imported with `may_be_negative = true` (SBML allows negative species: potentials).
    mutating func clearRoundOff() {
        let scale = speciesNodes.map { abs(values[$0.attributes["id"]!] ?? 0) }.max() ?? 0
        for node in speciesNodes {
            let id = node.attributes["id"]!
            if let x = values[id], x < 0, rateRules[id] == nil, -x <= 1e-12 * scale {
                warnings.append(
                    "SBML species \(id) has the initial concentration \(x), round-off below zero; "
                        + "imported as 0.")
                values[id] = 0
            }
        }
    }

    /// The states of the model file: species (as amounts in a compartment that changes size),
    /// then parameters, compartments and speciesReferences with rate rules.
    mutating func buildSpecies() {
        for node in speciesNodes {
            let id = node.attributes["id"]!
            // A species with a rate rule changes by that rule alone (SBML requires it to be a
            // boundary species if a reaction names it).
            let constant =
                rateRules[id] == nil
                && (node.attributes["boundaryCondition"] == "true" || node.attributes["constant"] == "true")
            if let amount = amountName[id] {
                let held =
                    rateRules[id] == nil
                    && (node.attributes["boundaryCondition"] == "true" || node.attributes["constant"] == "true")
                species.append(
                    .init(
                        name: amount, initial: values[amount]!, compartment: compartmentIndex(id),
                        constant: held,
                        description: "amount of \(id) (compartment \(speciesCompartment[id]!) changes "
                            + "size)", rateRule: rateRules[id], mayBeNegative: values[amount]! < 0))
                continue
            }
            species.append(
                .init(
                    name: id, initial: values[id]!, compartment: compartmentIndex(id),
                    constant: constant, description: Importer.label(node), rateRule: rateRules[id],
                    mayBeNegative: values[id]! < 0))
        }
        for id in rateRuledParameters {
            let node = parameterNodeByID[id]
            let label =
                node.flatMap(Importer.label)
                ?? (speciesReferenceIDs.contains(id)
                    ? "stoichiometry of speciesReference \(id)"
                    : compartmentIDSet.contains(id) ? "size of compartment \(id), which changes" : nil)
            species.append(
                .init(
                    name: id, initial: values[id]!, compartment: 0, constant: false,
                    description: label, rateRule: rateRules[id], isParameter: true))
        }
    }
}
