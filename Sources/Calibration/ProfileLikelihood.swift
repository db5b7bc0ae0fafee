import Foundation

/// One point of a profile: the profiled parameter fixed at `value` (on its scale), the others
/// optimised.
public struct ProfilePoint: Sendable {
    public var value: Double
    /// NLL + prior, the others re-optimised.
    public var objective: Double
    /// 2 (objective − the optimum's): the likelihood-ratio statistic, χ²₁ distributed.
    public var ratio: Double
    public var iterations: Int
    public var status: BoundedTrustRegion.Status
    /// All estimated parameters on their scales.
    public var parameters: [Double]
}

/// The profile likelihood of one parameter and the confidence interval it gives.
public struct ParameterProfile: Sendable {
    public var parameter: String
    public var index: Int
    public var optimum: Double
    /// Ascending in `value`; the optimum is among them.
    public var points: [ProfilePoint]
    /// Where the profile crosses the threshold on each side (refined by regula falsi to a point
    /// within 0.01 of it, then interpolated linearly); nil where it stays below it up to the bound or the point limit.
    public var lower: Double?
    public var upper: Double?
    /// Why a side ended without crossing: "bound" or "points".
    public var lowerEnd: String
    public var upperEnd: String
    /// The lowest objective met on the way, when it is below the optimum's by more than 1e-3
    /// (the optimum was not the best: refit from the profile's point).
    public var better: Double?
}

/// Profile likelihoods (Raue et al. 2009, as Data2Dynamics and pyPESTO compute them): from the
/// optimum, one parameter is stepped up and down, the others re-optimised at every step (warm
/// started from the step before), until 2Δ(NLL) passes the threshold (3.84: 95 % pointwise,
/// χ²₁) or the bound is reached. Steps adapt to the curvature: each aims at a rise of the
/// statistic of a tenth of the threshold, predicted from the reduced Fisher information at the
/// optimum and corrected by the rise each step actually made.
public struct ProfileLikelihood: Sendable {
    public var fitter: PEtabFitter
    public var threshold = 3.84
    /// Most points on each side.
    public var maxPoints = 40
    public var maxIterations = 200

    public init(fitter: PEtabFitter) { self.fitter = fitter }

    /// The optimum refined by a local fit from `start`: a profile from a point that is not one
    /// says nothing.
    public func refine(_ start: [Double], objective: PEtabObjective) -> FitStart {
        fitter.fit(start: 0, from: start, objective: objective)
    }

    public func profile(
        _ index: Int, optimum x: [Double], objective value: Double, using objective: PEtabObjective
    ) throws -> ParameterProfile {
        let problem = fitter.problem
        let n = x.count
        let (lower, upper) = problem.scaledBounds
        let model = try PEtabFitter.quadraticModel(objective, at: x)
        let target = threshold / 10
        // The reduced curvature 1/(H⁻¹)ᵢᵢ: how fast the profile rises at the optimum.
        let curvature = Self.reducedCurvature(model.hessian, n: n, index: index)
        let range = upper[index] - lower[index]
        let first = min(max((2 * target / max(curvature, 1e-12)).squareRoot(), 1e-3 * range), 0.1 * range)
        let optimumPoint = ProfilePoint(
            value: x[index], objective: value, ratio: 0, iterations: 0, status: .converged("optimum"), parameters: x)
        var sides: [(points: [ProfilePoint], crossing: Double?, end: String)] = []
        var lowest = value
        for direction in [-1.0, 1.0] {
            var points: [ProfilePoint] = []
            var previous = optimumPoint
            var step = first
            var crossing: Double? = nil
            var end = "points"
            while points.count < maxPoints {
                let bound = direction < 0 ? lower[index] : upper[index]
                if previous.value == bound {
                    end = "bound"
                    break
                }
                let next = direction < 0 ? max(previous.value - step, bound) : min(previous.value + step, bound)
                let point = try fixedFit(index, at: next, from: previous.parameters, optimum: value, objective)
                points.append(point)
                lowest = min(lowest, point.objective)
                if point.ratio >= threshold {
                    var (below, above) = (previous, point)
                    // Regula falsi between the last point below the threshold and the first above it,
                    // until a point lies within 0.01 of the threshold: the interval's end is then
                    // known to a few per mille of the last step, whatever the profile's shape.
                    for _ in 0..<4 {
                        let t = (threshold - below.ratio) / (above.ratio - below.ratio)
                        let v = below.value + t * (above.value - below.value)
                        guard v != below.value, v != above.value else { break }
                        let inner = try fixedFit(index, at: v, from: below.parameters, optimum: value, objective)
                        points.append(inner)
                        lowest = min(lowest, inner.objective)
                        if abs(inner.ratio - threshold) < 0.01 {
                            (below, above) = (inner, inner)
                            break
                        }
                        if inner.ratio < threshold { below = inner } else { above = inner }
                    }
                    let t = above.ratio == below.ratio ? 0 : (threshold - below.ratio) / (above.ratio - below.ratio)
                    crossing = below.value + t * (above.value - below.value)
                    end = "crossed"
                    break
                }
                let rise = point.ratio - previous.ratio
                if rise > 2 * target {
                    step /= 2
                } else if rise < 0.5 * target {
                    step = min(2 * step, 0.2 * range)
                }
                previous = point
            }
            sides.append((points, crossing, end))
        }
        return ParameterProfile(
            parameter: problem.estimated[index].id, index: index, optimum: x[index],
            points: (sides[0].points + [optimumPoint] + sides[1].points).sorted { $0.value < $1.value },
            lower: sides[0].crossing,
            upper: sides[1].crossing, lowerEnd: sides[0].end, upperEnd: sides[1].end,
            better: lowest < value - 1e-3 ? lowest : nil)
    }

    /// The others optimised with parameter `index` fixed at `value`.
    func fixedFit(_ index: Int, at value: Double, from start: [Double], optimum: Double, _ objective: PEtabObjective)
        throws -> ProfilePoint
    {
        let n = start.count
        let others = (0..<n).filter { $0 != index }
        func full(_ y: [Double]) -> [Double] {
            var x = start
            x[index] = value
            for (k, i) in others.enumerated() { x[i] = y[k] }
            return x
        }
        var optimizer = BoundedTrustRegion(
            lowerBounds: others.map { fitter.optimizer.lowerBounds[$0] },
            upperBounds: others.map { fitter.optimizer.upperBounds[$0] })
        optimizer.maxIterations = maxIterations
        let r = optimizer.minimize(from: others.map { start[$0] }) { y in
            let m = try PEtabFitter.quadraticModel(objective, at: full(y))
            var h = [Double](repeating: 0, count: others.count * others.count)
            for (a, i) in others.enumerated() {
                for (b, j) in others.enumerated() { h[a * others.count + b] = m.hessian[i * n + j] }
            }
            return QuadraticModel(value: m.value, gradient: others.map { m.gradient[$0] }, hessian: h)
        }
        if case .failed(let why) = r.status {
            throw PEtabError("the profile of '\(fitter.problem.estimated[index].id)' at \(value) failed: \(why)")
        }
        return ProfilePoint(
            value: value, objective: r.value, ratio: 2 * (r.value - optimum), iterations: r.iterations,
            status: r.status, parameters: full(r.point))
    }

    /// 1/(H⁻¹)ᵢᵢ, the curvature of the profile of parameter i at the optimum (0 when H is singular
    /// there: the parameter is not identifiable from the Fisher information).
    static func reducedCurvature(_ h: [Double], n: Int, index: Int) -> Double {
        var e = [Double](repeating: 0, count: n)
        e[index] = -1
        // Cholesky of a slightly regularised H: (H + εI)⁻¹ eᵢ.
        let scale = (0..<n).map { h[$0 * n + $0] }.max() ?? 1
        guard let column = BoundedTrustRegion.solveShifted(h, e, shift: 1e-12 * max(scale, 1e-300)) else { return 0 }
        return column[index] > 0 ? 1 / column[index] : 0
    }
}
