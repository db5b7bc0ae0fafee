import Foundation
import ReactionModel

/// Fast reactions (`fast="true"`): SBML means the reaction is always at equilibrium, its flux
/// zero, while slow reactions move its species. For a fast `α A ⇌ β B` (one species on each
/// side, constant stoichiometries) that is exact without any stiffness: the weighted total
/// N = β·n_A + α·n_B, which the fast flux leaves alone, becomes a state that only slow reactions
/// change, dN/dt = Σ_slow (β·ν_A + α·ν_B)·flux, and A and B are assignment rules solved from the
/// fast flux v(A, B) = 0 with n_B = (N − β·n_A)/α, when v is linear in them (mass action of
/// first order, or any law linear in A and B) or quadratic (its stable root, `stableRoot`).
/// When one side is a reservoir (a boundary species nothing changes), the other is its
/// equilibrium alone. Constant conversion factors
/// scale every reaction's change of a species, the fast one's too: α, β become α·c_A, β·c_B.
/// Anything else is refused by name.
extension Importer {
    /// Reduces every fast reaction, or refuses the model, before the rules are closed.
    mutating func reduceFastReactions() throws {
        let fast = model.list("listOfReactions", "reaction").filter { $0.attributes["fast"] == "true" }
        guard !fast.isEmpty else { return }
        var allIDs = Set(compartmentIDs + Array(speciesCompartment.keys) + parameterIDSet)
            .union(reactionIDs).union(speciesReferenceIDs).union(functions.keys)
        let initialAssigned = Set(
            model.list("listOfInitialAssignments", "initialAssignment").compactMap { $0.attributes["symbol"] })
        var paired = Set<String>()
        for node in fast {
            let id = node.attributes["id"] ?? "?"
            func refuse(_ why: String) -> SBMLImportError {
                SBMLImportError.unsupported(
                    "SBML reaction '\(excerpt(id))' is fast=\"true\" and \(why), which is not supported yet; "
                        + "stat3sim reduces fast reactions a A <-> b B (one species on each side, constant "
                        + "stoichiometries, "
                        + "a rate law linear or quadratic in A, species in fixed compartments with initial values "
                        + "given) to their equilibrium; rewrite the fast reaction as a slow one with large "
                        + "rate constants, or as an assignment rule of its equilibrium.")
            }
            let reactants = node.list("listOfReactants", "speciesReference")
            let products = node.list("listOfProducts", "speciesReference")
            guard reactants.count == 1, products.count == 1,
                let a = reactants[0].attributes["species"], let b = products[0].attributes["species"], a != b
            else { throw refuse("has other than one reactant and one product") }
            var stoichiometries: [Double] = []
            for ref in reactants + products {
                let stoichiometry =
                    ref.attributes["id"].flatMap { stoichiometryValues[$0] }
                    ?? ref.attributes["stoichiometry"].flatMap(Double.init) ?? 1
                if ref.child("stoichiometryMath") != nil { throw refuse("has a stoichiometryMath") }
                if ref.attributes["id"].map(variableReferences.contains) == true {
                    throw refuse("has a stoichiometry that rules or events change")
                }
                if ref.attributes["id"].map(initialAssigned.contains) == true {
                    throw refuse("has a stoichiometry set by an initial assignment")
                }
                guard stoichiometry > 0, stoichiometry.isFinite else {
                    throw refuse("has a stoichiometry that is not positive")
                }
                stoichiometries.append(stoichiometry)
            }
            var (alpha, beta) = (stoichiometries[0], stoichiometries[1])
            guard paired.insert(a).inserted, paired.insert(b).inserted else {
                throw refuse("shares a species with another fast reaction")
            }
            // One side a reservoir (a boundary species that nothing changes): the other species is
            // its equilibrium, whatever slow reactions do.
            func isReservoir(_ s: String) -> Bool {
                guard let species = speciesNodeByID[s] else { return false }
                return (species.attributes["boundaryCondition"] == "true" || species.attributes["constant"] == "true")
                    && !assignmentRuleTargets.contains(s) && rateRuleNodes[s] == nil && !eventTargets.contains(s)
                    && amountName[s] == nil
            }
            if isReservoir(a) != isReservoir(b) {
                let free = isReservoir(a) ? b : a
                guard let species = speciesNodeByID[free], species.attributes["boundaryCondition"] != "true",
                    species.attributes["constant"] != "true", !assignmentRuleTargets.contains(free),
                    rateRuleNodes[free] == nil, !eventTargets.contains(free), amountName[free] == nil,
                    !initialAssigned.contains(free)
                else {
                    throw refuse("its species '\(excerpt(free))' is set by a rule, an event or an initial assignment")
                }
                let law = try fastLaw(id, refuse: refuse)
                ruleSpecies(
                    free, try equilibrium(law, solvingFor: free, reactant: free == a, reaction: id, refuse: refuse))
                reducedFastReactions.insert(id)
                continue
            }
            var volume: [String: String] = [:]
            var initialAmount: [String: Double] = [:]
            // Conversion factors scale what every reaction does to a species, the fast one too:
            // its α A ⇌ β B changes the amounts by −α·c_A and +β·c_B per unit of flux.
            var factors: [String: Double] = [:]
            for s in [a, b] {
                guard let species = speciesNodeByID[s], let c = speciesCompartment[s] else {
                    throw refuse("names species '\(excerpt(s))', which is not declared")
                }
                guard species.attributes["boundaryCondition"] != "true", species.attributes["constant"] != "true",
                    !assignmentRuleTargets.contains(s), rateRuleNodes[s] == nil, !eventTargets.contains(s),
                    amountName[s] == nil, !initialAssigned.contains(s), !initialAssigned.contains(c)
                else {
                    throw refuse(
                        "its species '\(excerpt(s))' is held, set by a rule, an event or an initial assignment, "
                            + "or sits in a compartment whose size changes or is set by an initial assignment")
                }
                if let factor = conversionFactor[s] {
                    let node = parameterNodeByID[factor]
                    guard let value = node?.attributes["value"].flatMap(Double.init), value.isFinite, value > 0,
                        node?.attributes["constant"] == "true", !initialAssigned.contains(factor)
                    else {
                        throw refuse(
                            "its species '\(excerpt(s))' has the conversion factor '\(excerpt(factor))', which is not "
                                + "a positive number that nothing changes")
                    }
                    factors[s] = value
                }
                volume[s] = c
                // (A compartment without a size has size 1, as everywhere in the import.)
                let size =
                    compartmentNodes.first(where: { $0.attributes["id"] == c })?.attributes["size"]
                    .flatMap(Double.init) ?? 1
                if let amount = species.attributes["initialAmount"].flatMap(Double.init) {
                    initialAmount[s] = amount
                } else if let concentration = species.attributes["initialConcentration"].flatMap(Double.init) {
                    initialAmount[s] = concentration * size
                } else {
                    throw refuse("its species '\(excerpt(s))' has no initial value")
                }
            }
            let (va, vb) = (Expr.name(volume[a]!), Expr.name(volume[b]!))
            alpha *= factors[a] ?? 1
            beta *= factors[b] ?? 1

            // The weighted total and what slow reactions do to it (fluxes are amounts per time).
            let total = allIDs.insertUnused("\(a)_\(b)_total")
            var change: Expr? = nil
            for reaction in model.list("listOfReactions", "reaction") where reaction !== node {
                let rid = reaction.attributes["id"] ?? "?"
                for (list, sign) in [("listOfReactants", -1.0), ("listOfProducts", 1.0)] {
                    for ref in reaction.list(list, "speciesReference")
                    where ref.attributes["species"] == a || ref.attributes["species"] == b {
                        guard ref.child("stoichiometryMath") == nil,
                            ref.attributes["id"].map(variableReferences.contains) != true,
                            ref.attributes["id"].map(initialAssigned.contains) != true
                        else {
                            throw refuse("its species change in reaction '\(excerpt(rid))' by a variable stoichiometry")
                        }
                        let species = ref.attributes["species"]!
                        let weight = (species == a ? beta : alpha) * (factors[species] ?? 1)
                        let nu =
                            sign * weight
                            * (ref.attributes["id"].flatMap { stoichiometryValues[$0] }
                                ?? ref.attributes["stoichiometry"].flatMap(Double.init) ?? 1)
                        let flux = try reactionFlux(rid, place: "kineticLaw of reaction '\(excerpt(rid))'").expr
                        let term = Expr.multiply(.number(nu), flux)
                        change = change.map { .add($0, term) } ?? term
                    }
                }
            }

            // The equilibrium: v(A, B) = 0 with B = (N − β·A·V_A)/(α·V_B), linear in A.
            let weightedA = beta == 1 ? Expr.multiply(.name(a), va) : .multiply(.number(beta), .multiply(.name(a), va))
            let bFromA = Expr.divide(
                .subtract(.name(total), weightedA), alpha == 1 ? vb : .multiply(.number(alpha), vb))
            let g = try fastLaw(id, refuse: refuse).substituting { $0 == b ? bFromA : nil }
            let aValue = try equilibrium(g, solvingFor: a, reactant: true, reaction: id, refuse: refuse)
            let bValue = bFromA.substituting { $0 == a ? aValue : nil }

            // A and B are concentrations given by the rules; N is a state.
            ruleSpecies(a, aValue)
            ruleSpecies(b, bValue)
            let parameter = XMLNode(
                name: "parameter",
                attributes: [
                    "id": total, "value": (beta * initialAmount[a]! + alpha * initialAmount[b]!).exactText,
                    "constant": "false",
                    "name": alpha == 1 && beta == 1
                        ? "total amount of \(a) and \(b) (fast reaction \(id) at equilibrium)"
                        : "\(beta.exactText)·amount of \(a) + \(alpha.exactText)·amount of \(b) (fast reaction \(id) "
                            + "at equilibrium)",
                ])
            parameterNodes.append(parameter)
            parameterNodeByID[total] = parameter
            parameterIDSet.insert(total)
            rateRules[total] = change ?? .number(0)
            rateRuledParameters.append(total)
            reducedFastReactions.insert(id)
        }
    }

    /// The kinetic law of fast reaction `id`. (It may read what rules and events change: the
    /// equilibrium follows them, as SBML's fast reaction is at equilibrium at every instant.)
    func fastLaw(_ id: String, refuse: (String) -> SBMLImportError) throws -> Expr {
        try reactionFlux(id, place: "kineticLaw of reaction '\(excerpt(id))'").expr
    }

    /// The value of `v` where `g` = 0, g linear in v (that the slope is nonzero at the start is
    /// checked by `checkFastReactions`) or quadratic in v (`stableRoot`). `reactant`: v is the
    /// fast reaction's reactant (the flux g lowers it), else its product.
    mutating func equilibrium(
        _ g: Expr, solvingFor v: String, reactant: Bool, reaction id: String, refuse: (String) -> SBMLImportError
    ) throws -> Expr {
        let slope = g.derivative(with: v)
        if !g.isLinear(in: v) {
            let varying = slope.simplified
            guard varying.isLinear(in: v) else {
                throw refuse("its rate law is neither linear nor quadratic in '\(excerpt(v))'")
            }
            // Quadratic: checked at the start as the linear slope is, on its v² coefficient (a law
            // that is identically zero there, k·A·B·ln(1) say, determines no equilibrium).
            fastReactionSlopes.append((id, varying.derivative(with: v).simplified))
            return Self.stableRoot(of: reactant ? g : .negate(g), in: v)
        }
        if case .number(0) = slope { throw refuse("its rate law does not depend on its species") }
        // A slope that rules or events change moves the equilibrium with them; where it passed
        // through zero there would be none, and the division makes the run stop there with a
        // non-finite rate naming the species.
        fastReactionSlopes.append((id, slope))
        return g.root(in: v, slope: slope)
    }

    /// The root of h = c₂v² + c₁v + c₀ where h rises (h′ = +√D, D = c₁² − 4c₂c₀): the equilibrium
    /// the fast flux h, which lowers v, moves v back to from either side; the other root repels.
    /// (Mass action k·A·B on A + B = N: A = 0 for k > 0, B = 0 for k < 0.) Written without
    /// cancellation: (−c₁ + √D)/(2c₂) for c₁ < 0, else −2c₀/(c₁ + √D), which is also the linear root
    /// −c₀/c₁ when c₂ = 0 and 0 when c₀ = c₁ = 0.
    static func stableRoot(of h: Expr, in v: String) -> Expr {
        let slope = h.derivative(with: v).simplified
        let c0 = h.substituting { $0 == v ? .number(0) : nil }.simplified
        let c1 = slope.substituting { $0 == v ? .number(0) : nil }.simplified
        let c2 = Expr.multiply(.number(0.5), slope.derivative(with: v)).simplified
        let root = Expr.function(
            .sqrt, .subtract(.multiply(c1, c1), .multiply(.number(4), .multiply(c2, c0))))
        let denominator = Expr.add(c1, root)
        return .select(
            left: c1, right: .number(0),
            ifLess: .divide(.add(.negate(c1), root), .multiply(.number(2), c2)),
            otherwise: .select(
                left: .number(0), right: denominator,
                ifLess: .negate(.divide(.multiply(.number(2), c0), denominator)), otherwise: .number(0)))
    }

    /// Species `s` is no state: an observable of the concentration `value`.
    mutating func ruleSpecies(_ s: String, _ value: Expr) {
        ruleExpressions[s] = value
        observableIDs.append(s)
        ruledSpecies.insert(s)
        assignmentRuleTargets.insert(s)
    }

    /// After the initial values are known: each reduced fast reaction has an equilibrium (the
    /// slope of its rate law in its reactant is a nonzero number).
    func checkFastReactions() throws {
        if let id = fastReactionSlopes.first?.reaction, root.contains(where: Importer.isDelayCsymbol) {
            // A past value from before the start would be the value before the equilibrium,
            // which the reduction does not keep.
            throw SBMLImportError.unsupported(
                "SBML reaction '\(excerpt(id))' is fast=\"true\" in a model that uses the csymbol delay, which is not "
                    + "supported; write the reaction as a slow one with large rate constants.")
        }
        for (id, slope) in fastReactionSlopes {
            guard let value = evaluate(slope, values), value.isFinite, value != 0 else {
                throw SBMLImportError.unsupported(
                    "SBML reaction '\(excerpt(id))' is fast=\"true\" but its rate law does not determine an "
                        + "equilibrium at the start (its slope in the reactant is \(slope) = "
                        + "\(evaluate(slope, values).map { "\($0)" } ?? "unknown")), which is not supported; give its rate "
                        + "constants nonzero values, or write the reaction as a slow one.")
            }
        }
    }

    static func isDelayCsymbol(_ node: XMLNode) -> Bool {
        node.name == "csymbol" && (node.attributes["definitionURL"] ?? "").hasSuffix("/delay")
    }
}
