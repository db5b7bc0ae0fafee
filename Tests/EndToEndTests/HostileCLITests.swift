import Foundation
import Testing

/// Requests too big to be meant, inputs that once trapped, and files a model names: each is
/// refused before any work with one sentence, and leaves no file behind.
@Suite("stat3sim with hostile input, end to end")
struct HostileCLITests {
    static let model = """
        [model]
        name = "decay"
        \(decayNetwork)
        [simulation]
        t_end = 10
        [[scenarios]]
        name = "fast"
        parameters = { k = 2 }
        """

    /// A fresh folder with `decay.toml` (plus `extra` appended) in it.
    func setUp(_ extra: String = "", name: String = "decay.toml") throws -> (dir: URL, model: String) {
        try folder("hostile-cli", holding: Self.model + "\n" + extra, as: name)
    }

    func files(_ dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    }

    /// One sentence on one line, exit status 1.
    func expectRefusal(_ result: CLI.Result, _ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 1, "\(result.standardError)", sourceLocation: sourceLocation)
        let text = result.standardError.trimmingCharacters(in: .newlines)
        #expect(!text.contains("\n"), "\(text)", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(text.contains(fragment), "\(text) lacks \(fragment)", sourceLocation: sourceLocation)
        }
    }

    // MARK: run

    @Test func hugeRunsAreRefusedBeforeAnyWork() throws {
        let (dir, model) = try setUp()
        let out = dir.appendingPathComponent("out/big.csv").path
        let big = try CLI.run(["run", model, "--t-end", "1e7", "--output-interval", "0.01", "--out", out])
        expectRefusal(
            big, ["the run would write 1000000001 rows (about", "--max-rows 1000000001", "--output-interval"])
        let several = try CLI.run([
            "run", model, "--scenario", "all", "--t-end", "1e8", "--output-interval", "1", "--out", out,
        ])
        expectRefusal(several, ["the 2 runs would write 200000002 rows", "--max-rows 200000002"])
        for arguments in [
            ["--t-end", "1e12", "--output-interval", "1e-6"], ["--output-interval", "5e-324"], ["--t-end", "inf"],
        ] {
            let result = try CLI.run(["run", model, "--out", out] + arguments)
            expectRefusal(
                result,
                [
                    arguments.contains("inf")
                        ? "--t-end inf: the end time must be a finite number." : "more than any file can hold"
                ])
        }
        #expect(try files(dir) == ["decay.toml"])
    }

    @Test func theModelFilesGridMeetsTheSameLimits() throws {
        let (dir, model) = try setUp(name: "m.toml")
        let dense = model.replacingOccurrences(of: "m.toml", with: "dense.toml")
        try Self.model.replacingOccurrences(of: "t_end = 10", with: "t_end = 1e7\noutput_interval = 1e-300").write(
            toFile: dense, atomically: true, encoding: .utf8)
        expectRefusal(
            try CLI.run(["run", dense, "--out", dir.appendingPathComponent("d.csv").path]),
            ["the output grid would have about", "rows"])
        #expect(try files(dir) == ["dense.toml", "m.toml"])
    }

    @Test func maxRowsAsksForMore() throws {
        let (dir, model) = try setUp()
        let out = dir.appendingPathComponent("r.csv").path
        expectRefusal(
            try CLI.run(["run", model, "--max-rows", "100", "--out", out]),
            ["the run would write 101 rows", "--max-rows 101"])
        let allowed = try CLI.run(["run", model, "--max-rows", "101", "--out", out])
        #expect(allowed.status == 0, "\(allowed.standardError)")
        #expect(try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").count == 102)
    }

    @Test func streamedFileEqualsStandardOutputAndLeavesNoTemporaryFile() throws {
        let (dir, model) = try setUp()
        let out = dir.appendingPathComponent("r.csv").path
        let args = ["run", model, "--scenario", "all", "--output-interval", "0.01", "--output-parameters", "k"]
        let file = try CLI.run(args + ["--out", out])
        #expect(file.status == 0, "\(file.standardError)")
        #expect(file.standardError.contains("decay — scenario fast: 1001 rows, t = 0…10"))
        let stdout = try CLI.run(args + ["--out", "-"])
        #expect(try String(contentsOfFile: out, encoding: .utf8) == stdout.standardOutput)
        #expect(try files(dir) == ["decay.toml", "r.csv", "r.meta.json"])
    }

    /// `--out` naming a device or FIFO (`/dev/null`, a pipe to another program) is written into,
    /// never replaced by a file renamed over it (as root, that once turned `/dev/null` into a
    /// regular file), and nothing is written beside it. Tried on a FIFO of a temporary folder, read
    /// by a thread, so that a failure cannot harm the machine's `/dev/null`.
    @Test(arguments: [["run"], ["sweep", "--vary", "k=0.5:1:3"]])
    func aFIFOAsOutputIsWrittenIntoAndKept(_ command: [String]) throws {
        let (dir, model) = try setUp()
        let fifo = dir.appendingPathComponent("pipe.csv").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let received = Received()
        let reader = Thread {
            if let handle = FileHandle(forReadingAtPath: fifo) { received.set(handle.readDataToEndOfFile()) }
        }
        reader.start()
        let args = [command[0], model] + command.dropFirst() + ["--out", fifo]
        let result = try CLI.run(args)
        #expect(result.status == 0, "\(result.standardError)")
        for _ in 0..<500 where received.get() == nil { usleep(10_000) }
        let text = String(decoding: received.get() ?? Data(), as: UTF8.self)
        #expect(text.hasPrefix(command[0] == "run" ? "time," : "point,k,"), "\(text.prefix(80))")
        var status = stat()
        #expect(stat(fifo, &status) == 0 && (status.st_mode & S_IFMT) == S_IFIFO)
        #expect(try files(dir) == ["decay.toml", "pipe.csv"])
    }

    /// What the FIFO's reader got, handed across threads.
    final class Received: @unchecked Sendable {
        private let lock = NSLock()
        private var data: Data?
        func set(_ d: Data) { lock.withLock { data = d } }
        func get() -> Data? { lock.withLock { data } }
    }

    @Test func aFailedRunLeavesNothingBehind() throws {
        let (dir, model) = try setUp()
        // A second scenario that blows up (dA/dt = k·A² as a production reaction) after the
        // first was already streamed.
        let blowUp = model.replacingOccurrences(of: "decay.toml", with: "blow.toml")
        try Self.model.replacingOccurrences(
            of: "equation = \"A -> B\"\nforward = \"k\"", with: "equation = \"-> A\"\nrate = \"k * A * A\""
        )
        .replacingOccurrences(of: "name = \"fast\"", with: "name = \"blow_up\"")
        .replacingOccurrences(of: "k = 2 }", with: "k = 20 }")
        .write(toFile: blowUp, atomically: true, encoding: .utf8)
        let result = try CLI.run([
            "run", blowUp, "--scenario", "default,blow_up", "--t-end", "0.3", "--out",
            dir.appendingPathComponent("new/dir/b.csv").path,
        ])
        #expect(result.status == 1)
        #expect(result.standardError.contains("(scenario 'blow_up') failed"), "\(result.standardError)")
        #expect(try files(dir) == ["blow.toml", "decay.toml"])
    }

    @Test func interruptedRunRemovesItsTemporaryFile() throws {
        let (dir, model) = try setUp()
        let process = try CLI.start([
            "run", model, "--t-end", "1e6", "--output-interval", "0.05", "--out",
            dir.appendingPathComponent("long.csv").path,
        ])
        // Interrupt once rows are on disk under the temporary name.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let temporary = try files(dir).first { $0.hasPrefix(".long.csv.tmp-") }
            if let temporary,
                let size = try? FileManager.default.attributesOfItem(
                    atPath: dir.appendingPathComponent(temporary).path)[.size] as? Int, size > 0
            {
                break
            }
            usleep(2000)
        }
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        #expect(try files(dir) == ["decay.toml"])
    }

    @Test func nonFiniteValuesOnTheCommandLineAreRefused() throws {
        let (dir, model) = try setUp()
        let out = dir.appendingPathComponent("r.csv").path
        expectRefusal(
            try CLI.run(["run", model, "--set", "k=nan", "--out", out]), ["--set k=nan: the value must be finite."])
        expectRefusal(
            try CLI.run(["run", model, "--set", "A=inf", "--out", out]), ["--set A=inf: the value must be finite."])
        expectRefusal(
            try CLI.run(["run", model, "--output-interval", "nan", "--out", out]),
            ["--output-interval must be a positive number, not nan."])
        expectRefusal(
            try CLI.run(["run", model, "--t-end", "nan", "--out", out]),
            ["--t-end nan must be later than the start time 0.0."])
        expectRefusal(try CLI.run(["run", model, "--rtol", "inf", "--out", out]), ["invalid solver settings"])
        #expect(try files(dir) == ["decay.toml"])
    }

    // MARK: sweep

    @Test func sweepSizesThatOverflowOrCannotFinishAreRefused() throws {
        let (dir, model) = try setUp()
        let out = dir.appendingPathComponent("s.csv").path
        expectRefusal(
            try CLI.run(["sweep", model, "--vary", "k=0:1:4294967296", "--vary", "A=0:1:4294967296", "--out", out]),
            ["the sweep would have 4294967296 × 4294967296 = 1.84e+19 points, more than can be counted"])
        expectRefusal(
            try CLI.run(["sweep", model, "--vary", "k=0:1:1000000", "--vary", "A=0:1:1000000", "--out", out]),
            ["the sweep would write 1000000000000 rows", "--max-rows 1000000000000"])
        expectRefusal(
            try CLI.run(["sweep", model, "--vary", "k=0:1", "--samples", "10000000000", "--out", out]),
            ["the sweep would write 10000000000 rows"])
        expectRefusal(
            try CLI.run([
                "sweep", model, "--vary", "k=0.1:1:4", "--trajectories", dir.appendingPathComponent("t.csv").path,
                "--t-end", "1e6", "--output-interval", "0.001", "--out", out,
            ]),
            [
                "--trajectories (4 points × 1000000001 output times) would write 4000000004 rows",
                "--max-rows 4000000004",
            ])
        expectRefusal(
            try CLI.run(["sweep", model, "--follow", "k=0.1:1:1000000000", "--out", out]),
            ["--follow (1000000000 values up and down) would write 2000000000 rows", "--max-rows 2000000000"])
        expectRefusal(
            try CLI.run(["sweep", model, "--follow", "k=0.1:1:1e9", "--out", out]),
            ["the number of grid points must be a whole number ≥ 1."])
        #expect(try files(dir) == ["decay.toml"])
    }

    @Test func refusedSweepsLeaveNoPartialFile() throws {
        let (dir, model) = try setUp()
        let out = dir.appendingPathComponent("s.csv").path
        for (flags, message) in [
            (["--set", "A=-1"], "--set A=-1.0: an initial concentration must be ≥ 0."),
            (["--atol", "nan"], "invalid solver settings"), (["--rtol", "1e309"], "invalid solver settings"),
        ] {
            let result = try CLI.run(
                [
                    "sweep", model, "--vary", "k=0.1:1:4", "--trajectories", dir.appendingPathComponent("t.csv").path,
                    "--out", out,
                ] + flags)
            expectRefusal(result, [message])
            #expect(try files(dir) == ["decay.toml"], "\(flags)")
        }
    }

    @Test func aNegativeSeedInTheModelIsRefused() throws {
        let (dir, model) = try setUp(
            """
            [sweep]
            vary = ["k=0.1:1"]
            samples = 4
            seed = -1
            """)
        expectRefusal(try CLI.run(["sweep", model]), ["[sweep] seed = -1: a seed must be a whole number ≥ 0."])
        #expect(try files(dir) == ["decay.toml"])
        let flag = try CLI.run(["sweep", model, "--seed", "-1"])
        #expect(flag.status != 0)
    }

    // MARK: files a model names

    @Test func aModelNamesFilesOnlyInsideItsFolder() throws {
        let (dir, model) = try setUp()
        let cases = [
            ("points = \"/etc/passwd\"", "[sweep] points = \"/etc/passwd\""),
            ("points = \"../p.csv\"", "[sweep] points = \"../p.csv\""),
            ("vary = [\"k=0.1:1:3\"]\nout = \"../x.csv\"", "[sweep] out = \"../x.csv\""),
            ("vary = [\"k=0.1:1:3\"]\nout = \"a/../../x.csv\"", "[sweep] out = \"a/../../x.csv\""),
        ]
        for (table, quoted) in cases {
            let path = dir.appendingPathComponent("named.toml").path
            try (Self.model + "\n[sweep]\n" + table + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            let result = try CLI.run(["sweep", path])
            expectRefusal(result, [quoted + ": a model file may name files only inside its own folder"])
            #expect(!result.standardError.contains("root:"))
        }
        #expect(
            !FileManager.default.fileExists(
                atPath: dir.deletingLastPathComponent().appendingPathComponent("x.csv").path))
        // Inside its folder, relative to the model file (not to the working directory).
        try "k\n0.1\n0.2\n".write(to: dir.appendingPathComponent("p.csv"), atomically: true, encoding: .utf8)
        try (Self.model + "\n[sweep]\npoints = \"p.csv\"\nout = \"results/s.csv\"\n").write(
            toFile: model, atomically: true, encoding: .utf8)
        let inside = try CLI.run(["sweep", model])
        #expect(inside.status == 0, "\(inside.standardError)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("results/s.csv").path))
        // The command line may name any path.
        let elsewhere = dir.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let flags = try CLI.run([
            "sweep", model, "--points", dir.appendingPathComponent("p.csv").path, "--out",
            elsewhere.appendingPathComponent("../flag.csv").path,
        ])
        #expect(flags.status == 0, "\(flags.standardError)")
    }

    @Test func aPointsFileIsQuotedOnlyAsAShortEscapedExcerpt() throws {
        let (dir, model) = try setUp()
        let points = dir.appendingPathComponent("p.csv").path
        try ("root:x:0:0:root:/root:/bin/bash" + String(repeating: "s", count: 200) + "\u{1b}[2J\n1\n").write(
            toFile: points, atomically: true, encoding: .utf8)
        let result = try CLI.run([
            "sweep", model, "--points", points, "--out", dir.appendingPathComponent("s.csv").path,
        ])
        expectRefusal(result, ["'root:x:0:0:root:/root:/bin/bashsssssssss…'"])
        #expect(!result.standardError.contains("\u{1b}"))
        #expect(result.standardError.count < 300)
    }

    @Test func malformedPointFilesAreRefused() throws {
        let (dir, model) = try setUp()
        let points = dir.appendingPathComponent("p.csv").path
        for (text, message) in [
            ("k\n1\n2,3\n", "row 3 has 2 values for 1 columns."),
            ("k\nabc\n", "row 2 has 'abc', which is not a finite number."),
            ("", "the file is empty; it needs a header row of names."),
            ("k\n1e999\n", "row 2 has '1e999', which is not a finite number."),
        ] {
            try text.write(toFile: points, atomically: true, encoding: .utf8)
            expectRefusal(
                try CLI.run(["sweep", model, "--points", points, "--out", dir.appendingPathComponent("s.csv").path]),
                ["--points \(points): \(message)"])
        }
        #expect(try files(dir) == ["decay.toml", "p.csv"])
    }

    // MARK: merge

    @Test func mergeDoesNotTrustThePointCountOfASidecar() throws {
        let (dir, model) = try setUp()
        let shard = dir.appendingPathComponent("shard.csv").path
        let made = try CLI.run(["sweep", model, "--vary", "k=0.1:1:4", "--out", shard])
        #expect(made.status == 0, "\(made.standardError)")
        let metaPath = dir.appendingPathComponent("shard.meta.json").path
        let meta = try String(contentsOfFile: metaPath, encoding: .utf8)
        try meta.replacingOccurrences(of: "\"points\" : 4", with: "\"points\" : 1000000000000").write(
            toFile: metaPath, atomically: true, encoding: .utf8)
        let started = Date()
        let merged = try CLI.run(["merge", shard, "--out", dir.appendingPathComponent("m.csv").path])
        expectRefusal(
            merged,
            [
                "merge: 999999999996 of 1000000000000 points are missing (5, 6, 7, 8, 9, 10, 11, 12, 13, 14, …); add "
                    + "the missing shards."
            ])
        #expect(Date().timeIntervalSince(started) < 10)
        try meta.replacingOccurrences(of: "\"points\" : 4", with: "\"points\" : 2").write(
            toFile: metaPath, atomically: true, encoding: .utf8)
        expectRefusal(
            try CLI.run(["merge", shard, "--out", dir.appendingPathComponent("m.csv").path]),
            ["lies outside the sweep's 2 points"])
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("m.csv").path))
    }
}
