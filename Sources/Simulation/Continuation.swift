import Foundation
import ODESolver
import ReactionModel

/// Natural-parameter continuation of steady states: walks one parameter up, then down, starting
/// each point from the previous steady state. Where the two branches differ, the model is
/// bistable, and the jumps mark the switching thresholds.
public struct Continuation {
    public struct Point: Sendable {
        public var direction: String
        public var value: Double
        public var steady: SteadyState?
        public var failure: String?
        public var observables: [Double]
    }

    public let simulator: Simulator
    public let dimension: SweepDimension
    public let scenario: String?
    public let settings: RunSettings

    public init(simulator: Simulator, dimension: SweepDimension, scenario: String?, settings: RunSettings) {
        self.simulator = simulator
        self.dimension = dimension
        self.scenario = scenario
        self.settings = settings
    }

    /// Steady states a continuation may compute unless asked for more (`--max-rows`): it keeps
    /// them all in memory to compare the branches.
    public static let defaultMaxRows = 1_000_000

    public func run() throws -> [Point] {
        let d = simulator.definition
        let network = simulator.network
        let count = dimension.count ?? 2
        let (rows, overflow) = count.multipliedReportingOverflow(by: 2)
        try OutputSize.check(
            rows: overflow ? Int.max : rows, fields: d.observables.count + 8,
            limit: settings.maxRows ?? Continuation.defaultMaxRows,
            what: "--follow (\(count) values up and down)", remedy: "follow fewer values")
        var configured = try simulator.configure(network, scenario: scenario, settings: settings)
        let solver = try SteadyStateSolver(network: network, options: simulator.solverOptions(settings))
        let values = (0..<count).map { dimension.gridValue($0) }
        var points: [Point] = []
        var state = configured.initial
        for (direction, sequence) in [("up", values), ("down", Array(values.reversed()))] {
            for value in sequence {
                var scratch = state
                try Simulator.override(
                    dimension.name, value, definition: d, network: network, initial: &scratch, flag: "--follow")
                // A varied initial concentration sets the start of the first point only.
                if points.isEmpty {
                    state = scratch
                    configured.initial = scratch
                }
                do {
                    let steady = try solver.solve(from: state, t: configured.tStart)
                    state = steady.state
                    var observables = [Double](repeating: 0, count: d.observables.count)
                    steady.state.withUnsafeBufferPointer { y in
                        observables.withUnsafeMutableBufferPointer {
                            network.observables(t: configured.tStart, y: y.baseAddress!, into: $0.baseAddress!)
                        }
                    }
                    points.append(
                        Point(
                            direction: direction, value: value, steady: steady, failure: nil, observables: observables))
                } catch let e as SimulationError {
                    points.append(
                        Point(direction: direction, value: value, steady: nil, failure: e.message, observables: []))
                }
            }
        }
        return points
    }

    /// Values where the up and down branches differ in `observable` by more than `tolerance`
    /// relative to its range: the bistable interval (nil if none).
    public static func bistableInterval(_ points: [Point], observable: Int, tolerance: Double = 1e-3) -> (
        low: Double, high: Double
    )? {
        let up = points.filter { $0.direction == "up" && $0.steady != nil }
        let down = points.filter { $0.direction == "down" && $0.steady != nil }
        let all = (up + down).map { $0.observables[observable] }
        guard let lo = all.min(), let hi = all.max(), hi > lo else { return nil }
        let differing = up.compactMap { u -> Double? in
            guard let v = down.first(where: { $0.value == u.value }) else { return nil }
            return abs(u.observables[observable] - v.observables[observable]) > tolerance * (hi - lo) ? u.value : nil
        }
        guard let first = differing.min(), let last = differing.max() else { return nil }
        return (first, last)
    }

    /// The largest jump of `observable` between neighbouring points of a branch: the switching
    /// threshold lies between the two values.
    public static func largestJump(_ points: [Point], direction: String, observable: Int) -> (
        from: Double, to: Double, size: Double
    )? {
        let branch = points.filter { $0.direction == direction && $0.steady != nil }
        var best: (Double, Double, Double)? = nil
        for (a, b) in zip(branch, branch.dropFirst()) {
            let size = abs(b.observables[observable] - a.observables[observable])
            if best == nil || size > best!.2 { best = (a.value, b.value, size) }
        }
        return best
    }
}
