/// Morris's elementary effects of one output over a Morris design, summarised as SALib's
/// `morris.analyze` does (unscaled): along each trajectory, factor i's effect is
/// (f(point with i high) − f(point with i low)) / Δ in unit-cube steps (for a log range, steps of
/// its logarithm); μ* is the mean of the effects' absolute values, σ their standard deviation
/// (n − 1), and μ*'s confidence z · the standard deviation (n − 1) of μ* over bootstrap resamples
/// of the trajectories.
public struct MorrisEffects: Sendable, Equatable {
    public var mu: [Double]
    public var muStar: [Double]
    public var sigma: [Double]
    public var muStarConfidence: [Double]

    /// `outputs` in the design's layout (trajectory by trajectory, d + 1 points each).
    public static func estimate(outputs: [Double], design: MorrisDesign, resamples: Int, seed: UInt64)
        -> MorrisEffects
    {
        let effects = elementaryEffects(outputs: outputs, design: design)
        let d = design.dimensions
        let r = design.trajectories
        var result = MorrisEffects(
            mu: [], muStar: [], sigma: [], muStarConfidence: .init(repeating: 0, count: d))
        for i in 0..<d {
            var signed = Spread()
            var absolute = 0.0
            for t in 0..<r {
                signed.add(effects[i][t])
                absolute += abs(effects[i][t])
            }
            result.mu.append(signed.mean)
            result.muStar.append(absolute / Double(r))
            result.sigma.append(signed.standardDeviation)
        }
        guard resamples >= 2 else { return result }
        // One stream for all factors, factor by factor, as SALib draws them.
        var rng = RandomGenerator(seed: seed)
        for i in 0..<d {
            var spread = Spread()
            for _ in 0..<resamples {
                var absolute = 0.0
                for _ in 0..<r { absolute += abs(effects[i][rng.integer(below: r)]) }
                spread.add(absolute / Double(r))
            }
            result.muStarConfidence[i] = confidenceQuantile95 * spread.standardDeviation
        }
        return result
    }

    /// effects[i][t]: factor i's elementary effect on trajectory t.
    static func elementaryEffects(outputs: [Double], design: MorrisDesign) -> [[Double]] {
        let step = design.setsPerTrajectory
        precondition(outputs.count == design.trajectories * step, "one output per parameter set")
        var effects = [[Double]](
            repeating: .init(repeating: 0, count: design.trajectories), count: design.dimensions)
        for t in 0..<design.trajectories {
            let trajectory = design.trajectory(t)
            for (k, i) in trajectory.order.enumerated() {
                // Factor i moves from point k to point k + 1.
                let before = outputs[t * step + k]
                let after = outputs[t * step + k + 1]
                effects[i][t] = (trajectory.up[i] ? after - before : before - after) / design.delta
            }
        }
        return effects
    }
}
