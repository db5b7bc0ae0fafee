import Foundation
import ReactionModel

/// Algebraic rules (`0 = g(x, …)`) that are linear in the variable they determine become
/// assignment rules of that variable, `x = −g(0)/(∂g/∂x)`: exact, so the model stays an ODE and
/// the solver, sensitivities and steady states need nothing new. Which variable a rule determines
/// is SBML's: a non-constant parameter or compartment, or a species whose value neither reactions
/// nor other rules set, matched one to one with the rules (a bipartite matching, as SBML's overdetermination check
/// does). A rule that is nonlinear in every candidate, or a set of rules that determine each other,
/// is refused by name.
extension Importer {
    /// One solved rule: the variable it determines and the value of that variable's SBML symbol
    /// (for a species in amounts, its amount), as an assignment rule would give it.
    struct SolvedAlgebraicRule {
        var variable: String
        var value: Expr
    }

    /// The non-constant compartments that algebraic rules mention: they may be what a rule
    /// determines, so their species are held as amounts (as for any compartment that changes).
    func compartmentsInAlgebraicRules() -> Set<String> {
        var names = Set<String>()
        func visit(_ node: XMLNode) {
            if node.name == "ci" { names.insert(node.text.trimmingCharacters(in: .whitespacesAndNewlines)) }
            node.children.forEach(visit)
        }
        for rule in model.child("listOfRules")?.children("algebraicRule") ?? [] { rule.child("math").map(visit) }
        return Set(compartmentNodes.filter { $0.attributes["constant"] == "false" }.compactMap { $0.attributes["id"] })
            .intersection(names)
    }

    /// The algebraic rules of the model, solved, by position among the children of listOfRules.
    mutating func solveAlgebraicRules() throws -> [Int: SolvedAlgebraicRule] {
        guard let list = model.child("listOfRules") else { return [:] }
        // (Level 3 Version 2: a rule without math has no effect.)
        let rules = list.children.enumerated().filter {
            $0.element.name == "algebraicRule" && $0.element.child("math") != nil
        }
        guard !rules.isEmpty else { return [:] }

        // What other rules and reactions already determine.
        var determined = Set<String>()
        for rule in list.children where rule.name == "assignmentRule" || rule.name == "rateRule" {
            if let v = rule.attributes["variable"] { determined.insert(v) }
        }
        // (What events assign is no candidate either: its value would jump away from the rule.)
        for event in model.list("listOfEvents", "event") {
            for assignment in event.list("listOfEventAssignments", "eventAssignment") {
                if let v = assignment.attributes["variable"] { determined.insert(v) }
            }
        }
        for reaction in model.list("listOfReactions", "reaction") {
            for side in ["listOfReactants", "listOfProducts"] {
                for reference in reaction.list(side, "speciesReference") {
                    guard let s = reference.attributes["species"], let node = speciesNodeByID[s],
                        node.attributes["boundaryCondition"] != "true"
                    else { continue }
                    determined.insert(s)
                }
            }
        }
        func isCandidate(_ id: String) -> Bool {
            guard !determined.contains(id) else { return false }
            if let node = parameterNodeByID[id] { return node.attributes["constant"] == "false" }
            if compartmentIDSet.contains(id) {
                // (`findChangingCompartments` holds the species of such a compartment as amounts.)
                return variableCompartments.contains(id)
            }
            if let node = speciesNodeByID[id] {
                // (A species in a changing compartment appears in the math as its amount: not
                // solved for here.)
                return node.attributes["constant"] != "true" && amountName[id] == nil
            }
            return false
        }

        // Each rule's math, and the candidates it is linear in, with their coefficients.
        var maths: [Expr] = []
        var edges: [[(variable: String, coefficient: Expr)]] = []
        for (number, (_, rule)) in rules.enumerated() {
            let g = try math(of: rule, place: "algebraicRule \(number + 1)")
            maths.append(g)
            // Candidates from the last mentioned back: where several could be determined, the
            // SBML Test Suite expects the one written last (`0 = f − x` determines x).
            edges.append(
                g.names.reversed().filter(isCandidate).compactMap { v in
                    guard g.isLinear(in: v) else { return nil }
                    let a = g.derivative(with: v)
                    if case .number(0) = a { return nil }
                    return (v, a)
                })
        }

        // One variable per rule: augmenting paths (Kuhn's algorithm), rules in file order.
        var ruleOf: [String: Int] = [:]
        func augment(_ r: Int, _ visited: inout Set<String>) -> Bool {
            for edge in edges[r] where visited.insert(edge.variable).inserted {
                if let other = ruleOf[edge.variable] {
                    guard augment(other, &visited) else { continue }
                }
                ruleOf[edge.variable] = r
                return true
            }
            return false
        }
        for r in rules.indices {
            var visited = Set<String>()
            guard augment(r, &visited) else {
                let mentioned = maths[r].names.filter { speciesNodeByID[$0] != nil || parameterNodeByID[$0] != nil }
                let nonlinear = mentioned.filter { isCandidate($0) && !maths[r].isLinear(in: $0) }
                let reason =
                    nonlinear.isEmpty
                    ? "it determines no variable that other rules, reactions or earlier algebraic rules leave free "
                        + "(a non-constant parameter or species it mentions, linearly)"
                    : "it is nonlinear in " + nonlinear.map { "'\(excerpt($0))'" }.joined(separator: ", ")
                        + ", the variables it could determine"
                throw SBMLImportError.unsupported(
                    "SBML algebraicRule \(r + 1)\(Importer.idSuffix(rules[r].element)) "
                        + "(0 = \(excerpt(maths[r].description, limit: 80))) is not "
                        + "supported: \(reason). stat3sim solves algebraic rules that are linear in the variable they "
                        + "determine; write this one as an assignmentRule (or rateRule) of that variable.")
            }
        }

        var solved: [Int: SolvedAlgebraicRule] = [:]
        for (variable, r) in ruleOf {
            let coefficient = edges[r].first { $0.variable == variable }!.coefficient
            var value = maths[r].root(in: variable, slope: coefficient)
            // The math reads an amount-valued species as concentration × compartment.
            if onlySubstance.contains(variable), let c = speciesCompartment[variable] {
                value = .multiply(value, .name(c))
            }
            solved[rules[r].offset] = SolvedAlgebraicRule(variable: variable, value: value)
        }
        // Rules that determine each other would be assignment rules in a loop.
        for (r, rule) in solved {
            let others = Set(solved.filter { $0.key != r }.map(\.value.variable))
            if let loop = rule.value.names.first(where: others.contains) {
                throw SBMLImportError.unsupported(
                    "SBML algebraicRules determining '\(excerpt(rule.variable))' and '\(excerpt(loop))' depend on each "
                        + "other (a system of algebraic equations), which is not supported; solve them for the two "
                        + "variables and write assignmentRules.")
            }
        }
        return solved
    }
}

extension Expr {
    /// Where an expression affine in `v` with this `slope` (∂/∂v) is zero: v = −self(v = 0)/slope.
    func root(in v: String, slope: Expr) -> Expr {
        .negate(.divide(substituting { $0 == v ? .number(0) : nil }, slope))
    }

    /// Whether the expression is affine in `v`: a·v + b with a and b free of v.
    func isLinear(in v: String) -> Bool {
        func free(_ e: Expr) -> Bool { !e.names.contains(v) }
        switch self {
        case .number, .name: return true
        case .negate(let a): return a.isLinear(in: v)
        case .add(let a, let b), .subtract(let a, let b): return a.isLinear(in: v) && b.isLinear(in: v)
        case .multiply(let a, let b): return (free(a) && b.isLinear(in: v)) || (free(b) && a.isLinear(in: v))
        case .divide(let a, let b): return free(b) && a.isLinear(in: v)
        case .power, .function, .delay: return free(self)
        case .select(let left, let right, let x, let y):
            return free(left) && free(right) && x.isLinear(in: v) && y.isLinear(in: v)
        }
    }
}
