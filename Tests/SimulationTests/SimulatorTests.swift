import Foundation
import ReactionModel
import TestSupport
import Testing

@testable import Simulation

@Suite("Time courses against closed-form solutions")
struct SimulatorTests {
    /// A → B with rate k; at t = 5 an event adds 1 to A and doubles k
    /// (Tests/Fixtures/compartment_decay.toml).
    static let decay = Fixtures.text("compartment_decay.toml")

    /// A(t) = A0 e^{−kt} until 5, then (A(5⁻) + 1) e^{−2k(t−5)}; B from amount conservation
    /// (V_c A + V_n B constant apart from the event's +1·V_c).
    static func exact(_ t: Double, a0: Double = 1, k: Double = 0.3) -> (a: Double, b: Double) {
        let vc = 2.0
        let vn = 0.5
        if t < 5 { return (a0 * exp(-k * t), vc * a0 * (1 - exp(-k * t)) / vn) }
        let a5 = a0 * exp(-5 * k) + 1
        let a = a5 * exp(-2 * k * (t - 5))
        let total = vc * (a0 + 1)
        return (a, (total - vc * a) / vn)
    }

    @Test func eventsAndCompartmentsMatchTheClosedForm() throws {
        let model = try ModelLoader.load(source: Self.decay, file: "decay.toml")
        let course = try Simulator(model).run()
        #expect(course.columns == ["A", "B", "total_amount"])
        #expect(course.times.count == 21)
        for (row, t) in course.times.enumerated() {
            let (a, b) = Self.exact(t)
            #expect(abs(course.value(row: row, column: 0) - a) <= 1e-8, "A at \(t)")
            #expect(abs(course.value(row: row, column: 1) - b) <= 1e-8, "B at \(t)")
            let amount = course.value(row: row, column: 2)
            #expect(abs(amount - (t < 5 ? 2 : 4)) <= 1e-8, "amount at \(t)")
        }
        // The output at the event time shows the state after the event.
        let at5 = course.times.firstIndex(of: 5)!
        #expect(abs(course.value(row: at5, column: 0) - (exp(-1.5) + 1)) <= 1e-8)
    }

    @Test func scenariosAndOverridesChangeValues() throws {
        let model = try ModelLoader.load(source: Self.decay, file: "decay.toml")
        let simulator = Simulator(model)
        let slow = try simulator.run(scenario: "slow")
        let (a, _) = Self.exact(4, a0: 2, k: 0.1)
        #expect(abs(slow.value(row: slow.times.firstIndex(of: 4)!, column: 0) - a) <= 1e-8)

        var settings = RunSettings()
        settings.overrides = [("k", 0.2), ("A", 3)]
        settings.tEnd = 4
        settings.outputInterval = 1
        let overridden = try simulator.run(settings: settings)
        #expect(overridden.times == [0, 1, 2, 3, 4])
        #expect(abs(overridden.value(row: 4, column: 0) - 3 * exp(-0.8)) <= 1e-8)
        // The default run is unaffected by the previous runs' values.
        let again = try simulator.run()
        #expect(abs(again.value(row: 2, column: 0) - exp(-0.3)) <= 1e-8)
    }

    @Test func unknownScenarioAndOverrideNamesAreExplained() throws {
        let model = try ModelLoader.load(source: Self.decay, file: "decay.toml")
        let simulator = Simulator(model)
        #expect(throws: SimulationError.self) { try simulator.run(scenario: "slwo") }
        do { _ = try simulator.run(scenario: "slwo") } catch let e as SimulationError {
            #expect(e.message == "the model has no scenario 'slwo' (did you mean 'slow'?); its scenarios are slow.")
        }
        var settings = RunSettings()
        settings.overrides = [("kk", 1)]
        do { _ = try simulator.run(settings: settings) } catch let e as SimulationError {
            #expect(
                e.message
                    == "--set kk=…: the model has no parameter, species or compartment 'kk' (did you mean 'k'?).")
        }
        settings.overrides = [("total_amount", 1)]
        do { _ = try simulator.run(settings: settings) } catch let e as SimulationError {
            #expect(
                e.message
                    == "--set total_amount=…: 'total_amount' is an observable; only parameters, species (initial "
                    + "concentrations) and compartment sizes can be set."
            )
        }
    }

    @Test func csvNumbersReadBackBitForBit() throws {
        let model = try ModelLoader.load(source: Self.decay, file: "decay.toml")
        let course = try Simulator(model).run()
        let csv = OutputWriter.csv([course], scenarioColumn: false)
        let lines = csv.split(separator: "\n")
        #expect(lines[0] == "time,A,B,total_amount")
        for (row, line) in lines.dropFirst().enumerated() {
            let fields = line.split(separator: ",").map { Double(String($0))! }
            #expect(fields[0] == course.times[row])
            for c in 0..<3 { #expect(fields[c + 1] == course.value(row: row, column: c)) }
        }
        let both = OutputWriter.csv([course, try Simulator(model).run(scenario: "slow")], scenarioColumn: true)
        #expect(both.hasPrefix("scenario,time,A,B,total_amount\ndefault,0.0,"))
        #expect(both.contains("\nslow,0.0,2.0,"))
    }

    @Test func sha256OfKnownStrings() {
        #expect(SHA256.hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}

@Suite("Errors keep their type up to the command line")
struct TypedErrorTests {
    @Test func aSolverFailureCarriesTheSolversError() throws {
        let model = try ModelLoader.load(
            source: """
                [species]
                A = 1
                [parameters]
                k = 10
                [[reactions]]
                equation = "-> A"
                rate = "k * A * A"
                [simulation]
                t_end = 1
                """, file: "blow.toml")
        do {
            _ = try Simulator(model).run()
            Issue.record("a blow-up at t = 0.1 must fail")
        } catch let error as SimulationError {
            let solver = try #require(error.solverError)
            #expect(error.message == "the simulation of blow.toml failed: \(solver)")
            #expect(solver.t > 0.09 && solver.t < 0.11)
        }
        var settings = RunSettings()
        settings.rtol = -1
        do {
            _ = try Simulator(model).run(settings: settings)
            Issue.record("a negative tolerance must be refused")
        } catch let error as SimulationError {
            let solver = try #require(error.solverError)
            #expect(error.message == "invalid solver settings: \(solver)")
        }
    }
}

@Suite("The .meta.json sidecar, one Codable type")
struct MetadataTests {
    @Test func runSidecarKeepsItsKeysAndReadsBack() throws {
        let model = try ModelLoader.load(source: SimulatorTests.decay, file: "decay.toml")
        var settings = RunSettings()
        settings.overrides = [("k", 0.25), ("B", 1), ("A", 2)]
        let course = try Simulator(model).run(settings: settings)
        let text = OutputWriter.metadata(
            definition: model, source: SimulatorTests.decay, courses: [course], settings: settings,
            programVersion: "9", command: ["stat3sim", "run"])
        // JSONSerialization's layout: sorted keys, case-insensitively ("A", "B", "k").
        #expect(text.contains("\"overrides\" : {\n    \"A\" : 2,\n    \"B\" : 1,\n    \"k\" : 0.25\n  },"))
        #expect(text.contains("\"solver_statistics\" : {\n        \"convergence_failures\" : "))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "stat3sim-meta-\(UUID().uuidString).json"
        ).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let meta = try #require(RunMetadata.read(path))
        #expect(meta.runs?.first?.rows == course.times.count)
        #expect(meta.model.sha256 == SHA256Hex.of(SimulatorTests.decay))
        #expect(meta.overrides == ["A": 2, "B": 1, "k": 0.25])
        #expect(meta.json() == text)  // decoding and encoding again changes nothing
    }
}
