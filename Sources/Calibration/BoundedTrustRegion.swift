import CLAPACK
import Foundation

/// What the optimiser is told at a point: the objective, its gradient, and a positive
/// semi-definite approximation of its Hessian (row-major n × n; for a likelihood the Fisher
/// information, the Gauss–Newton Hessian).
public struct QuadraticModel: Sendable {
    public var value: Double
    public var gradient: [Double]
    public var hessian: [Double]

    public init(value: Double, gradient: [Double], hessian: [Double]) {
        self.value = value
        self.gradient = gradient
        self.hessian = hessian
    }

    /// gᵀs + ½ sᵀHs: the change the model predicts for the step s.
    func change(_ s: [Double]) -> Double {
        let n = s.count
        var linear = 0.0
        var quadratic = 0.0
        for i in 0..<n where s[i] != 0 {
            linear += gradient[i] * s[i]
            var row = 0.0
            for j in 0..<n where s[j] != 0 { row += hessian[i * n + j] * s[j] }
            quadratic += s[i] * row
        }
        return linear + 0.5 * quadratic
    }
}

/// A trust-region Newton method within bounds, for a Gauss–Newton (Fisher) Hessian: the method
/// Fides and Data2Dynamics' lsqnonlin use on ODE models' likelihoods, in the simplest form that
/// keeps their properties. Each iteration:
/// 1. the free set: variables not held at a bound by a gradient pointing out of the box;
/// 2. the subproblem on the free set, min gᵀp + ½pᵀHp with ‖p‖ ≤ Δ, solved exactly through
///    p(λ) = −(H + λI)⁻¹g (Cholesky; λ by bisection on log λ until ‖p‖ is within 10 % of Δ);
/// 3. back into the box: the projected step and the step truncated at the first bound, the one
///    the model prefers;
/// 4. the ratio ρ of actual to predicted decrease decides acceptance (ρ > 0) and the radius
///    (×¼ below 0.25, ×2 above 0.75 when the step reached the boundary).
/// A failed evaluation (the simulation did not finish) counts as ρ = −∞: the step is refused and
/// the region shrinks, as in Fides.
public struct BoundedTrustRegion: Sendable {
    public var lowerBounds: [Double]
    public var upperBounds: [Double]
    public var maxIterations = 1000
    /// Stop when an accepted step changes the objective by less than this plus
    /// `functionRelativeTolerance` × |f| (Fides' defaults).
    public var functionAbsoluteTolerance = 1e-8
    public var functionRelativeTolerance = 1e-8
    /// Stop when the gradient on the free set is below this in the ∞-norm.
    public var gradientTolerance = 1e-6
    /// Stop when the trust region falls below this (no step can change the model any more).
    public var radiusTolerance = 1e-10
    public var initialRadius = 1.0
    public var maxRadius = 1e3

    public init(lowerBounds: [Double], upperBounds: [Double]) {
        self.lowerBounds = lowerBounds
        self.upperBounds = upperBounds
    }

    public enum Status: Sendable, Equatable {
        /// A stopping test was met; the reason names it.
        case converged(String)
        case maxIterations
        /// The objective could not be evaluated at the start, or never became finite.
        case failed(String)

        /// One word (and the reason) for a results table.
        public var text: String {
            switch self {
            case .converged(let why): return "converged (\(why))"
            case .maxIterations: return "max_iterations"
            case .failed(let why): return "failed: \(why)"
            }
        }
    }

    public struct Result: Sendable {
        public var point: [Double]
        public var value: Double
        public var gradient: [Double]
        public var status: Status
        public var iterations: Int
        public var evaluations: Int
    }

    /// Minimises from `start` (moved into the box first). `evaluate` returns the quadratic model
    /// at a point or throws when the objective cannot be computed there.
    public func minimize(from start: [Double], evaluate: ([Double]) throws -> QuadraticModel) -> Result {
        let n = start.count
        var x = (0..<n).map { min(max(start[$0], lowerBounds[$0]), upperBounds[$0]) }
        var evaluations = 1
        var model: QuadraticModel
        do { model = try evaluate(x) } catch {
            return Result(
                point: x, value: .nan, gradient: [], status: .failed("\(error)"), iterations: 0, evaluations: 1)
        }
        guard model.value.isFinite else {
            return Result(
                point: x, value: model.value, gradient: model.gradient,
                status: .failed("the objective is \(model.value) at the start"), iterations: 0, evaluations: 1)
        }
        var radius = initialRadius
        var iterations = 0
        func result(_ status: Status) -> Result {
            Result(
                point: x, value: model.value, gradient: model.gradient, status: status, iterations: iterations,
                evaluations: evaluations)
        }
        while iterations < maxIterations {
            iterations += 1
            let free = freeSet(x, model.gradient)
            if free.allSatisfy({ abs(model.gradient[$0]) <= gradientTolerance }) {
                return result(.converged("gradient"))
            }
            var step = boxedStep(model, x: x, free: free, radius: radius)
            if !(-model.change(step) > 0) {
                // An ill-conditioned H can spoil the Newton step; the Cauchy point always descends.
                step = boxedStep(cauchyStep(model, free: free, radius: radius), x: x, model: model)
            }
            let predicted = -model.change(step)
            let length = norm(step)
            if !(predicted > 0) || length == 0 { return result(.converged("no descent step")) }
            let trial = (0..<n).map { min(max(x[$0] + step[$0], lowerBounds[$0]), upperBounds[$0]) }
            evaluations += 1
            let next = try? evaluate(trial)
            let actual = next.map { model.value - $0.value } ?? -.infinity
            let ratio = actual.isNaN ? -.infinity : actual / predicted
            if ratio > 0, let next {
                x = trial
                let change = actual
                model = next
                // Only a step inside the region says the model is near a stationary point: a step cut
                // short by a radius that failures shrank must not end the descent.
                if length < 0.9 * radius,
                    change < functionAbsoluteTolerance + functionRelativeTolerance * abs(model.value)
                {
                    return result(.converged("function change"))
                }
            }
            if ratio < 0.25 {
                radius = 0.25 * length
            } else if ratio > 0.75 && length > 0.9 * radius {
                radius = min(2 * radius, maxRadius)
            }
            if radius < radiusTolerance { return result(.converged("trust region")) }
        }
        return result(.maxIterations)
    }

    /// Variables not held at a bound: at a lower bound with a positive gradient (or an upper with
    /// a negative one) a descent step would leave the box.
    func freeSet(_ x: [Double], _ g: [Double]) -> [Int] {
        (0..<x.count).filter { i in
            !((x[i] <= lowerBounds[i] && g[i] > 0) || (x[i] >= upperBounds[i] && g[i] < 0))
        }
    }

    /// The trust-region step on the free set, brought into the box.
    func boxedStep(_ model: QuadraticModel, x: [Double], free: [Int], radius: Double) -> [Double] {
        boxedStep(trustRegionStep(model, free: free, radius: radius), x: x, model: model)
    }

    /// The minimiser of the model along −g on the free set within the radius.
    func cauchyStep(_ model: QuadraticModel, free: [Int], radius: Double) -> [Double] {
        var d = [Double](repeating: 0, count: model.gradient.count)
        for i in free { d[i] = -model.gradient[i] }
        let length = norm(d)
        guard length > 0 else { return d }
        let slope = -length * length
        let curvature = model.change(d) - slope
        var t = radius / length
        if curvature > 0 { t = min(t, -slope / (2 * curvature)) }
        return d.map { $0 * t }
    }

    /// `p` brought into the box: projected onto it, or truncated at the first bound it crosses,
    /// whichever the model prefers.
    func boxedStep(_ p: [Double], x: [Double], model: QuadraticModel) -> [Double] {
        let n = x.count
        var projected = [Double](repeating: 0, count: n)
        var fraction = 1.0
        for i in 0..<n where p[i] != 0 {
            let target = min(max(x[i] + p[i], lowerBounds[i]), upperBounds[i])
            projected[i] = target - x[i]
            if target != x[i] + p[i] { fraction = min(fraction, abs(projected[i] / p[i])) }
        }
        guard fraction < 1 else { return p }
        let truncated = p.map { $0 * fraction }
        return model.change(truncated) < model.change(projected) ? truncated : projected
    }

    /// argmin gᵀp + ½pᵀHp over the free variables with ‖p‖ ≤ radius (zero elsewhere).
    func trustRegionStep(_ model: QuadraticModel, free: [Int], radius: Double) -> [Double] {
        let n = model.gradient.count
        let m = free.count
        var full = [Double](repeating: 0, count: n)
        guard m > 0 else { return full }
        let g = free.map { model.gradient[$0] }
        var h = [Double](repeating: 0, count: m * m)
        for (a, i) in free.enumerated() { for (b, j) in free.enumerated() { h[a * m + b] = model.hessian[i * n + j] } }
        func scatter(_ p: [Double]) -> [Double] {
            for (a, i) in free.enumerated() { full[i] = p[a] }
            return full
        }
        if let p = Self.solveShifted(h, g, shift: 0), norm(p) <= radius { return scatter(p) }
        // ‖p(λ)‖ falls with λ; at λ = ‖g‖/Δ it is at most Δ (H is positive semi-definite).
        var low = 0.0
        var high = norm(g) / radius
        var best = Self.solveShifted(h, g, shift: high) ?? g.map { -$0 * radius / norm(g) }
        for _ in 0..<100 {
            let lambda = low > 0 ? (low * high).squareRoot() : high * 1e-8
            guard let p = Self.solveShifted(h, g, shift: lambda) else {
                low = lambda
                continue
            }
            let length = norm(p)
            if length <= radius { (high, best) = (lambda, p) } else { low = lambda }
            if abs(length - radius) <= 0.1 * radius { return scatter(length <= radius ? p : best) }
            if high / max(low, .leastNormalMagnitude) < 1 + 1e-12 { break }
        }
        return scatter(best)
    }

    /// −(H + shift·I)⁻¹ g by Cholesky (LAPACK dpotrf/dpotrs), or nil when H + shift·I is not
    /// positive definite.
    static func solveShifted(_ h: [Double], _ g: [Double], shift: Double) -> [Double]? {
        var a = h
        let m = g.count
        for i in 0..<m { a[i * m + i] += shift }
        var n = Int32(m)
        var lda = Int32(m)
        var info: Int32 = 0
        var uplo = Int8(UInt8(ascii: "L"))
        dpotrf_(&uplo, &n, &a, &lda, &info, 1)
        guard info == 0 else { return nil }
        var b = g.map { -$0 }
        var nrhs: Int32 = 1
        var ldb = Int32(m)
        dpotrs_(&uplo, &n, &nrhs, &a, &lda, &b, &ldb, &info, 1)
        guard info == 0, b.allSatisfy(\.isFinite) else { return nil }
        return b
    }
}

func norm(_ v: [Double]) -> Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }
