import Foundation
import ReactionModel

extension Importer {
    /// Rules: assignment rules on parameters, species, compartments and speciesReferences become
    /// observables (a species with a rule is no state: its observable gives its concentration),
    /// rate rules become rate rules of states; algebraic rules and anything else are refused.
    mutating func readRules() throws {
        for rule in model.child("listOfRules")?.children ?? [] where rule.child("math") != nil {
            guard let variable = rule.attributes["variable"] else { continue }
            if rule.name == "rateRule" { rateRuleNodes[variable] = rule }
            if rule.name == "assignmentRule" { assignmentRuleTargets.insert(variable) }
        }
        // Algebraic rules solved for their variables are assignment rules from here on (their
        // math may read rates: rateOf needs the rate rules above).
        let algebraic = try solveAlgebraicRules()
        for solved in algebraic.values { assignmentRuleTargets.insert(solved.variable) }

        variableReferences = Set(
            model.list("listOfEvents", "event").flatMap {
                $0.list("listOfEventAssignments", "eventAssignment").compactMap { $0.attributes["variable"] }
            }.filter { speciesReferenceIDs.contains($0) })
        if let rules = model.child("listOfRules") {
            for (position, rule) in rules.children.enumerated()
            where rule.name != "notes" && rule.name != "annotation" {
                let solved = algebraic[position]
                let variable = solved?.variable ?? rule.attributes["variable"] ?? ""
                let kind = kindOf(variable)
                // Level 3 Version 2: no math, no effect.
                if rule.child("math") == nil { continue }
                // The rule's math, its place named by the rule and by what `variable` is (`target`).
                func ruleMath(_ target: String) throws -> Expr {
                    if let solved { return solved.value }
                    return try math(of: rule, place: "\(rule.name) for \(target) '\(excerpt(variable))'")
                }
                switch solved == nil ? rule.name : "assignmentRule" {
                case "assignmentRule" where kind == "parameter":
                    ruleExpressions[variable] = try ruleMath("parameter")
                    observableIDs.append(variable)
                case "assignmentRule" where kind == "species":
                    var e = try ruleMath("species")
                    if onlySubstance.contains(variable) { e = .divide(e, .name(speciesCompartment[variable]!)) }
                    ruleExpressions[variable] = e
                    observableIDs.append(variable)
                    ruledSpecies.insert(variable)
                case "rateRule" where kind == "species":
                    var e = try ruleMath("species")
                    // In amounts: the concentration's rate, unless the species is held as its
                    // amount (a compartment that changes size), which the rule gives directly.
                    if onlySubstance.contains(variable) && amountName[variable] == nil {
                        e = .divide(e, .name(speciesCompartment[variable]!))
                    }
                    rateRules[variable] = e
                case "rateRule" where kind == "parameter":
                    rateRules[variable] = try ruleMath("parameter")
                    rateRuledParameters.append(variable)
                case "assignmentRule" where speciesReferenceIDs.contains(variable):
                    // A stoichiometry that changes: an observable of the speciesReference's id.
                    ruleExpressions[variable] = try ruleMath("speciesReference")
                    observableIDs.append(variable)
                    variableReferences.insert(variable)
                case "rateRule" where speciesReferenceIDs.contains(variable):
                    // A state variable named by the speciesReference's id.
                    rateRules[variable] = try ruleMath("speciesReference")
                    rateRuledParameters.append(variable)
                    variableReferences.insert(variable)
                case "rateRule" where kind == "compartment":
                    // A state variable; its species are amounts (above).
                    rateRules[variable] = try ruleMath("compartment")
                    rateRuledParameters.append(variable)
                case "assignmentRule" where kind == "compartment":
                    ruleExpressions[variable] = try ruleMath("compartment")
                    observableIDs.append(variable)
                case "algebraicRule":
                    // (solveAlgebraicRules has solved every algebraic rule with math, or refused it.)
                    throw SBMLImportError.unsupported(
                        "SBML algebraicRule \(position + 1) of listOfRules is not supported yet; write it as an "
                            + "assignmentRule (or rateRule) of the variable it determines.")
                default:
                    throw SBMLImportError.unsupported(
                        "SBML \(excerpt(rule.name)) for \(kind) '\(excerpt(variable))' is not supported yet; a rule "
                            + "may set a species, a parameter, a compartment or a speciesReference: declare "
                            + "'\(excerpt(variable))' as one of these.")
                }
            }
        }
        try reduceFastReactions()
        observableIDSet = Set(observableIDs)
        parameterIDs = parameterNodes.compactMap { $0.attributes["id"] }.filter {
            !observableIDSet.contains($0)
                && rateRules[$0] == nil
        }
        parameterIDKept = Set(parameterIDs)
        speciesNodes = allSpeciesNodes.filter { !ruledSpecies.contains($0.attributes["id"]!) }
        speciesIndex = Dictionary(
            speciesNodes.enumerated().map { ($1.attributes["id"]!, $0) },
            uniquingKeysWith: {
                a,
                _ in a
            })
    }

    /// The observables of the model file: the concentration of each species held as an amount,
    /// then the assignment rules.
    mutating func buildObservables() {
        // The concentration of each species held as an amount, under the species' own name.
        for node in speciesNodes {
            let id = node.attributes["id"]!
            guard let amount = amountName[id] else { continue }
            let e = Expr.divide(.name(amount), .name(speciesCompartment[id]!))
            observables.append(
                .init(
                    name: id, expression: e, text: ExpressionText.text(e),
                    description: Importer.label(node)))
        }
        for id in observableIDs {
            let e = ruleExpressions[id]!
            observables.append(.init(name: id, expression: e, text: ExpressionText.text(e)))
        }
    }
}
