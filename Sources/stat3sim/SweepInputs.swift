import ReactionModel
import Simulation

// What `sweep` and `gsa` both make of their ranges and metrics, with messages that name the
// model and where each setting came from (`SweepSetting`).

/// The dimensions of the ranges, each checked against the model; a name varied twice is refused.
/// `grid` says whether the ranges give their numbers of points (a grid) or not (sampled).
func sweepDimensions(_ ranges: [SweepSetting<SweepRange>], grid: Bool, definition d: ModelDefinition) throws
    -> [SweepDimension]
{
    let dimensions = try ranges.map { range in
        if !grid, range.value.count != nil {
            let samples = range.fromFlag ? "--samples" : "samples"
            throw range.error(
                "write \(SweepRange.sampleSyntax) (with \(samples) the number of points comes from \(samples)).")
        }
        do { return try SweepDimension(range.value, grid: grid, definition: d) } catch let e as SimulationError {
            throw range.error(e.message)
        }
    }
    let names = dimensions.map(\.name)
    if let duplicate = names.first(where: { n in names.filter { $0 == n }.count > 1 }) {
        throw CLIError("'\(duplicate)' is varied twice.")
    }
    return dimensions
}

/// The metrics asked for, their targets checked against the model; none asked for means the
/// defaults (peak, time to peak, AUC and final value of every observable).
func sweepMetrics(_ given: [SweepSetting<MetricSpec>], definition d: ModelDefinition) throws -> [Metric] {
    guard !given.isEmpty else { return Metric.defaults(for: d) }
    return try given.map { metric in
        do { return try Metric(metric.value, definition: d) } catch let e as SimulationError {
            throw metric.error(e.message)
        }
    }
}
