import Foundation
import ReactionModel
import Testing

@testable import Simulation

/// What `body` throws: a `SimulationError`'s message, another error as text; nil when it
/// throws nothing.
func message(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch let e as SimulationError { return e.message } catch { return "\(error)" }
}

extension Metric {
    /// A metric in the command line's text, with messages starting `--metric TEXT:`, as the
    /// tests write it (the CLI parses a `MetricSpec` and calls `init(_:definition:)`).
    static func parse(_ text: String, definition: ModelDefinition) throws -> Metric {
        let origin = "--metric \(excerpt(text, limit: 80))"
        do {
            return try Metric(MetricSpec(parsing: text), definition: definition)
        } catch let error as SweepSyntaxError {
            throw SimulationError("\(origin): \(error.message)")
        } catch let error as SimulationError {
            throw SimulationError("\(origin): \(error.message)")
        }
    }
}

extension SweepDimension {
    /// A range in the command line's text, with messages starting `--vary TEXT:`, as the
    /// tests write it (the CLI parses a `SweepRange` and calls `init(_:grid:definition:)`).
    static func parse(_ text: String, grid: Bool, definition: ModelDefinition) throws -> SweepDimension {
        let origin = "--vary \(excerpt(text, limit: 80))"
        do {
            let range = try SweepRange(parsing: text, pointCount: grid ? .required : .forbidden)
            return try SweepDimension(range, grid: grid, definition: definition)
        } catch let error as SweepSyntaxError {
            throw SimulationError("\(origin): \(error.message)")
        } catch let error as SimulationError {
            throw SimulationError("\(origin): \(error.message)")
        }
    }
}
