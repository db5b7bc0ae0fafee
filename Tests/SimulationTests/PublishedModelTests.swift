import Foundation
import ReactionModel
import Testing

@testable import Simulation

/// The published models in Models/ against the validation targets of
/// docs/il6-models.md §4 (simulations of the original SBML files). Tolerances follow
/// the precision the sheet quotes (times to the minute, values to two or three digits).
/// Agreement with libRoadRunner over whole time courses is checked by Scripts/crosscheck.
@Suite("Published IL-6 models reproduce their validation targets")
struct PublishedModelTests {
    static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Models")

    static func run(_ file: String, scenario: String? = nil, _ configure: (inout RunSettings) -> Void = { _ in }) throws
        -> TimeCourse
    {
        let model = try ModelLoader.load(path: models.appendingPathComponent(file).path)
        var settings = RunSettings()
        settings.outputInterval = 0.1
        configure(&settings)
        return try Simulator(model).run(scenario: scenario, settings: settings)
    }

    static func value(_ course: TimeCourse, _ name: String, at t: Double) -> Double {
        let row = course.times.firstIndex { abs($0 - t) < 1e-9 }!
        return course.value(row: row, column: course.columns.firstIndex(of: name)!)
    }

    /// §4A: Sobotta 2017, 40 ng/mL IL-6, no ruxolitinib.
    @Test func sobottaAt40ngPerMl() throws {
        let course = try Self.run("sobotta2017.toml") { $0.tEnd = 1440 }
        let fraction = try #require(course.peak(of: "pSTAT3_fraction"))
        #expect(abs(fraction.time - 16) <= 1, "pSTAT3 peak at \(fraction.time) min")
        #expect(abs(fraction.value - 0.49) <= 0.01, "peak fraction \(fraction.value)")
        let basal = Self.value(course, "pSTAT3_fraction", at: 0)
        #expect(abs(basal - 0.027) <= 0.001, "basal fraction \(basal)")
        #expect(abs(fraction.value / basal - 18) <= 1, "fold over basal \(fraction.value / basal)")
        // Plateau ≈ 18.5 % "from 90 min to 24 h" while IL-6 stays present: the SBML itself (and
        // this model, which matches it to 1e-8, Scripts/crosscheck) still overshoots to 19.1 % at
        // 90 min and settles by 2 h, so the plateau is checked from 120 min.
        #expect(abs(Self.value(course, "pSTAT3_fraction", at: 90) - 0.185) <= 0.01)
        for t in [120.0, 360, 1440] {
            #expect(abs(Self.value(course, "pSTAT3_fraction", at: t) - 0.185) <= 0.002, "plateau at \(t)")
        }
        let receptor = try #require(course.peak(of: "receptor_active"))
        #expect(abs(receptor.time - 20.5) <= 1)
        #expect(abs(receptor.value / Self.value(course, "receptor_active", at: 0) - 48) <= 2)
        let mRNA = try #require(course.peak(of: "SOCS3_mRNA"))
        #expect(abs(mRNA.time - 37) <= 1)
        #expect(abs(mRNA.value / Self.value(course, "SOCS3_mRNA", at: 0) - 111) <= 3)
        #expect(abs(try #require(course.peak(of: "SOCS3")).time - 39) <= 1)
    }

    /// §4A: the peak comes earlier at higher dose.
    @Test func sobottaPeakTimeFallsWithDose() throws {
        let expected: [(dose: Double, time: Double)] = [(1, 39), (100, 13), (300, 10)]
        for (dose, time) in expected {
            let course = try Self.run("sobotta2017.toml") {
                $0.tEnd = 120
                $0.overrides = [("IL6", dose)]
            }
            let peak = try #require(course.peak(of: "pSTAT3_fraction"))
            #expect(abs(peak.time - time) <= 1.5, "IL-6 \(dose) ng/mL: peak at \(peak.time) min, sheet \(time)")
        }
    }

    /// §4A: the published ruxolitinib schedule lowers the pSTAT3 peak (scenario of the model).
    @Test func sobottaRuxolitinibLowersThePeak() throws {
        let untreated = try #require(try Self.run("sobotta2017.toml") { $0.tEnd = 240 }.peak(of: "pSTAT3_fraction"))
        let treated = try #require(
            try Self.run("sobotta2017.toml", scenario: "ruxolitinib") { $0.tEnd = 240 }.peak(of: "pSTAT3_fraction"))
        #expect(treated.value < 0.5 * untreated.value)
    }

    /// §2B/§4B: Singh 2006 without Raf (the classic model's default run).
    @Test func classicSinghWithoutRaf() throws {
        let course = try Self.run("classic.toml")
        let cytoplasmicDimer = try #require(course.peak(of: "pSTAT3c_dimer"))
        #expect(
            abs(cytoplasmicDimer.time - 9.3) <= 0.3, "cytoplasmic pSTAT3 dimer peak at \(cytoplasmicDimer.time) min")
        let receptor = try #require(course.peak(of: "R_active"))
        #expect(abs(receptor.time - 4.7) <= 0.2, "free R* peak at \(receptor.time) min")
        // §2B: without Raf the nuclear dimer peaks at 84.9 nM at 50 min.
        let nuclearDimer = try #require(course.peak(of: "pSTAT3n_dimer"))
        #expect(abs(nuclearDimer.value - 84.9) <= 0.5, "nuclear dimer peak \(nuclearDimer.value) nM")
        #expect(abs(nuclearDimer.time - 50) <= 1, "nuclear dimer peak at \(nuclearDimer.time) min")
    }

    /// §4B knock-out: SHP2 = 0 raises the nuclear dimer peak to 384 nM, 84 nM at 5.5 h.
    @Test func classicWithoutSHP2() throws {
        let course = try Self.run("classic.toml") {
            $0.overrides = [("SHP2", 0)]
            $0.outputInterval = 1
        }
        let peak = try #require(course.peak(of: "pSTAT3n_dimer"))
        #expect(abs(peak.value - 384) <= 2, "peak \(peak.value)")
        #expect(abs(Self.value(course, "pSTAT3n_dimer", at: 330) - 84) <= 1.5)
    }

    /// Receptors conserved and IL-6 consumed: pSTAT3 returns toward baseline (issue 3).
    @Test func conservedClassicReturnsTowardBaseline() throws {
        let course = try Self.run("classic_conserved.toml") { $0.outputInterval = 10 }
        let peak = try #require(course.peak(of: "pSTAT3_fraction"))
        let last = course.column(named: "pSTAT3_fraction")!.last!
        #expect(last < 0.05 * peak.value, "final \(last) vs peak \(peak.value)")
    }
}
