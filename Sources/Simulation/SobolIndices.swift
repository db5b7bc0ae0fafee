import Dispatch

/// The two-sided normal quantile of a 95 % confidence interval, z = Φ⁻¹(0.975) (SciPy's
/// `norm.ppf(0.975)` to the last bit), by which the bootstrap's standard deviation is multiplied.
public let confidenceQuantile95 = 1.959963984540054

/// First-order and total Sobol' indices of one output over a Saltelli design, with bootstrap
/// confidence intervals. The estimators are SALib's (`SALib.analyze.sobol.analyze`,
/// `calc_second_order=False`), so that the same outputs give the same indices: the outputs are
/// first standardised over all N·(d + 2) values (SALib does, because the first-order estimator is
/// not invariant to a shift), then with V the variance of A's and B's outputs together,
/// S1_j = mean(f_B · (f_ABj − f_A)) / V (Saltelli et al. 2010) and
/// ST_j = ½ · mean((f_A − f_ABj)²) / V (Jansen 1999).
public struct SobolIndices: Sendable, Equatable {
    public var firstOrder: [Double]
    public var total: [Double]
    /// z · the standard deviation (n − 1) of the estimates over the bootstrap resamples.
    public var firstOrderConfidence: [Double]
    public var totalConfidence: [Double]

    /// The indices of `outputs`, in the design's layout (base row by base row: A, A_B^(1…d), B).
    /// `resamples` bootstrap resamples of the N base rows are drawn from `seed`. An output that
    /// does not vary has every index 0 (0/0 otherwise), as SALib reports it.
    public static func estimate(
        outputs: [Double], design: SaltelliDesign, resamples: Int, seed: UInt64
    ) -> SobolIndices {
        let d = design.dimensions
        let n = design.baseSamples
        precondition(outputs.count == n * design.setsPerRow, "one output per parameter set")
        let zeros = [Double](repeating: 0, count: d)
        guard let y = standardised(outputs) else {
            return SobolIndices(firstOrder: zeros, total: zeros, firstOrderConfidence: zeros, totalConfidence: zeros)
        }
        let split = SaltelliOutputs(y, design: design)
        let all = Array(0..<n)
        let (s1, st) = split.indices(rows: all)
        var indices = SobolIndices(firstOrder: s1, total: st, firstOrderConfidence: zeros, totalConfidence: zeros)
        guard resamples >= 2 else { return indices }
        // Resample k draws its rows from its own stream of the seed, so the resamples run on every
        // core and the intervals do not depend on how many there are.
        var estimates = [Double](repeating: 0, count: 2 * d * resamples)
        estimates.withUnsafeMutableBufferPointer { estimates in
            let estimates = estimates
            DispatchQueue.concurrentPerform(iterations: resamples) { k in
                var rng = RandomGenerator(seed: seed ^ (0x9E37_79B9_7F4A_7C15 &* UInt64(k + 1)))
                let rows = (0..<n).map { _ in rng.integer(below: n) }
                let (s1, st) = split.indices(rows: rows)
                for j in 0..<d {
                    estimates[2 * d * k + j] = s1[j]
                    estimates[2 * d * k + d + j] = st[j]
                }
            }
        }
        var firstSpread = [Spread](repeating: Spread(), count: d)
        var totalSpread = firstSpread
        for k in 0..<resamples {
            for j in 0..<d {
                firstSpread[j].add(estimates[2 * d * k + j])
                totalSpread[j].add(estimates[2 * d * k + d + j])
            }
        }
        indices.firstOrderConfidence = firstSpread.map { confidenceQuantile95 * $0.standardDeviation }
        indices.totalConfidence = totalSpread.map { confidenceQuantile95 * $0.standardDeviation }
        return indices
    }

    /// (y − mean) / std over all values (population std), or nil when they are all equal.
    static func standardised(_ values: [Double]) -> [Double]? {
        var spread = Spread()
        for v in values { spread.add(v) }
        let sd = spread.populationStandardDeviation
        guard sd > 0, sd.isFinite else { return nil }
        return values.map { ($0 - spread.mean) / sd }
    }
}

/// The standardised outputs of a Saltelli design in its layout: base row r holds f_A at
/// r·(d + 2), f_ABj at r·(d + 2) + 1 + j and f_B at r·(d + 2) + d + 1. Read in place, row by row,
/// so that a bootstrap resample costs one pass and no copies.
struct SaltelliOutputs {
    let y: [Double]
    let dimensions: Int

    init(_ y: [Double], design: SaltelliDesign) {
        self.y = y
        dimensions = design.dimensions
    }

    /// S1 and ST over the base rows `rows` (all of them, or a bootstrap resample). As SALib does,
    /// an output constant over those rows gives indices 0.
    func indices(rows: [Int]) -> (firstOrder: [Double], total: [Double]) {
        let d = dimensions
        let step = d + 2
        var first = [Double](repeating: 0, count: d)
        var total = first
        var spread = Spread()
        var low = Double.infinity
        var high = -Double.infinity
        y.withUnsafeBufferPointer { y in
            first.withUnsafeMutableBufferPointer { s1 in
                total.withUnsafeMutableBufferPointer { st in
                    for r in rows {
                        let base = r * step
                        let a = y[base]
                        let b = y[base + step - 1]
                        spread.add(a)
                        spread.add(b)
                        low = min(low, a, b)
                        high = max(high, a, b)
                        for j in 0..<d {
                            let change = y[base + 1 + j] - a
                            s1[j] += b * change
                            st[j] += change * change
                        }
                    }
                }
            }
        }
        let variance = spread.populationVariance
        guard high - low > Double.ulpOfOne, variance > Double.ulpOfOne else {
            return (.init(repeating: 0, count: d), .init(repeating: 0, count: d))
        }
        let count = Double(rows.count)
        for j in 0..<d {
            first[j] = first[j] / count / variance
            total[j] = 0.5 * total[j] / count / variance
        }
        return (first, total)
    }
}

/// Running mean and sum of squared deviations (Welford): the mean, variance and standard
/// deviation of a stream of numbers in one pass, without cancellation.
struct Spread {
    private(set) var count = 0
    private(set) var mean = 0.0
    private var squares = 0.0

    mutating func add(_ x: Double) {
        count += 1
        let change = x - mean
        mean += change / Double(count)
        squares += change * (x - mean)
    }

    /// Divided by n (NumPy's `var`, ddof = 0).
    var populationVariance: Double { count > 0 ? squares / Double(count) : 0 }
    var populationStandardDeviation: Double { populationVariance.squareRoot() }
    /// Divided by n − 1 (ddof = 1).
    var standardDeviation: Double { count > 1 ? (squares / Double(count - 1)).squareRoot() : 0 }
}
