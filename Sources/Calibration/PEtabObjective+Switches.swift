import Foundation
import ReactionModel

extension PEtabObjective {
    /// Every comparison `if_less(a, b, …)` (SBML's piecewise) of the model's rate laws, rules and
    /// observables whose sides differ by an affine function of time: the times at which a
    /// right-hand side jumps. A run stops at each (a timed event without assignments), so that
    /// the solver restarts there instead of stepping over the jump.
    static func timeComparisons(_ d: ModelDefinition) -> [Expr] {
        let expressions = d.rightHandSideExpressions
        var found: [Expr] = []
        func visit(_ e: Expr) {
            switch e {
            case .number, .name, .delay: break
            case .negate(let a), .function(_, let a): visit(a)
            case .add(let a, let b), .subtract(let a, let b), .multiply(let a, let b), .divide(let a, let b),
                .power(let a, let b):
                visit(a)
                visit(b)
            case .select(let l, let r, let x, let y):
                let g = Expr.subtract(l, r)
                let slope = g.derivative(with: "t")
                if g.names.contains("t"), !slope.names.contains("t") { found.append(g) }
                for part in [l, r, x, y] { visit(part) }
            }
        }
        expressions.forEach(visit)
        return found
    }

    /// The times in (0, tEnd) at which `comparisons` change sign under a condition's values.
    func switchTimes(_ comparisons: [Expr], plan: RunPlan, tEnd: Double, condition: String) throws -> [Double] {
        let d = problem.model
        var times: Set<Double> = []
        for g in comparisons {
            for name in g.names where name != "t" {
                if let deps = plan.dependencies[name], !deps.isEmpty {
                    throw PEtabError(
                        "condition '\(condition)': a piecewise switch of the model happens at a time that depends on "
                            + "the estimated parameter '\(deps.keys.sorted()[0])' (through '\(name)'); moving switch "
                            + "times are not supported.", file: problem.modelFile)
                }
            }
            func value(_ name: String, _ t: Double) -> Double {
                if name == "t" { return t }
                if let v = plan.values[name] { return v }
                switch d.symbol(named: name) {
                case .parameter(let i)?: return d.parameters[i].value
                case .compartment(let i)?: return d.compartments[i].size
                default: return .nan
                }
            }
            let slope = g.derivative(with: "t").evaluate { value($0, 0) }
            let atZero = g.evaluate { value($0, 0) }
            guard slope != 0, slope.isFinite, atZero.isFinite else { continue }
            let tau = -atZero / slope
            if tau > 0, tau < tEnd { times.insert(tau) }
        }
        return times.sorted()
    }
}
