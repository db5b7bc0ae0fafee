import Foundation
import ReactionModel
import Testing

@testable import Simulation

/// Issue 5's claims on Models/cancer.toml: the qualitative facts the literature states and the
/// numbers the model gives (docs/il6-models.md §3).
@Suite("Cancer model: lesions, therapies, bistability")
struct CancerModelTests {
    static let path = PublishedModelTests.models.appendingPathComponent("cancer.toml").path
    static let model = try! ModelLoader.load(path: path)

    static func run(_ scenario: String?, _ configure: (inout RunSettings) -> Void = { _ in }) throws -> TimeCourse {
        var settings = RunSettings()
        settings.outputInterval = 1
        configure(&settings)
        return try Simulator(model).run(scenario: scenario, settings: settings)
    }

    static func fraction(_ course: TimeCourse, at t: Double) -> Double {
        PublishedModelTests.value(course, "pSTAT3_fraction", at: t)
    }

    /// Sustained: the final value keeps more than 10 % of the peak's rise (the `regime` rule).
    static func sustained(_ course: TimeCourse) -> Bool {
        let values = course.column(named: "pSTAT3_fraction")!
        let baseline = values.first!
        let peak = values.max()!
        return values.last! - baseline > 0.1 * (peak - baseline)
    }

    @Test func normalReturnsTowardBaselineAfterAPulse() throws {
        let course = try Self.run("normal_pulse")
        let peak = try #require(course.peak(of: "pSTAT3_fraction"))
        #expect(peak.value > 0.2)
        #expect(Self.fraction(course, at: 1440) < 0.05 * peak.value)
        #expect(!Self.sustained(course))
    }

    @Test func socs3SilencingKeepsPSTAT3HigherForLonger() throws {
        let normal = try Self.run("pulse")
        for lesion in ["socs3_silenced", "socs3_silenced_partial"] {
            let silenced = try Self.run("\(lesion)+pulse")
            for t in [120.0, 360, 720] {
                #expect(Self.fraction(silenced, at: t) > 2 * Self.fraction(normal, at: t), "\(lesion) at \(t) min")
            }
        }
    }

    @Test func gp130Y759FAndPhosphataseLossSustainSignalling() throws {
        for lesion in ["gp130_Y759F", "phosphatase_loss"] {
            let course = try Self.run("\(lesion)+pulse")
            #expect(Self.sustained(course), "\(lesion) after a pulse")
        }
    }

    /// Peak pSTAT3 against a held ruxolitinib level (decay off): IC50 by log-linear interpolation.
    @Test func ruxolitinibIC50IsInTheHundredsOfNanomolar() throws {
        let levels: [Double] = [0, 30, 100, 200, 300, 500, 1000, 3000]
        var peaks: [Double] = []
        for rux in levels {
            let course = try Self.run(nil) {
                $0.overrides = [("Rux", rux), ("k_rux_deg", 0)]
                $0.tEnd = 240
            }
            peaks.append(try #require(course.peak(of: "pSTAT3_fraction")).value)
        }
        let half = peaks[0] / 2
        for k in 1..<peaks.count { #expect(peaks[k] < peaks[k - 1]) }
        let k = try #require(peaks.firstIndex { $0 < half })
        let (x0, x1) = (log(levels[k - 1]), log(levels[k]))
        let ic50 = exp(x0 + (half - peaks[k - 1]) * (x1 - x0) / (peaks[k] - peaks[k - 1]))
        print("ruxolitinib IC50 on peak pSTAT3: \(ic50) nM")
        // The sheet: Sobotta's simulated IC50 ≈ 400 nM; cellular JAK-inhibitor IC50s tens to hundreds of nM.
        #expect(ic50 > 100 && ic50 < 1000)
    }

    @Test func autocrineLoopHasTwoStableSteadyStatesAndAPulseLocksItOn() throws {
        // At 0.3 pM external IL-6 (inside the bistable interval 0–0.45 pM):
        let simulator = Simulator(Self.model)
        var settings = RunSettings()
        settings.overrides = [("IL6_dose", 0.0003)]
        let rest = try simulator.initialState(scenario: "autocrine_loop+unstimulated", settings: settings)
        let solver = try SteadyStateSolver(network: simulator.network, options: simulator.solverOptions(settings))
        let off = try solver.solve(from: rest)
        // The on state, reached by a pulse, then held at the same 0.3 pM background.
        var pulsed = RunSettings()
        pulsed.overrides = [("IL6_background", 0.0003)]
        let afterPulse = try Simulator(Self.model).run(scenario: "autocrine_pulse", settings: pulsed)
        #expect(Self.sustained(afterPulse))
        let final = Array(
            afterPulse.values[
                (afterPulse.times.count - 1)
                    * afterPulse.columns.count..<((afterPulse.times.count - 1) * afterPulse.columns.count
                    + Self.model.species.count)])
        _ = try simulator.initialState(scenario: "autocrine_loop+unstimulated", settings: settings)
        let on = try solver.solve(from: final)
        #expect(off.stable && on.stable)
        let index = Self.model.observables.firstIndex { $0.name == "pSTAT3_fraction" }!
        func fraction(_ s: SteadyState) -> Double {
            var o = [Double](repeating: 0, count: Self.model.observables.count)
            s.state.withUnsafeBufferPointer { y in
                o.withUnsafeMutableBufferPointer {
                    simulator.network.observables(t: 0, y: y.baseAddress!, into: $0.baseAddress!)
                }
            }
            return o[index]
        }
        print("autocrine loop at 0.3 pM: off \(fraction(off)), on \(fraction(on))")
        #expect(fraction(off) < 0.02)
        #expect(fraction(on) > 0.1)
        // And without the loop the same pulse does not last.
        #expect(!Self.sustained(try Self.run("normal_pulse")))
    }

    @Test func continuationInIL6DoseFindsTheSwitch() throws {
        let dimension = try SweepDimension.parse("IL6_dose=0.00005:0.005:21:log", grid: true, definition: Self.model)
        let points = try Continuation(
            simulator: Simulator(Self.model), dimension: dimension, scenario: "autocrine_loop+unstimulated",
            settings: RunSettings()
        ).run()
        let index = Self.model.observables.firstIndex { $0.name == "pSTAT3_fraction" }!
        let interval = try #require(Continuation.bistableInterval(points, observable: index))
        let on = try #require(Continuation.largestJump(points, direction: "up", observable: index))
        print(
            "autocrine: branches differ on [\(interval.low), \(interval.high)] nM; switches on between \(on.from) and "
                + "\(on.to) nM"
        )
        // The model's fold is at 0.453 pM = 4.53e-4 nM; the down branch stays on to the lowest dose.
        #expect(on.from < 4.53e-4 && on.to > 4.53e-4)
        #expect(interval.low == 0.00005)
    }
}
