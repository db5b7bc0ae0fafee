import Foundation
import ReactionModel

extension Importer {
    /// Reactions by id, and the ids of their speciesReferences.
    mutating func indexReactions() {
        reactionIDs = Set(model.list("listOfReactions", "reaction").compactMap { $0.attributes["id"] })
        for r in model.list("listOfReactions", "reaction") {
            if let id = r.attributes["id"], reactionNodes[id] == nil { reactionNodes[id] = r }
        }
        for r in model.list("listOfReactions", "reaction") {
            for list in ["listOfReactants", "listOfProducts"] {
                for ref in r.list(
                    list,
                    "speciesReference")
                { if let id = ref.attributes["id"] { speciesReferenceIDs.insert(id) } }
            }
        }
    }

    /// The reactions of the model file, after the local parameters join the parameters. What rules
    /// and events change is not a constant (for conversion factors).
    mutating func buildReactions() throws {
        variableIDs = Set(ruleExpressions.keys).union(rateRules.keys).union(eventTargets)
        parameters += localParameters
        reactionIDsTaken = reactionIDs
        for node in model.list("listOfReactions", "reaction") { try buildReaction(node) }
    }

    mutating func buildReaction(_ node: XMLNode) throws {
        let id = node.attributes["id"] ?? "?"
        if reducedFastReactions.contains(id) { return }
        if node.attributes["fast"] == "true" {
            throw SBMLImportError.unsupported(
                "SBML reaction '\(excerpt(id))' is fast=\"true\", which is not supported yet; rewrite the fast "
                    + "reaction as a slow one with large rate constants, or as an assignment rule of its "
                    + "equilibrium.")
        }
        // A negative stoichiometry moves the species to the other side (the same ODE).
        let reactants = try side(of: node, id, "listOfReactants", "speciesReference", true)
        let products = try side(of: node, id, "listOfProducts", "speciesReference", false)
        guard node.child("kineticLaw") != nil else {
            if root.requiredPackages["fbc"] != nil {
                throw SBMLImportError.unsupported(
                    "SBML reaction '\(excerpt(id))' has no kineticLaw: the model is a flux balance model (package "
                        + "fbc), not a time course, which is not supported; give every reaction a kineticLaw to "
                        + "simulate it, or solve the flux balance with an FBA tool (COBRApy, COPASI).")
            }
            throw SBMLImportError(
                "SBML reaction '\(excerpt(id))' has no kineticLaw; give it one (its flux, in amount per "
                    + "time).")
        }
        let flux = try reactionFlux(id, place: "kineticLaw of reaction '\(excerpt(id))'").expr
        try buildVariableStoichiometries(node, id, flux)
        guard let first = reactants.first ?? products.first else { return }  // no species change: no effect
        let volume = compartments[species[first.species].compartment].name
        // Amounts sit in the unit compartment: the rate is the flux itself.
        let rate = volume == unitCompartment ? flux : perVolume(flux, volume)
        var reaction = ModelDefinition.Reaction(
            id: id, equation: "", reactants: reactants, products: products,
            reversible: false, kinetics: .rate(rate),
            description: Importer.label(node))
        let context = ModelDefinition(
            file: file, name: "", compartments: compartments, species: species,
            parameters: [], observables: [], reactions: [], events: [])
        reaction.equation = TOMLWriter.equation(reaction, context)
        reactions.append(reaction)
    }

    /// One side of reaction `node` (`id`): its own species and, with the sign turned, those of
    /// the other side whose stoichiometry is negative (the same ODE).
    func side(
        of node: XMLNode, _ id: String, _ list: String, _ item: String,
        _ reactantSide: Bool
    ) throws -> [(species: Int, coefficient: Double)] {
        var terms: [(species: Int, coefficient: Double)] = []
        var position: [Int: Int] = [:]  // species index → its term (a long side stays linear)
        let mine = node.list(list, item).map { ($0, 1.0) }
        let theirs = node.list(reactantSide ? "listOfProducts" : "listOfReactants", item).map { ($0, -1.0) }
        for (ref, sign) in mine + theirs {
            let s = ref.attributes["species"] ?? ""
            // A species set by a rule is a boundary species: reactions do not change it.
            if ruledSpecies.contains(s) || rateRules[s] != nil { continue }
            guard let index = speciesIndex[s] else {
                throw SBMLImportError(
                    "SBML reaction '\(excerpt(id))' names species '\(excerpt(s))', which is not "
                        + "declared; declare it in listOfSpecies or correct the speciesReference.")
            }
            // A stoichiometry that changes is its own reaction (below).
            if ref.child("stoichiometryMath") != nil
                || ref.attributes["id"].map(variableReferences.contains) == true
            {
                continue
            }
            var stoichiometry =
                ref.attributes["id"].flatMap { stoichiometryValues[$0] }
                ?? ref.attributes["stoichiometry"].flatMap(Double.init) ?? 1
            if let factor = conversionFactor[s] {
                // A conversion factor scales what reactions do to the species; only a
                // constant one can be folded into the stoichiometry.
                guard let value = values[factor], !variableIDs.contains(factor), kindOf(factor) == "parameter" else {
                    throw SBMLImportError.unsupported(
                        "SBML conversionFactor '\(excerpt(factor))' of species '\(excerpt(s))' is not a constant "
                            + "parameter, which is not supported yet; make it a constant parameter (set by no rule "
                            + "or event), or multiply the stoichiometries of '\(excerpt(s))' by it instead.")
                }
                stoichiometry *= value
            }
            let nu = sign * stoichiometry
            if nu < 0 || (sign < 0 && nu == 0) { continue }
            guard nu.isFinite, nu >= 0 else {
                throw SBMLImportError.unsupported(
                    "SBML reaction '\(excerpt(id))' has the stoichiometry \(nu) for species '\(excerpt(s))', "
                        + "which is not supported yet; give it a finite stoichiometry.")
            }
            if nu == 0 { continue }
            if let k = position[index] {
                terms[k].coefficient += nu
            } else {
                position[index] = terms.count
                terms.append((index, nu))
            }
        }
        return terms
    }

    /// Each species with a changing stoichiometry ν gets a reaction of its own, "-> S" (or
    /// "S ->" for a reactant) at rate ν · flux / V_S: exactly ν · flux of S per time.
    mutating func buildVariableStoichiometries(_ node: XMLNode, _ id: String, _ flux: Expr) throws {
        for (list, reactant) in [("listOfReactants", true), ("listOfProducts", false)] {
            for ref in node.list(list, "speciesReference") {
                let s = ref.attributes["species"] ?? ""
                if ruledSpecies.contains(s) || rateRules[s] != nil { continue }
                let nu: Expr
                if let m = ref.child("stoichiometryMath") {
                    nu = try math(
                        of: m, place: "stoichiometryMath of species '\(excerpt(s))' in reaction '\(excerpt(id))'")
                } else if let r = ref.attributes["id"], variableReferences.contains(r) {
                    nu = .name(r)
                } else {
                    continue
                }
                guard let index = speciesIndex[s] else {
                    throw SBMLImportError(
                        "SBML reaction '\(excerpt(id))' names species '\(excerpt(s))', which is not "
                            + "declared; declare it in listOfSpecies or correct the speciesReference.")
                }
                if let factor = conversionFactor[s], variableIDs.contains(factor) {
                    throw SBMLImportError.unsupported(
                        "SBML conversionFactor '\(excerpt(factor))' of species '\(excerpt(s))' is not a constant "
                            + "parameter, which is not supported yet; make it a constant parameter (set by no rule "
                            + "or event), or multiply the stoichiometries of '\(excerpt(s))' by it instead.")
                }
                // (An amount lives in the unit compartment: ν · flux itself.)
                let home = compartments[species[index].compartment].name
                var rate =
                    home == unitCompartment && amountName[s] != nil
                    ? Expr.multiply(
                        nu,
                        flux) : .divide(.multiply(nu, flux), .name(home))
                if let factor = conversionFactor[s] {
                    guard let value = values[factor] else {
                        throw SBMLImportError(
                            "SBML conversionFactor '\(excerpt(factor))' of species '\(excerpt(s))' "
                                + "names no parameter; declare '\(excerpt(factor))' in listOfParameters.")
                    }
                    rate = .multiply(rate, .number(value))
                }
                let term = [(species: index, coefficient: 1.0)]
                var extra = ModelDefinition.Reaction(
                    id: reactionIDsTaken.insertUnused("\(id)_\(s)"), equation: "",
                    reactants: reactant ? term : [],
                    products: reactant
                        ? []
                        : term, reversible: false, kinetics: .rate(rate),
                    description: "the part of reaction \(id) that changes \(s), "
                        + "whose stoichiometry varies")
                extra.equation = reactant ? "\(species[index].name) ->" : "-> \(species[index].name)"
                reactions.append(extra)
            }
        }
    }
}
