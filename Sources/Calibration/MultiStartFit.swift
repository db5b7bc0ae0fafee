import Foundation
import Simulation

extension PEtabProblem.Scale {
    /// The linear value of `v` given on this scale.
    public func linear(_ v: Double) -> Double {
        switch self {
        case .lin: return v
        case .log: return Foundation.exp(v)
        case .log10: return Foundation.pow(10, v)
        }
    }
}

extension PEtabProblem {
    /// The estimated parameters' bounds on their scales (PEtab gives them on the linear scale).
    public var scaledBounds: (lower: [Double], upper: [Double]) {
        (estimated.map { $0.scale.scaled($0.lowerBound) }, estimated.map { $0.scale.scaled($0.upperBound) })
    }

    /// Linear values by id of the estimated parameters at `x` (their scales' values, in order).
    public func linearValues(scaled x: [Double]) -> [String: Double] {
        Dictionary(uniqueKeysWithValues: zip(estimated, x).map { ($0.id, $0.scale.linear($1)) })
    }

    /// `count` starting points of a multi-start fit: a Latin hypercube over the estimated
    /// parameters' bounds on their scales (each parameter's range cut into `count` strata, one
    /// point in each, the strata paired at random), from `seed` alone. Start k (1-based) is
    /// `result[k - 1]`, whatever shard runs it.
    public func latinHypercubeStarts(count: Int, seed: UInt64) -> [[Double]] {
        let (lower, upper) = scaledBounds
        var rng = RandomGenerator(seed: seed)
        var columns: [[Double]] = []
        for d in lower.indices {
            var strata = Array(0..<count)
            for i in stride(from: count - 1, to: 0, by: -1) { strata.swapAt(i, rng.integer(below: i + 1)) }
            columns.append(
                strata.map { lower[d] + (upper[d] - lower[d]) * (Double($0) + rng.uniform()) / Double(count) })
        }
        return (0..<count).map { k in columns.map { $0[k] } }
    }
}

/// One start of a multi-start fit, as `stat3sim fit` writes it.
public struct FitStart: Sendable {
    /// 1-based.
    public var start: Int
    public var status: BoundedTrustRegion.Status
    /// −log L + the prior term at the end (NaN when the start failed before any evaluation).
    public var value: Double
    public var iterations: Int
    public var evaluations: Int
    public var seconds: Double
    /// The estimated parameters on their scales, in the parameter table's order.
    public var parameters: [Double]
}

/// Maximum-likelihood fits of a PEtab problem: the objective (NLL + prior) minimised on the
/// parameter scale by `BoundedTrustRegion` with the Fisher information as Hessian.
public struct PEtabFitter: Sendable {
    public let problem: PEtabProblem
    public var rtol: Double
    public var atol: Double
    public var optimizer: BoundedTrustRegion
    /// Most solver steps between stops of one simulation: AMICI's default, so that a start in a
    /// region of extreme stiffness fails its step (the trust region shrinks) instead of costing
    /// minutes.
    public var maxSteps = 10_000
    /// Scaling parameters fitted in closed form at every step instead of by the optimiser
    /// (`fit --hierarchical`); nil: all estimated parameters are the optimiser's.
    public var analyticScalings: AnalyticScalings?

    public init(problem: PEtabProblem, rtol: Double = 1e-8, atol: Double = 1e-12) {
        self.problem = problem
        self.rtol = rtol
        self.atol = atol
        let (lower, upper) = problem.scaledBounds
        optimizer = BoundedTrustRegion(lowerBounds: lower, upperBounds: upper)
    }

    /// The objective, gradient and Fisher information (with the prior's) at `x` on the scale.
    public static func quadraticModel(_ objective: PEtabObjective, at x: [Double]) throws -> QuadraticModel {
        let problem = objective.problem
        let v = try objective.evaluate(values: problem.linearValues(scaled: x), fisher: true)
        let ids = problem.estimated.map(\.id)
        let n = ids.count
        var hessian = v.fisher!
        for i in 0..<n { hessian[i * n + i] += v.priorFisher![i] }
        return QuadraticModel(
            value: v.nll + v.priorNLL,
            gradient: ids.map { (v.gradient![$0] ?? 0) + (v.priorGradient![$0] ?? 0) },
            hessian: hessian)
    }

    /// One start, minimised with `objective` (which must not be in use elsewhere meanwhile).
    public func fit(start: Int, from x: [Double], objective: PEtabObjective) -> FitStart {
        let clock = ContinuousClock.now
        let r: BoundedTrustRegion.Result
        let point: [Double]
        if let analytic = analyticScalings, !analytic.scalings.isEmpty {
            var reduced = optimizer
            (reduced.lowerBounds, reduced.upperBounds) = analytic.bounds(optimizer.lowerBounds, optimizer.upperBounds)
            // The scalings' optimum at every point evaluated, for the one the optimiser ends at.
            var scalingsAt: [[Double]: [Double]] = [:]
            r = reduced.minimize(from: analytic.optimized.map { x[$0] }) { y in
                let (model, scalings) = try analytic.quadraticModel(objective, at: y)
                scalingsAt[y] = scalings
                return model
            }
            point = analytic.fullPoint(
                r.point, scalings: scalingsAt[r.point] ?? analytic.scalings.map(\.nominalValue), problem: problem)
        } else {
            r = optimizer.minimize(from: x) { try Self.quadraticModel(objective, at: $0) }
            point = r.point
        }
        let elapsed = ContinuousClock.now - clock
        return FitStart(
            start: start, status: r.status, value: r.value, iterations: r.iterations, evaluations: r.evaluations,
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18,
            parameters: point)
    }

    /// Runs the starts `indices` (1-based, into `points`) on `jobs` threads, each with its own
    /// objective, and hands every result to `report` as soon as it is done (from a worker
    /// thread, one call at a time).
    public func run(
        starts indices: [Int], points: [[Double]], jobs: Int, report: @escaping @Sendable (FitStart) -> Void
    ) throws {
        let workers = max(1, min(jobs, indices.count))
        let objectives = try (0..<workers).map { _ in
            let o = try PEtabObjective(problem: problem, rtol: rtol, atol: atol)
            o.parallelConditions = workers == 1
            o.maxSteps = maxSteps
            return o
        }
        let lock = NSLock()
        var next = 0
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            while true {
                lock.lock()
                let k = next
                next += 1
                lock.unlock()
                guard k < indices.count else { return }
                let start = indices[k]
                let result = fit(start: start, from: points[start - 1], objective: objectives[w])
                lock.lock()
                report(result)
                lock.unlock()
            }
        }
    }
}
