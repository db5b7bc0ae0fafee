import Foundation
import ReactionModel
import TestSupport
import Testing

@testable import Simulation

/// Schlögl's model (Tests/Fixtures/schloegl.toml): steady states 1 and 3 stable (eigenvalue −2),
/// 2 unstable (+1); in k3 bistable for k3·B between 5.615 and 6.385.
@Suite("Steady states, stability and continuation")
struct SteadyStateTests {
    static let schloegl = Fixtures.text("schloegl.toml")

    func solver(_ source: String) throws -> (Simulator, SteadyStateSolver) {
        let simulator = Simulator(try ModelLoader.load(source: source, file: "model.toml"))
        _ = try simulator.initialState(scenario: nil, settings: RunSettings())
        return (
            simulator,
            try SteadyStateSolver(network: simulator.network, options: simulator.solverOptions(RunSettings()))
        )
    }

    @Test func stableAndUnstableStatesOfSchloegl() throws {
        let (_, solver) = try solver(Self.schloegl)
        let low = try solver.solve(from: [0.5, 1, 1])
        #expect(abs(low.state[0] - 1) < 1e-9)
        #expect(low.stable)
        #expect(abs(low.largestRealPart - (-2)) < 1e-7)
        let middle = try solver.solve(from: [2.05, 1, 1])
        #expect(abs(middle.state[0] - 2) < 1e-9)
        #expect(!middle.stable)
        #expect(abs(middle.largestRealPart - 1) < 1e-7)
        let high = try solver.solve(from: [3.4, 1, 1])
        #expect(abs(high.state[0] - 3) < 1e-9)
        #expect(high.stable)
    }

    /// A ⇌ B with A + B conserved: B/A = kf/kr, one eigenvalue −(kf + kr) on the reduced system.
    @Test func conservationLawsReduceTheSystem() throws {
        let (_, solver) = try solver(
            """
            [compartments]
            c = 2
            n = 0.5
            [species]
            A = { initial = 3, compartment = "c" }
            B = { initial = 0, compartment = "n" }
            [[reactions]]
            equation = "A <-> B"
            forward = 0.3
            reverse = 0.1
            """)
        let steady = try solver.solve(from: [3, 0])
        // Amount conserved: 2·A + 0.5·B = 6; flux balance (volume of A): 0.3·A = 0.1·B.
        #expect(abs(steady.state[0] - 6 / (2 + 0.5 * 3)) < 1e-10)
        #expect(abs(steady.state[1] - 3 * steady.state[0]) < 1e-10)
        #expect(steady.eigenvalues.count == 1)
        // d(amount of A)/dt = −V_c(0.3A − 0.1B), with B = (6 − 2A)/0.5: rate −(0.3 + 0.1·2/0.5) = −0.7.
        #expect(abs(steady.largestRealPart - (-0.7)) < 1e-9)
    }

    @Test func continuationFindsTheBistableInterval() throws {
        let model = try ModelLoader.load(source: Self.schloegl, file: "model.toml")
        let dimension = try SweepDimension.parse("k3=5:7:41", grid: true, definition: model)
        let points = try Continuation(
            simulator: Simulator(model), dimension: dimension, scenario: nil, settings: RunSettings()
        ).run()
        #expect(points.count == 82)
        #expect(points.allSatisfy { $0.steady?.stable == true })
        let interval = try #require(Continuation.bistableInterval(points, observable: 0))
        #expect(interval.low >= 5.6 && interval.low <= 5.7, "low end \(interval.low)")
        #expect(interval.high >= 6.3 && interval.high <= 6.4, "high end \(interval.high)")
        let on = try #require(Continuation.largestJump(points, direction: "up", observable: 0))
        #expect(on.from < 6.385 && on.to > 6.385)
        let off = try #require(Continuation.largestJump(points, direction: "down", observable: 0))
        #expect(off.to < 5.615 && off.from > 5.615)
    }
}

@Suite("The regime metric: returns, sustained, bistable")
struct RegimeMetricTests {
    /// Schlögl at rest in its low state X = 1; at t = 5 X is kicked to `kick` and k3 set to
    /// `k3_after`.
    static let model =
        SteadyStateTests.schloegl.replacingOccurrences(of: "X = 0.5", with: "X = 1")
        .replacingOccurrences(of: "k4 = 11", with: "k4 = 11\nkick = 1\nk3_after = 6") + """

            [[events]]
            at = 5
            set = { X = "kick", k3 = "k3_after" }
            [simulation]
            t_end = 60
            """

    func regime(kick: Double, k3After: Double) throws -> String {
        let model = try ModelLoader.load(source: Self.model, file: "regime.toml")
        let plan = try SweepPlan(
            dimensions: [
                try SweepDimension.parse("kick=\(kick):\(kick):1", grid: true, definition: model),
                try SweepDimension.parse("k3_after=\(k3After):\(k3After):1", grid: true, definition: model),
            ],
            method: .grid, scenarios: [nil])
        let specification = SweepSpecification(
            plan: plan, metrics: [try Metric.parse("regime:X", definition: model)], settings: RunSettings())
        let workspace = try Workspace(simulator: Simulator(model), specification: specification, trajectories: false)
        let row = try workspace.compute(point: 1).row.trimmingCharacters(in: .newlines)
        return OutputWriter.splitCSV(row).last!
    }

    @Test func aSmallKickReturnsToBaseline() throws { #expect(try regime(kick: 1.5, k3After: 6) == "0.0") }
    @Test func aLargeKickLocksTheBistableSystemOn() throws { #expect(try regime(kick: 3.5, k3After: 6) == "2.0") }
    @Test func aLastingStimulusInAMonostableSystemIsSustained() throws {
        #expect(try regime(kick: 1, k3After: 7) == "1.0")
    }
}
