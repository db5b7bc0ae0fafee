import Foundation

/// Scaling parameters fitted in closed form (hierarchical optimization, Loos et al.,
/// Bioinformatics 2018; pyPESTO's `hierarchical=True`): an estimated parameter s that only
/// multiplies observables, h = s·g with g free of s, under normal noise that does not depend
/// on s, has for every other parameter θ the optimum
///
///     s*(θ) = Σ m g/σ² / Σ g²/σ²   (clamped to its bounds; the NLL is a parabola in s),
///
/// so the optimiser runs over θ alone on the profile NLL(θ, s*(θ)). That removes the worst-scaled
/// directions of a problem (a scaling factor across 16 decades) and the local minima they make.
/// By the envelope theorem the profile's gradient is ∂NLL/∂θ at s*; its Gauss–Newton Hessian is
/// the Schur complement of the Fisher information, H_θθ − H_θs H_ss⁻¹ H_sθ, over the scalings
/// inside their bounds.
public struct AnalyticScalings: Sendable {
    public struct Scaling: Sendable {
        public var id: String
        /// Position in `problem.estimated`.
        public var index: Int
        /// The measurements whose simulated value this parameter multiplies.
        public var rows: [Int]
        /// Bounds and nominal value on the linear scale.
        public var lowerBound, upperBound, nominalValue: Double
    }

    public let scalings: [Scaling]
    /// The positions in `problem.estimated` the optimiser still sees, in order.
    public let optimized: [Int]
    let dimension: Int

    /// The estimated parameters of `objective`'s problem that qualify (none may).
    public init(objective: PEtabObjective) {
        let problem = objective.problem
        var candidates: [String: Int] = [:]
        for (i, p) in problem.estimated.enumerated()
        where p.prior == nil && problem.model.symbol(named: p.id) == nil {
            candidates[p.id] = i
        }
        // Parameters that conditions set are inputs of the simulation, not scalings.
        for c in problem.conditions {
            for (_, v) in c.overrides { if case .parameter(let id) = v { candidates[id] = nil } }
        }
        var rows: [String: [Int]] = [:]
        var rejected = Set<String>()
        for (k, m) in problem.measurements.enumerated() {
            guard let o = objective.observables[m.observableId] else { continue }
            let f = objective.cache.formulas(m, o)
            let inObservable = Set(f.observable.names).filter { candidates[$0] != nil }
            rejected.formUnion(Set(f.noise.names).filter { candidates[$0] != nil })
            if inObservable.isEmpty { continue }
            // One scaling per datum, as a factor of its formula, on a linear scale with normal noise:
            // then each s* is its own weighted least-squares fit.
            guard inObservable.count == 1, o.transformation == .lin, o.distribution == .normal,
                let s = inObservable.first, Self.isFactor(s, of: f.observable)
            else {
                rejected.formUnion(inObservable)
                continue
            }
            rows[s, default: []].append(k)
        }
        scalings = rows.keys.filter { !rejected.contains($0) }.map { id in
            let p = problem.estimated[candidates[id]!]
            return Scaling(
                id: id, index: candidates[id]!, rows: rows[id]!, lowerBound: p.lowerBound, upperBound: p.upperBound,
                nominalValue: p.nominalValue)
        }.sorted { $0.index < $1.index }
        let fixed = Set(scalings.map(\.index))
        optimized = problem.estimated.indices.filter { !fixed.contains($0) }
        dimension = problem.estimated.count
    }

    /// Whether `e` is `name` times (or over) factors free of `name`.
    static func isFactor(_ name: String, of e: Expr) -> Bool {
        switch e {
        case .name(let n): return n == name
        case .multiply(let a, let b):
            return (isFactor(name, of: a) && !b.names.contains(name))
                || (isFactor(name, of: b) && !a.names.contains(name))
        case .divide(let a, let b): return isFactor(name, of: a) && !b.names.contains(name)
        default: return false
        }
    }

    /// The optimiser's bounds: those of the parameters it sees.
    public func bounds(_ lower: [Double], _ upper: [Double]) -> (lower: [Double], upper: [Double]) {
        (optimized.map { lower[$0] }, optimized.map { upper[$0] })
    }

    /// A point of all estimated parameters (on their scales) with `x` for those the optimiser
    /// sees and `scalings` (linear values, in `self.scalings`' order) for the others.
    public func fullPoint(_ x: [Double], scalings values: [Double], problem: PEtabProblem) -> [Double] {
        var full = [Double](repeating: 0, count: dimension)
        for (a, i) in optimized.enumerated() { full[i] = x[a] }
        for (s, v) in zip(scalings, values) { full[s.index] = problem.estimated[s.index].scale.scaled(v) }
        return full
    }

    /// s* for each scaling from simulations made with every scaling at 1 (so that h = g), clamped
    /// to the bounds; the nominal value (clamped) where the data do not determine it (g ≡ 0).
    public func optimalScalings(_ unscaled: PEtabObjectiveValue, problem: PEtabProblem) -> [Double] {
        scalings.map { s in
            var numerator = 0.0
            var denominator = 0.0
            for k in s.rows {
                let g = unscaled.simulations[k]
                let w = 1 / (unscaled.noise[k] * unscaled.noise[k])
                numerator += problem.measurements[k].measurement * g * w
                denominator += g * g * w
            }
            let best =
                denominator > 0 && numerator.isFinite && denominator.isFinite ? numerator / denominator : s.nominalValue
            return min(max(best, s.lowerBound), s.upperBound)
        }
    }

    /// The profile objective at `x` (the parameters the optimiser sees) and the scalings' optimal
    /// linear values there: two evaluations, one plain with the scalings at 1, one with the
    /// Fisher information at s*.
    public func quadraticModel(_ objective: PEtabObjective, at x: [Double]) throws -> (
        model: QuadraticModel, scalings: [Double]
    ) {
        let problem = objective.problem
        let ones = [Double](repeating: 1, count: scalings.count)
        let unscaled = try objective.evaluate(
            values: problem.linearValues(scaled: fullPoint(x, scalings: ones, problem: problem)))
        let values = optimalScalings(unscaled, problem: problem)
        let full = try PEtabFitter.quadraticModel(objective, at: fullPoint(x, scalings: values, problem: problem))
        return (reduce(full, scalings: values), values)
    }

    /// The Schur complement of the Hessian over the scalings inside their bounds (a scaling at a
    /// bound stays there under small changes of θ: it is held, not eliminated), and the gradient
    /// of the parameters the optimiser sees.
    func reduce(_ model: QuadraticModel, scalings values: [Double]) -> QuadraticModel {
        let n = dimension
        var h = model.hessian
        for (s, v) in zip(scalings, values) where v > s.lowerBound && v < s.upperBound {
            let pivot = h[s.index * n + s.index]
            guard pivot > 0 else { continue }
            let column = (0..<n).map { h[$0 * n + s.index] }
            for i in 0..<n where column[i] != 0 {
                for j in 0..<n where column[j] != 0 { h[i * n + j] -= column[i] * column[j] / pivot }
            }
        }
        let m = optimized.count
        var reduced = [Double](repeating: 0, count: m * m)
        for (a, i) in optimized.enumerated() {
            for (b, j) in optimized.enumerated() { reduced[a * m + b] = h[i * n + j] }
        }
        return QuadraticModel(value: model.value, gradient: optimized.map { model.gradient[$0] }, hessian: reduced)
    }
}
