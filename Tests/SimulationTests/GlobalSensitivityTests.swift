import Foundation
import ReactionModel
import Testing

@testable import Simulation

/// The estimators on functions whose indices are known in closed form, and the designs' layouts.
@Suite("Global sensitivity: Saltelli and Morris designs, Sobol' indices, elementary effects")
struct GlobalSensitivityTests {
    static let model = try! ModelLoader.load(
        source: "[parameters]\nx1 = 0\nx2 = 0\nx3 = 0\nx4 = 0\nx5 = 0\nx6 = 0\nx7 = 0\nx8 = 0\nx9 = 0\n",
        file: "gsa.toml")

    func dimensions(_ count: Int, log: Bool = false) throws -> [SweepDimension] {
        try (1...count).map {
            try SweepDimension.parse(log ? "x\($0)=1:100:log" : "x\($0)=0:1", grid: false, definition: Self.model)
        }
    }

    /// The outputs of `f` at every point of `plan`, in point order.
    func outputs(_ plan: SweepPlan, _ f: ([Double]) -> Double) -> [Double] {
        (1...plan.pointCount).map { f(plan.point($0).values) }
    }

    @Test func saltelliRowsAreAThenEachABjThenB() throws {
        let plan = try SweepPlan(dimensions: dimensions(3), method: .saltelli(samples: 8), scenarios: [nil])
        #expect(plan.pointCount == 8 * 5)
        let sequence = SobolSequence(dimensions: 6)
        for row in 0..<8 {
            let base = sequence.point(row + 1)
            let a = Array(base[0..<3])
            let b = Array(base[3..<6])
            #expect(plan.values(ofSet: row * 5) == a)
            #expect(plan.values(ofSet: row * 5 + 4) == b)
            for j in 0..<3 {
                var ab = a
                ab[j] = b[j]
                #expect(plan.values(ofSet: row * 5 + 1 + j) == ab)
            }
        }
    }

    @Test func saltelliRefusesMoreNamesThanItsSequenceServes() throws {
        let text = message {
            _ = try SweepPlan(dimensions: dimensions(9), method: .saltelli(samples: 8), scenarios: [nil])
        }
        #expect(
            text
                == "--method sobol (Saltelli's design, a Sobol' sequence in twice as many dimensions) supports up to 8 "
                + "varied names, not 9; use --method morris.")
    }

    /// f = Σ aᵢ xᵢ on [0, 1]³: Vᵢ = aᵢ²/12, so S1ᵢ = STᵢ = aᵢ² / Σ a² = 1/14, 4/14, 9/14.
    @Test func additiveFunctionHasItsClosedFormIndicesWithinTheirIntervals() throws {
        let plan = try SweepPlan(dimensions: dimensions(3), method: .saltelli(samples: 4096), scenarios: [nil])
        let y = outputs(plan) { x in x[0] + 2 * x[1] + 3 * x[2] }
        let s = SobolIndices.estimate(outputs: y, design: plan.saltelliDesign!, resamples: 200, seed: 5)
        let exact = [1.0 / 14, 4.0 / 14, 9.0 / 14]
        for j in 0..<3 {
            #expect(abs(s.firstOrder[j] - exact[j]) < 0.01)
            #expect(abs(s.total[j] - exact[j]) < 0.01)
            #expect(abs(s.firstOrder[j] - exact[j]) < s.firstOrderConfidence[j])
            #expect(abs(s.total[j] - exact[j]) < s.totalConfidence[j])
            #expect(s.firstOrderConfidence[j] > 0 && s.firstOrderConfidence[j] < 0.05)
        }
    }

    /// A name the output does not depend on changes nothing between A and A_B^(j): both of its
    /// estimators are exactly 0.
    @Test func anUnusedNameHasIndicesExactlyZero() throws {
        let plan = try SweepPlan(dimensions: dimensions(2), method: .saltelli(samples: 64), scenarios: [nil])
        let s = SobolIndices.estimate(
            outputs: outputs(plan) { x in sin(6 * x[0]) }, design: plan.saltelliDesign!, resamples: 50, seed: 1)
        #expect(s.firstOrder[1] == 0 && s.total[1] == 0)
        #expect(s.firstOrderConfidence[1] == 0 && s.totalConfidence[1] == 0)
        #expect(s.total[0] > 0.9)
    }

    @Test func aConstantOutputHasIndicesZeroAsInSALib() throws {
        let plan = try SweepPlan(dimensions: dimensions(2), method: .saltelli(samples: 16), scenarios: [nil])
        let s = SobolIndices.estimate(
            outputs: outputs(plan) { _ in 3 }, design: plan.saltelliDesign!, resamples: 50, seed: 1)
        #expect(s.firstOrder == [0, 0] && s.total == [0, 0] && s.totalConfidence == [0, 0])
    }

    @Test func bootstrapIntervalsAreReproducibleFromTheirSeed() throws {
        let plan = try SweepPlan(dimensions: dimensions(2), method: .saltelli(samples: 256), scenarios: [nil])
        let y = outputs(plan) { x in x[0] * x[1] + x[0] }
        let design = plan.saltelliDesign!
        let a = SobolIndices.estimate(outputs: y, design: design, resamples: 100, seed: 9)
        let b = SobolIndices.estimate(outputs: y, design: design, resamples: 100, seed: 9)
        let c = SobolIndices.estimate(outputs: y, design: design, resamples: 100, seed: 10)
        #expect(a == b)
        #expect(a.firstOrder == c.firstOrder && a.firstOrderConfidence != c.firstOrderConfidence)
    }

    @Test func morrisTrajectoriesMoveEachFactorOnceByDeltaOnTheGrid() throws {
        for levels in [2, 4, 6] {
            let plan = try SweepPlan(
                dimensions: dimensions(4), method: .morris(trajectories: 20, levels: levels, seed: 3),
                scenarios: [nil])
            #expect(plan.pointCount == 20 * 5)
            let design = plan.morrisDesign!
            for t in 0..<20 {
                let points = (0...4).map { design.unitPoint(ofSet: t * 5 + $0) }
                var moved = Set<Int>()
                for k in 1...4 {
                    let changes = (0..<4).filter { points[k][$0] != points[k - 1][$0] }
                    #expect(changes.count == 1)
                    let i = changes[0]
                    #expect(abs(abs(points[k][i] - points[k - 1][i]) - design.delta) < 1e-12)
                    moved.insert(i)
                }
                #expect(moved == Set(0..<4))
                for x in points.joined() {
                    let level = x * Double(levels - 1)
                    #expect(abs(level - level.rounded()) < 1e-12 && x >= 0 && x <= 1 + 1e-12)
                }
            }
        }
    }

    /// On f = Σ aᵢ uᵢ (in unit coordinates: log ranges through their logarithm) every elementary
    /// effect of factor i is aᵢ: μ* = |aᵢ|, σ = 0.
    @Test func morrisEffectsOfALinearFunctionAreItsSlopes() throws {
        let plan = try SweepPlan(
            dimensions: dimensions(3, log: true), method: .morris(trajectories: 30, levels: 4, seed: 2),
            scenarios: [nil])
        let y = outputs(plan) { x in x.enumerated().reduce(0) { $0 + [2.0, -1.0, 0.5][$1.offset] * log10($1.element) } }
        // u = log10(x) / 2 on [1, 100]: the slopes in u are 4, −2 and 1.
        let e = MorrisEffects.estimate(outputs: y, design: plan.morrisDesign!, resamples: 100, seed: 1)
        for (i, slope) in [4.0, -2.0, 1.0].enumerated() {
            #expect(abs(e.muStar[i] - abs(slope)) < 1e-9)
            #expect(abs(e.mu[i] - slope) < 1e-9)
            #expect(e.sigma[i] < 1e-9 && e.muStarConfidence[i] < 1e-9)
        }
    }

    @Test func aMetricMissingAtSomePointsIsRefusedNamingThem() throws {
        let outputs = PointOutputs(
            values: [[1, .nan, 3, .nan]], missing: [[2, 4]], messages: [4: "the solver failed at t = 3"])
        #expect(
            outputs.refusal(metric: 0, column: "B__peak")
                == "B__peak: no value at 2 of 4 points (2, 4); the indices need every point, so none are computed "
                + "for it (point 4 failed: the solver failed at t = 3).")
    }
}
