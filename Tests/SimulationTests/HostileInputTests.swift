import Foundation
import ReactionModel
import TestSupport
import Testing

@testable import Simulation

/// Inputs that once trapped, allocated without bound or leaked input into messages: each is
/// refused quickly with a sentence that says how big the request is.
@Suite("Hostile input: sizes, traps, excerpts")
struct HostileInputTests {
    /// A → B (Tests/Fixtures/decay_network.toml) from A = 1, with a scenario.
    static let source =
        Fixtures.text("decay_network.toml").replacingOccurrences(of: "A = 2", with: "A = 1") + """

            [simulation]
            t_end = 10
            output_interval = 0.5
            [[scenarios]]
            name = "fast"
            parameters = { k = 2 }
            """
    static let model = try! ModelLoader.load(source: source, file: "hostile.toml")

    func temporaryDirectory() throws -> URL { try temporaryFolder("hostile") }

    // MARK: Output grids

    @Test func lazyGridEqualsTheStoredGridBitForBit() throws {
        let cases: [(Double, Double, Double?)] = [
            (0, 10, 0.5), (0, 360, nil), (0, 1, 0.1), (0, 1, 1.0 / 3), (2.5, 7, 0.7),
            (1e10, 1e10 + 1, 1e-3), (-5, 5, 0.3), (0, 100, 1e20), (0, 1440, 5), (0, 1, 0.999999999999),
        ]
        for (start, end, interval) in cases {
            let sim = ModelDefinition.Simulation(tStart: start, tEnd: end, outputInterval: interval)
            let grid = try OutputGrid(start: start, end: end, interval: interval ?? (end - start) / 100)
            #expect(Array(grid) == sim.outputTimes, "\(start)…\(end) every \(String(describing: interval))")
        }
    }

    @Test func absurdGridsAreRefusedWithoutBeingBuilt() throws {
        let simulator = Simulator(Self.model)
        var settings = RunSettings()
        // A tiny interval over the model's t_end, then a huge span.
        let absurd: [(tEnd: Double?, interval: Double, refusal: String)] = [
            (
                nil, 5e-324,
                "the output grid would have more than 1e308 rows (t = 0…10 every 5e-324), more than any file can "
                    + "hold; give a larger --output-interval."
            ),
            (
                1e12, 1e-6,
                "the output grid would have about 1.0e+18 rows (t = 0…1000000000000 every 1e-06), more than any "
                    + "file can hold; give a larger --output-interval."
            ),
        ]
        for (tEnd, interval, refusal) in absurd {
            settings.tEnd = tEnd
            settings.outputInterval = interval
            #expect(message { _ = try simulator.outputGrid(settings) } == refusal)
        }
        // Under the countable bound the grid exists, costs nothing, and the writers refuse it.
        settings.tEnd = 1e7
        settings.outputInterval = 0.01
        #expect(try simulator.outputGrid(settings).count == 1_000_000_001)
        let refused = message { _ = try simulator.run(settings: settings) }
        #expect(
            refused
                == "the run would write 1000000001 rows (about 72 GB of CSV), more than the limit of 100000000; give a "
                + "larger --output-interval (or a shorter --t-end), or give --max-rows 1000000001 to write them "
                + "anyway."
        )
    }

    @Test func infiniteEndTimeIsRefused() throws {
        var settings = RunSettings()
        settings.tEnd = .infinity
        #expect(
            message { _ = try Simulator(Self.model).outputGrid(settings) }
                == "--t-end inf: the end time must be a finite number.")
        settings.tEnd = .nan
        #expect(
            message { _ = try Simulator(Self.model).outputGrid(settings) }
                == "--t-end nan must be later than the start time 0.0.")
    }

    @Test func modelFileGridsMeetTheSameChecks() throws {
        let tiny = try ModelLoader.load(
            source: Self.source.replacingOccurrences(of: "output_interval = 0.5", with: "output_interval = 1e-300"),
            file: "tiny.toml")
        let m = message { _ = try Simulator(tiny).run() }
        #expect(m?.contains("the output grid would have about 1.0e+301 rows") == true, "\(m ?? "")")
        let dense = try ModelLoader.load(
            source: Self.source.replacingOccurrences(of: "t_end = 10", with: "t_end = 1e9"), file: "dense.toml")
        let d = message { _ = try Simulator(dense).run() }
        #expect(d?.hasPrefix("the run would write 2000000001 rows") == true, "\(d ?? "")")
        // A steady state does not write the grid, so a long grid does not stop it.
        #expect(throws: Never.self) { _ = try Simulator(dense).initialState(scenario: nil, settings: RunSettings()) }
    }

    @Test func maxRowsAsksForALargerOutput() throws {
        var settings = RunSettings()
        settings.maxRows = 20
        #expect(
            message { _ = try Simulator(Self.model).run(settings: settings) }?.hasPrefix("the run would write 21 rows")
                == true)
        settings.maxRows = 21
        #expect(try Simulator(Self.model).run(settings: settings).times.count == 21)
    }

    @Test func aDiskTooSmallIsRefusedWithTheSizes() {
        let m = message {
            try OutputSize.checkFits(rows: 1_000_000, fields: 10, free: 1e6, folder: "out", what: "the run")
        }
        #expect(
            m
                == "the run would write 1000000 rows (about 180 MB of CSV), more than the 1.0 MB free in out; give a "
                + "larger --output-interval (or a shorter --t-end), or an --out on a disk with more space."
        )
        #expect(
            message { try OutputSize.checkFits(rows: 10, fields: 10, free: 1e6, folder: "out", what: "the run") } == nil
        )
    }

    // MARK: Streaming

    @Test func streamedRowsEqualTheStoredTimeCourse() throws {
        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent("s.csv").path
        let simulator = Simulator(Self.model)
        var settings = RunSettings()
        settings.outputParameters = ["k"]
        let courses = try [nil, "fast"].map { try simulator.run(scenario: $0, settings: settings) }
        let file = try OutputFile.create(path)
        let stream = CSVStream(fileDescriptor: file.descriptor, path: path)
        try stream.write(OutputWriter.csvHeader(columns: courses[0].columns, scenarioColumn: true))
        var summaries: [RunSummary] = []
        for name in [nil, "fast"] as [String?] {
            summaries.append(
                try simulator.stream(scenario: name, settings: settings, to: stream, scenarioLabel: name ?? "default"))
        }
        try stream.flush()
        try file.commit()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == OutputWriter.csv(courses, scenarioColumn: true))
        for (course, summary) in zip(courses, summaries) {
            #expect(summary.rows == course.times.count && summary.lastTime == course.times.last!)
            for name in course.columns {
                #expect(summary.peak(of: name)! == course.peak(of: name)!)
                #expect(summary.final(of: name) == course.column(named: name)!.last)
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["s.csv"])
    }

    @Test func numbersAreFormattedAsOutputWriterFormatsThem() throws {
        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent("n.csv").path
        var values: [Double] = [
            0, -0.0, 8, 1000, 1e16, 1e-300, .leastNonzeroMagnitude, 0.1, 1.0 / 3, -2.5e-7,
            .greatestFiniteMagnitude, .infinity, -.infinity, .nan,
        ]
        var generator = RandomGenerator(seed: 11)
        for _ in 0..<5000 { values.append(Double(bitPattern: generator.next())) }
        let file = try OutputFile.create(path)
        let stream = CSVStream(fileDescriptor: file.descriptor, path: path)
        for x in values {
            try stream.append(number: x)
            try stream.append(byte: 10)
        }
        try stream.flush()
        try file.commit()
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines == values.map(\.exactText))
    }

    @Test func aFailedStartRemovesWhatItMade() throws {
        let dir = try temporaryDirectory()
        let file = try OutputFile.create(dir.appendingPathComponent("a/b/c.csv").path)
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("a/b").path))
        file.discard()
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    // MARK: Sweeps

    func dimension(_ text: String, grid: Bool = true) throws -> SweepDimension {
        try SweepDimension.parse(text, grid: grid, definition: Self.model)
    }

    @Test func gridProductsThatOverflowAreRefusedNotTrapped() throws {
        let m = message {
            _ = try SweepPlan(
                dimensions: [dimension("k=0:1:4294967296"), dimension("A=0:1:4294967296")], method: .grid,
                scenarios: [nil])
        }
        #expect(
            m
                == "the sweep would have 4294967296 × 4294967296 = 1.84e+19 points, more than can be counted; vary "
                + "fewer values."
        )
        let s = message {
            _ = try SweepPlan(
                dimensions: [dimension("k=0:1", grid: false)], method: .random(samples: Int.max / 2, seed: 1),
                scenarios: [nil, "fast", "fast"])
        }
        #expect(s?.contains("more than can be counted") == true, "\(s ?? "")")
    }

    @Test func sweepsTooLargeToFinishAreRefusedWithTheirSize() throws {
        let m = message {
            _ = try SweepPlan(
                dimensions: [dimension("k=0:1:1000000"), dimension("A=0:1:1000000")], method: .grid, scenarios: [nil])
        }
        #expect(m?.hasPrefix("the sweep would write 1000000000000 rows (about") == true, "\(m ?? "")")
        #expect(m?.hasSuffix("or give --max-rows 1000000000000 to write them anyway.") == true)
        let plan = try SweepPlan(
            dimensions: [dimension("k=0:1:1000000"), dimension("A=0:1:1000000")], method: .grid, scenarios: [nil],
            maxPoints: Int.max)
        #expect(plan.pointCount == 1_000_000_000_000)
        // Latin hypercube strata are 32-bit: more samples are refused before anything is built.
        let l = message {
            _ = try SweepPlan(
                dimensions: [dimension("k=0:1", grid: false)], method: .latinHypercube(samples: 1 << 40, seed: 1),
                scenarios: [nil], maxPoints: Int.max)
        }
        #expect(
            l
                == "--samples 1099511627776: Latin hypercube sampling takes at most 2147483647 samples; use --method "
                + "sobol or random for more."
        )
    }

    func runSweep(_ settings: RunSettings, in dir: URL, trajectories: Bool = false) -> String? {
        var execution = SweepExecution()
        execution.output = dir.appendingPathComponent("s.csv").path
        if trajectories { execution.trajectories = dir.appendingPathComponent("t.csv").path }
        return message {
            let plan = try SweepPlan(dimensions: [dimension("k=0.1:1:3")], method: .grid, scenarios: [nil, "fast"])
            let specification = SweepSpecification(
                plan: plan, metrics: Metric.defaults(for: Self.model), settings: settings)
            _ = try SweepRunner(
                definition: Self.model, source: Self.source, specification: specification, execution: execution
            ).run(stop: StopFlag())
        }
    }

    @Test func refusedSweepsLeaveNoFiles() throws {
        var cases: [(RunSettings, String)] = []
        var s = RunSettings()
        s.overrides = [("A", -1)]
        cases.append((s, "--set A=-1.0: an initial concentration must be ≥ 0."))
        s = RunSettings()
        s.atol = .nan
        cases.append((s, "invalid solver settings"))
        s = RunSettings()
        s.rtol = .infinity
        cases.append((s, "invalid solver settings"))
        s = RunSettings()
        s.tEnd = .infinity
        cases.append((s, "--t-end inf: the end time must be a finite number."))
        s = RunSettings()
        s.outputInterval = 5e-324
        cases.append((s, "more than any file can hold"))
        for (settings, expected) in cases {
            let dir = try temporaryDirectory()
            let m = runSweep(settings, in: dir, trajectories: true)
            #expect(m?.contains(expected) == true, "\(m ?? "no error")")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
        }
    }

    @Test func trajectoriesAreRowsTimesPoints() throws {
        let dir = try temporaryDirectory()
        var settings = RunSettings()
        settings.tEnd = 1e7
        settings.outputInterval = 0.5
        let m = runSweep(settings, in: dir, trajectories: true)
        #expect(
            m
                == "--trajectories (6 points × 20000001 output times) would write 120000006 rows (about 11 GB of "
                + "CSV), more than the limit of 100000000; give a larger --output-interval or fewer points, or give "
                + "--max-rows 120000006 to write them anyway."
        )
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test func stateEventsScanTheGridSoItIsBoundedWithoutTrajectories() throws {
        let source = Self.source + "\n[[events]]\nwhen = \"B > 0.5\"\nset = { k = \"0\" }\n"
        let model = try ModelLoader.load(source: source, file: "events.toml")
        let dir = try temporaryDirectory()
        var settings = RunSettings()
        settings.tEnd = 1e9
        settings.outputInterval = 1
        var execution = SweepExecution()
        execution.output = dir.appendingPathComponent("s.csv").path
        let m = message {
            let plan = try SweepPlan(
                dimensions: [try SweepDimension.parse("k=0.1:1:3", grid: true, definition: model)], method: .grid,
                scenarios: [nil])
            let specification = SweepSpecification(plan: plan, metrics: Metric.defaults(for: model), settings: settings)
            _ = try SweepRunner(definition: model, source: source, specification: specification, execution: execution)
                .run(stop: StopFlag())
        }
        #expect(
            m
                == "each point's output grid would have 1000000001 times, at which the model's state events are looked "
                + "for, more than the limit of 100000000; give a larger --output-interval, or --max-rows "
                + "1000000001 to allow it."
        )
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test func continuationKeepsItsPointsBounded() throws {
        let follow = try dimension("k=0.1:1:1000000000")
        let m = message {
            _ = try Continuation(
                simulator: Simulator(Self.model), dimension: follow, scenario: nil, settings: RunSettings()
            ).run()
        }
        #expect(
            m?.hasPrefix("--follow (1000000000 values up and down) would write 2000000000 rows") == true, "\(m ?? "")")
    }

    // MARK: Messages quote short, escaped excerpts

    @Test func excerptsAreShortAndEscaped() {
        #expect(excerpt("IL6") == "IL6")
        #expect(excerpt(String(repeating: "x", count: 100)) == String(repeating: "x", count: 40) + "…")
        #expect(excerpt("a\nb\tc\u{1b}[31m\u{202e}") == "a\\nb\\tc\\u{1b}[31m\\u{202e}")
    }

    @Test func aPointsFileNeverLandsInAMessage() throws {
        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent("p.csv").path
        try ("root:x:0:0:root:/root:/bin/bash and a very long line of secrets\u{1b}[2J\n").write(
            toFile: path, atomically: true, encoding: .utf8)
        let m = message { _ = try SweepPlan.fromPointsFile(path, definition: Self.model, scenarios: [nil]) } ?? ""
        #expect(
            m
                == "--points \(path): the model has no parameter, species or compartment "
                + "'root:x:0:0:root:/root:/bin/bash and a ve…'."
        )
        try ("k\n\u{1b}[2J" + String(repeating: "9", count: 80) + "x\n").write(
            toFile: path, atomically: true, encoding: .utf8)
        let n = message { _ = try SweepPlan.fromPointsFile(path, definition: Self.model, scenarios: [nil]) } ?? ""
        #expect(
            n == "--points \(path): row 2 has '\\u{1b}[2J" + String(repeating: "9", count: 36)
                + "…', which is not a finite number.")
    }

    // MARK: What held: malformed point files

    @Test func malformedPointFilesAreRefusedByRow() throws {
        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent("p.csv").path
        let cases = [
            ("", "the file is empty; it needs a header row of names."),
            ("k\n1\n2,3\n", "row 3 has 2 values for 1 columns."),
            ("k,A\n1,nan\n", "row 2 has 'nan', which is not a finite number."),
            ("k\ninf\n", "row 2 has 'inf', which is not a finite number."),
            ("B2\n1\n", "'B2' is an observable; sweeps vary parameters, initial concentrations and compartment sizes."),
        ]
        for (text, expected) in cases {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let m = message { _ = try SweepPlan.fromPointsFile(path, definition: Self.model, scenarios: [nil]) }
            #expect(m == "--points \(path): \(expected)", "\(m ?? "")")
        }
        #expect(
            message {
                _ = try SweepPlan.fromPointsFile(
                    dir.appendingPathComponent("none.csv").path, definition: Self.model, scenarios: [nil])
            }
                == "--points \(dir.appendingPathComponent("none.csv").path): cannot read the file.")
    }

    @Test func nonFiniteValuesAreRefused() throws {
        let simulator = Simulator(Self.model)
        var settings = RunSettings()
        settings.overrides = [("k", .nan)]
        #expect(message { _ = try simulator.run(settings: settings) } == "--set k=nan: the value must be finite.")
        settings.overrides = [("k", .infinity)]
        #expect(message { _ = try simulator.run(settings: settings) } == "--set k=inf: the value must be finite.")
        settings = RunSettings()
        settings.outputInterval = .nan
        #expect(
            message { _ = try simulator.run(settings: settings) }
                == "--output-interval must be a positive number, not nan.")
        #expect(
            message { _ = try SweepDimension.parse("k=0:inf:3", grid: true, definition: Self.model) }
                == "--vary k=0:inf:3: write NAME=LO:HI:N or NAME=LO:HI:N:log.")
    }
}
