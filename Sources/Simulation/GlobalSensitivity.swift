// The sampling designs of global sensitivity analysis, as sweep plans see them: each maps a
// parameter-set number to a point of the unit cube, from that number alone, so that a `gsa` is a
// sweep like any other (parallel, resumable, shardable). The estimators that read the outputs
// back are in `SobolIndices.swift` and `MorrisEffects.swift`.

/// Saltelli's design for first-order and total Sobol' indices without second-order ones: N base
/// rows of a Sobol' sequence in 2d dimensions, the first d columns matrix A and the last d matrix
/// B; each base row gives d + 2 parameter sets, A, then A with column j taken from B (A_B^(j),
/// j = 1…d), then B. That is SALib's layout (`SALib.sample.sobol.sample(…, calc_second_order=
/// False)`), so the outputs of our points feed SALib's `sobol.analyze` unchanged.
public struct SaltelliDesign: Sendable, Equatable {
    /// N, the number of base rows.
    public var baseSamples: Int
    /// d, the number of varied names.
    public var dimensions: Int

    public init(baseSamples: Int, dimensions: Int) {
        self.baseSamples = baseSamples
        self.dimensions = dimensions
    }

    /// The names the base sequence can serve: its 2d dimensions must be among the Sobol' table's.
    public static let maxDimensions = SobolSequence.maxDimensions / 2

    /// d + 2 parameter sets per base row.
    public var setsPerRow: Int { dimensions + 2 }

    /// N·(d + 2), or nil when that is more than can be counted.
    public var setCount: Int? {
        let (count, overflow) = baseSamples.multipliedReportingOverflow(by: setsPerRow)
        return overflow ? nil : count
    }

    /// Which matrix parameter set `set` (0-based) comes from.
    public enum Matrix: Sendable, Equatable {
        case a
        /// A with column j (0-based) from B.
        case ab(Int)
        case b
    }

    /// The base row (0-based) and the matrix of parameter set `set`.
    public func locate(_ set: Int) -> (row: Int, matrix: Matrix) {
        let (row, k) = set.quotientAndRemainder(dividingBy: setsPerRow)
        if k == 0 { return (row, .a) }
        if k == setsPerRow - 1 { return (row, .b) }
        return (row, .ab(k - 1))
    }

    /// The unit-cube point of parameter set `set`; `sequence` is the 2d-dimensional Sobol'
    /// sequence (base row r is its point r + 1: the origin is skipped).
    public func unitPoint(ofSet set: Int, sequence: SobolSequence) -> [Double] {
        let (row, matrix) = locate(set)
        let base = sequence.point(row + 1)
        return (0..<dimensions).map { j in
            switch matrix {
            case .a: return base[j]
            case .b: return base[dimensions + j]
            case .ab(let column): return base[j == column ? dimensions + j : j]
            }
        }
    }
}

/// Morris's one-at-a-time design (Morris 1991, as SALib's `morris.sample` draws it): r
/// trajectories of d + 1 points on a grid of p levels in the unit cube. A trajectory starts at a
/// random base point whose coordinates are levels k/(p − 1), k < p/2, and moves each factor once,
/// in a random order, by Δ = p / (2(p − 1)), up or down at random; so every point lies on the grid.
/// Each trajectory draws from its own stream of the seed, so that any point can be made alone.
public struct MorrisDesign: Sendable, Equatable {
    public var trajectories: Int
    public var dimensions: Int
    /// p: even, at least 2.
    public var levels: Int
    public var seed: UInt64

    public init(trajectories: Int, dimensions: Int, levels: Int, seed: UInt64) {
        self.trajectories = trajectories
        self.dimensions = dimensions
        self.levels = levels
        self.seed = seed
    }

    /// The step of every move, as SALib computes it.
    public var delta: Double { Double(levels) / (2.0 * Double(levels - 1)) }

    /// d + 1 points per trajectory.
    public var setsPerTrajectory: Int { dimensions + 1 }

    /// r·(d + 1), or nil when that is more than can be counted.
    public var setCount: Int? {
        let (count, overflow) = trajectories.multipliedReportingOverflow(by: setsPerTrajectory)
        return overflow ? nil : count
    }

    /// One trajectory: its base point, the order in which factors move (`order[k]` moves at step
    /// k + 1) and whether each factor starts low and moves up.
    public struct Trajectory: Sendable, Equatable {
        public var base: [Double]
        public var order: [Int]
        public var up: [Bool]

        /// Point k (0…d): factor i sits at base + Δ once it has moved if it moves up, before it
        /// moves if it moves down.
        func point(_ k: Int, delta: Double) -> [Double] {
            var x = base
            for (step, i) in order.enumerated() {
                let moved = step < k
                if moved == up[i] { x[i] += delta }
            }
            return x
        }
    }

    /// Trajectory t (0-based), drawn from its own stream.
    public func trajectory(_ t: Int) -> Trajectory {
        var rng = RandomGenerator(seed: seed ^ (0xA076_1D64_78BD_642F &* UInt64(t + 1)))
        var order = Array(0..<dimensions)
        for i in stride(from: dimensions - 1, to: 0, by: -1) { order.swapAt(i, rng.integer(below: i + 1)) }
        let up = (0..<dimensions).map { _ in rng.next() >> 63 == 0 }
        let lowLevels = levels / 2
        let base = (0..<dimensions).map { _ in Double(rng.integer(below: lowLevels)) / Double(levels - 1) }
        return Trajectory(base: base, order: order, up: up)
    }

    /// The unit-cube point of parameter set `set` (0-based).
    public func unitPoint(ofSet set: Int) -> [Double] {
        let (t, k) = set.quotientAndRemainder(dividingBy: setsPerTrajectory)
        return trajectory(t).point(k, delta: delta)
    }
}
