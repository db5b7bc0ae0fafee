/// A solution sampled at output times: `states[k*n + i]` is component i at `times[k]`.
public struct Trajectory: Sendable {
    public var times: [Double]
    public var states: [Double]
    public var dimension: Int
    public var statistics: SolverStatistics

    /// The state at output index k.
    public func state(at k: Int) -> ArraySlice<Double> {
        states[(k * dimension)..<((k + 1) * dimension)]
    }

    /// The last state.
    public var finalState: [Double] { Array(state(at: times.count - 1)) }
}

extension BDFSolver {
    /// Integrates from `(t0, y0)` and samples the solution at `outputTimes` (ascending, ≥ t0) by
    /// dense output; the last output time is a stop time, so the solver never steps beyond it.
    public func solve(from t0: Double, initialState y0: [Double], outputTimes: [Double]) throws -> Trajectory {
        guard let tEnd = outputTimes.last else { throw inputError("No output times were given.") }
        for (a, b) in zip(outputTimes, outputTimes.dropFirst()) where !(b >= a) {
            throw inputError("Output times must be ascending; \(b) follows \(a).")
        }
        guard outputTimes[0] >= t0 else {
            throw inputError("Output time \(outputTimes[0]) lies before the start \(t0).")
        }
        reset(time: t0, state: y0)
        var states = [Double](repeating: 0, count: outputTimes.count * dimension)
        try states.withUnsafeMutableBufferPointer { buffer in
            for (k, t) in outputTimes.enumerated() {
                try advance(to: t, stopTime: tEnd, into: buffer.baseAddress! + k * dimension)
            }
        }
        return Trajectory(times: outputTimes, states: states, dimension: dimension, statistics: statistics)
    }
}
