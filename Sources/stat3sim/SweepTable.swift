import ReactionModel
import Simulation

/// A sweep setting and where it came from, for messages: `--vary IL6=0:1:3` or
/// `[sweep] vary "IL6=0:1:3"`.
struct SweepSetting<Value> {
    var value: Value
    var origin: String
}

/// The model's `[sweep]` table in the sweep's types. The loader still keeps the table's entries
/// as text (`ModelDefinition.Sweep`); this is the one place that reads them, when no flag replaces
/// them, and its errors name `[sweep]`. Once the loader reads the table into these types (its
/// errors with FILE:LINE), this becomes a copy.
struct SweepTable {
    var table: ModelDefinition.Sweep
    /// The model file, which starts every message.
    var model: String

    /// The `vary` ranges; `sampled` says they must not give a number of points.
    func ranges(sampled: Bool) throws -> [SweepSetting<SweepRange>] {
        try table.vary.map { text in
            let origin = "[sweep] vary \(quoted(text, limit: 80))"
            do {
                let range = try SweepRange(parsing: text, pointCount: sampled ? .forbidden : .required)
                return SweepSetting(value: range, origin: origin)
            } catch let error as SweepSyntaxError {
                throw CLIError("\(model): \(origin): \(error.message)")
            }
        }
    }

    func metrics() throws -> [SweepSetting<MetricSpec>] {
        try table.metrics.map { text in
            let origin = "[sweep] metrics \(quoted(text, limit: 80))"
            do {
                return SweepSetting(value: try MetricSpec(parsing: text), origin: origin)
            } catch let error as SweepSyntaxError {
                throw CLIError("\(model): \(origin): \(error.message)")
            }
        }
    }

    func method() throws -> SamplingMethod? {
        guard let text = table.method else { return nil }
        do {
            return try SamplingMethod(parsing: text)
        } catch let error as SweepSyntaxError {
            throw CLIError("\(model): [sweep] method = \(quoted(text)): \(error.message)")
        }
    }

    var scenario: ScenarioSelection? { table.scenario.map(ScenarioSelection.init(parsing:)) }
}
