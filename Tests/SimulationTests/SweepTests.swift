import Foundation
import ReactionModel
import Testing

@testable import Simulation

@Suite("Sweep plans: grids and reproducible samples")
struct SweepPlanTests {
    static let model = try! ModelLoader.load(
        source: "[species]\nA = 1\n[parameters]\nk = 1\nK = 2\nn = 3\n", file: "plan.toml")

    func dimension(_ text: String, grid: Bool = true) throws -> SweepDimension {
        try SweepDimension.parse(text, grid: grid, definition: Self.model)
    }

    @Test func gridIsTheCartesianProductWithTheLastNameFastest() throws {
        let plan = try SweepPlan(
            dimensions: [dimension("k=1:3:3"), dimension("K=0.01:100:5:log")], method: .grid, scenarios: [nil])
        #expect(plan.pointCount == 15)
        #expect(plan.point(1).values == [1, 0.01])
        #expect(plan.point(2).values[1] == 0.1.nextUp || abs(plan.point(2).values[1] - 0.1) < 1e-15)
        #expect(plan.point(5).values == [1, 100])  // ends are exact
        #expect(plan.point(6).values == [2, 0.01])
        #expect(plan.point(15).values == [3, 100])
        #expect(abs(plan.point(3).values[1] - 1) < 1e-14)  // geometric midpoint
    }

    @Test func scenariosAreTheInnermostDimension() throws {
        let plan = try SweepPlan(dimensions: [dimension("k=1:2:2")], method: .grid, scenarios: [nil, "a", "b"])
        #expect(plan.pointCount == 6)
        #expect(plan.point(1).scenario == nil && plan.point(1).values == [1])
        #expect(plan.point(3).scenario == "b" && plan.point(3).values == [1])
        #expect(plan.point(4).scenario == nil && plan.point(4).values == [2])
    }

    @Test func samplesAreReproducibleForASeedAndDifferForAnother() throws {
        let dims = [try dimension("k=0:1", grid: false), try dimension("K=1:1000:log", grid: false)]
        for method in [SweepPlan.Method.random(samples: 50, seed: 7), .latinHypercube(samples: 50, seed: 7)] {
            let a = try SweepPlan(dimensions: dims, method: method, scenarios: [nil])
            let b = try SweepPlan(dimensions: dims, method: method, scenarios: [nil])
            #expect((1...50).map { a.point($0).values } == (1...50).map { b.point($0).values })
            let other: SweepPlan.Method =
                method.name == "random" ? .random(samples: 50, seed: 8) : .latinHypercube(samples: 50, seed: 8)
            let c = try SweepPlan(dimensions: dims, method: other, scenarios: [nil])
            #expect((1...50).map { a.point($0).values } != (1...50).map { c.point($0).values })
            for p in 1...50 {
                let v = a.point(p).values
                #expect(v[0] >= 0 && v[0] <= 1 && v[1] >= 1 && v[1] <= 1000)
            }
        }
    }

    @Test func latinHypercubeHitsEveryStratumOnce() throws {
        let n = 40
        let plan = try SweepPlan(
            dimensions: [try dimension("k=0:1", grid: false), try dimension("K=0:10", grid: false)],
            method: .latinHypercube(samples: n, seed: 3), scenarios: [nil])
        for (d, width) in [(0, 1.0), (1, 10.0)] {
            let strata = (1...n).map { Int(plan.point($0).values[d] / width * Double(n)) }
            #expect(Set(strata) == Set(0..<n))
        }
    }

    /// Against SciPy's unscrambled Sobol' (scipy.stats.qmc.Sobol(16, scramble=False)), rows 1…31.
    @Test func sobolMatchesSciPy() {
        let sequence = SobolSequence(dimensions: 16)
        let expected: [Int: [Double]] = [
            1: [Double](repeating: 0.5, count: 16),
            2: [0.75, 0.25, 0.25, 0.25, 0.75, 0.75, 0.25, 0.75, 0.75, 0.75, 0.75, 0.75, 0.25, 0.25, 0.75, 0.25],
            5: [
                0.875, 0.875, 0.125, 0.375, 0.875, 0.625, 0.875, 0.375, 0.375, 0.125, 0.375, 0.875, 0.875, 0.125, 0.875,
                0.375,
            ],
            17: [
                0.59375, 0.96875, 0.96875, 0.15625, 0.78125, 0.46875, 0.03125, 0.34375, 0.96875, 0.65625, 0.59375,
                0.90625, 0.15625, 0.15625, 0.84375, 0.53125,
            ],
            31: [
                0.03125, 0.53125, 0.90625, 0.96875, 0.96875, 0.78125, 0.34375, 0.53125, 0.15625, 0.59375, 0.03125,
                0.34375, 0.96875, 0.21875, 0.65625, 0.84375,
            ],
        ]
        for (k, row) in expected { #expect(sequence.point(k) == row, "Sobol point \(k)") }
        var sequential = SobolSequence(dimensions: 16)
        for k in 1...31 { #expect(sequential.next() == sequence.point(k)) }
    }

    @Test func badRangesAreExplained() {
        #expect(throws: SimulationError.self) { try dimension("kk=1:2:3") }
        do { _ = try dimension("kk=1:2:3") } catch let e as SimulationError {
            #expect(
                e.message
                    == "--vary kk=1:2:3: the model has no parameter, species or compartment 'kk' (did you mean 'k'?).")
        } catch {}
        do { _ = try dimension("k=0:2:3:log") } catch let e as SimulationError {
            #expect(e.message == "--vary k=0:2:3:log: a log range needs LO > 0.")
        } catch {}
        do { _ = try dimension("k=3:2:3") } catch let e as SimulationError {
            #expect(e.message == "--vary k=3:2:3: the range must be ascending (LO ≤ HI).")
        } catch {}
    }
}

/// A → B → ∅ (Bateman): B(t) = A0·k1/(k2−k1)·(e^{−k1 t} − e^{−k2 t}) has a closed-form peak,
/// time of peak and area, against which every metric is checked.
@Suite("Sweep metrics against closed forms")
struct MetricTests {
    static let source = """
        [species]
        A = 2
        B = 0
        [parameters]
        k1 = 0.5
        k2 = 0.2
        p = 1
        [observables]
        B2 = "2 * B"
        bad = "B * log(p)"
        [[reactions]]
        equation = "A -> B"
        forward = "k1"
        [[reactions]]
        equation = "B ->"
        forward = "k2"
        [[reactions]]
        equation = "-> A"
        rate = "1e-30 * log(p)"
        [simulation]
        t_end = 20
        rtol = 1e-10
        atol = 1e-14
        """
    static let (a0, k1, k2) = (2.0, 0.5, 0.2)
    static func b(_ t: Double) -> Double { a0 * k1 / (k2 - k1) * (exp(-k1 * t) - exp(-k2 * t)) }

    func sweep(_ metrics: [String], tEnd: Double = 20, values: [String] = ["k1=0.5:0.5:1"]) throws -> [String: String] {
        let model = try ModelLoader.load(source: Self.source, file: "bateman.toml")
        let plan = try SweepPlan(
            dimensions: values.map { try SweepDimension.parse($0, grid: true, definition: model) }, method: .grid,
            scenarios: [nil])
        var settings = RunSettings()
        settings.tEnd = tEnd
        let specification = SweepSpecification(
            plan: plan, metrics: try metrics.map { try Metric.parse($0, definition: model) }, settings: settings)
        let workspace = try Workspace(simulator: Simulator(model), specification: specification, trajectories: false)
        let row = try workspace.compute(point: 1).row.trimmingCharacters(in: .newlines)
        return Dictionary(uniqueKeysWithValues: zip(specification.header, OutputWriter.splitCSV(row)))
    }

    @Test func peakTimeToPeakFinalMinMeanAucAndValueAt() throws {
        let r = try sweep([
            "peak:B", "time_to_peak:B", "final:B", "min:B", "mean:B", "auc:B", "value_at@3.5:B", "peak:B2",
        ])
        #expect(r["status"] == "ok")
        let tPeak = log(Self.k2 / Self.k1) / (Self.k2 - Self.k1)
        // Peak and its time from 4 dense-output samples per step: the time to within a fraction of a step.
        #expect(abs(Double(r["B__peak"]!)! - Self.b(tPeak)) <= 1e-6 * Self.b(tPeak))
        #expect(abs(Double(r["B__time_to_peak"]!)! - tPeak) <= 0.05)
        #expect(abs(Double(r["B__final"]!)! - Self.b(20)) <= 1e-8)
        #expect(Double(r["B__min"]!)! == 0)
        let area =
            Self.a0 * Self.k1 / (Self.k2 - Self.k1)
            * ((1 - exp(-Self.k1 * 20)) / Self.k1 - (1 - exp(-Self.k2 * 20)) / Self.k2)
        #expect(abs(Double(r["B__auc"]!)! - area) <= 1e-4 * area)  // trapezoid on dense output
        #expect(abs(Double(r["B__mean"]!)! - area / 20) <= 1e-4 * area / 20)
        #expect(abs(Double(r["B__value_at@3.5"]!)! - Self.b(3.5)) <= 1e-8)
        #expect(abs(Double(r["B2__peak"]!)! - 2 * Self.b(tPeak)) <= 2e-6 * Self.b(tPeak))
    }

    @Test func halfLifeIsTheTimeFromThePeakToHalfwayBackToTheFinalValue() throws {
        let r = try sweep(["half_life:B"], tEnd: 40)
        let tPeak = log(Self.k2 / Self.k1) / (Self.k2 - Self.k1)
        let target = Self.b(40) + 0.5 * (Self.b(tPeak) - Self.b(40))
        var (lo, hi) = (tPeak, 40.0)  // bisection on the closed form
        for _ in 0..<100 {
            let mid = 0.5 * (lo + hi)
            if Self.b(mid) > target { lo = mid } else { hi = mid }
        }
        #expect(abs(Double(r["B__half_life"]!)! - (lo - tPeak)) <= 0.02)
    }

    @Test func steadyStateIsReportedOnlyWhenSettled() throws {
        let settled = try sweep(["steady_state:B"], tEnd: 200)
        #expect(settled["status"] == "ok")
        #expect(abs(Double(settled["B__steady_state"]!)!) < 1e-10)
        let early = try sweep(["steady_state:B", "final:B"], tEnd: 20)
        #expect(early["status"] == "unsettled")
        #expect(early["B__steady_state"] == "")
        #expect(early["message"] == "did not settle by t = 20: B")
        #expect(early["B__final"] != "")
    }

    @Test func aFailingPointIsRecordedAndDoesNotStopTheOthers() throws {
        // p ≤ 0 makes log(p) NaN: that point fails with the solver's message.
        let model = try ModelLoader.load(source: Self.source, file: "bateman.toml")
        let plan = try SweepPlan(
            dimensions: [try SweepDimension.parse("p=-1:1:3", grid: true, definition: model)], method: .grid,
            scenarios: [nil])
        let specification = SweepSpecification(
            plan: plan, metrics: [try Metric.parse("peak:B", definition: model)], settings: RunSettings())
        let workspace = try Workspace(simulator: Simulator(model), specification: specification, trajectories: false)
        let rows = try (1...3).map { try workspace.compute(point: $0) }
        #expect(rows[0].status == .failed)
        #expect(rows[0].row.contains("right-hand side returned NaN"))
        #expect(rows[2].status == .ok)
        #expect(rows[1].status == .failed)  // log(0) = −inf
    }
}
