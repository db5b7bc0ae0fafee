import ReactionModel
import Simulation

/// A sweep setting and where it came from, so that a message the model decides (a name it cannot
/// vary, a target it lacks) points at the flag or at the table's line.
struct SweepSetting<Value> {
    var value: Value
    /// What a message starts with: `MODEL: --vary IL6=0:1:3` or `MODEL:LINE: [sweep] vary "IL6=0:1:3"`.
    var origin: String
    var fromFlag: Bool

    func error(_ message: String) -> CLIError { CLIError("\(origin): \(message)") }
}

/// The model's `[sweep]` table as settings with their lines. The loader has already read and
/// checked every value's text (its errors carry FILE:LINE); this only says where each came from.
struct SweepTable {
    var table: ModelDefinition.Sweep
    /// The model file, which starts every message.
    var model: String

    /// `MODEL:LINE` of `key` (just `MODEL` if the line is unknown).
    func location(_ key: String) -> String { model + (table.lines[key].map { ":\($0)" } ?? "") }

    var ranges: [SweepSetting<SweepRange>] {
        table.vary.map { range in
            let text = quoted(range.description, limit: 80)
            return SweepSetting(value: range, origin: "\(location("vary")): [sweep] vary \(text)", fromFlag: false)
        }
    }

    var metrics: [SweepSetting<MetricSpec>] {
        table.metrics.map { metric in
            let text = quoted(metric.description, limit: 80)
            return SweepSetting(
                value: metric, origin: "\(location("metrics")): [sweep] metrics \(text)", fromFlag: false)
        }
    }
}

extension SweepSetting {
    /// A value given by a flag: `MODEL: --flag VALUE`.
    static func flag(_ value: Value, _ flag: String, model: String) -> SweepSetting
    where Value: CustomStringConvertible {
        SweepSetting(value: value, origin: "\(model): \(flag) \(excerpt(value.description, limit: 80))", fromFlag: true)
    }
}
