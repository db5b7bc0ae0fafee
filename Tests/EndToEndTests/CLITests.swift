import Foundation
import TestSupport
import Testing

@Suite("stat3sim command line, end to end")
struct CLITests {
    @Test func demoSolvesRobertsonAndPrintsStatistics() throws {
        let result = try CLI.run(["demo"])
        #expect(result.status == 0)
        #expect(result.standardOutput.contains("ROBER to 1e5"))
        #expect(result.standardOutput.contains("steps "))
        #expect(result.standardOutput.contains("LU factorisations"))
        // The printed error must be within the tolerance scale.
        let line = result.standardOutput.split(separator: "\n").first { $0.contains("max abs error") }
        let value = line.flatMap { Double($0.split(separator: " ")[3].trimmingCharacters(in: .punctuationCharacters)) }
        #expect(value != nil && value! < 1e-5)
    }

    @Test func benchSolverPrintsJSONWithCounts() throws {
        let result = try CLI.run(["bench-solver", "pollu", "--repeats", "3"])
        #expect(result.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
        #expect(json?["steps"] as? Int == 274)
        #expect((json?["max_abs_error"] as? Double).map { $0 < 1e-6 } == true)
    }

    @Test func unknownProblemIsAnErrorNamingTheChoices() throws {
        let result = try CLI.run(["demo", "robber"])
        #expect(result.status != 0)
        #expect(result.standardError.contains("Unknown problem 'robber'"))
        #expect(result.standardError.contains("rober"))
    }

    @Test func helpDescribesEveryCommand() throws {
        let result = try CLI.run(["--help"])
        #expect(result.status == 0)
        #expect(result.standardOutput.contains("demo"))
        #expect(result.standardOutput.contains("bench-solver"))
        let demoHelp = try CLI.run(["demo", "--help"])
        #expect(demoHelp.standardOutput.contains("Examples"))
    }
}

@Suite("stat3sim run and check, end to end")
struct RunCommandTests {
    /// L + R ⇌ LR with a scenario (Tests/Fixtures/binding.toml).
    static let model = Fixtures.text("binding.toml")

    @Test func runWritesCSVAndMetadata() throws {
        let (dir, modelPath) = try folder("e2e", holding: Self.model, as: "binding.toml")
        let out = dir.appendingPathComponent("out/binding.csv").path
        let result = try CLI.run(["run", modelPath, "--out", out])
        #expect(result.status == 0, "\(result.standardError)")
        let csv = try String(contentsOfFile: out, encoding: .utf8)
        let lines = csv.split(separator: "\n")
        #expect(lines.first == "time,L,R,LR,bound")
        #expect(lines.count == 12)
        let meta =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: dir.appendingPathComponent("out/binding.meta.json").path)))
            as? [String: Any]
        #expect((meta?["model"] as? [String: Any])?["name"] as? String == "binding")
        #expect((meta?["units"] as? [String: Any])?["time"] as? String == "min")
        #expect(result.standardError.contains("bound"))
        #expect(result.standardError.contains("peak"))
        // No temporary files are left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("out").path)
        #expect(Set(leftovers) == ["binding.csv", "binding.meta.json"])
    }

    @Test func runToStandardOutputWithScenariosAndOverrides() throws {
        let (dir, modelPath) = try folder("e2e", holding: Self.model, as: "binding.toml")
        let all = try CLI.run(["run", modelPath, "--scenario", "all", "--out", "-", "--t-end", "4", "--set", "kon=1"])
        #expect(all.status == 0, "\(all.standardError)")
        let lines = all.standardOutput.split(separator: "\n")
        #expect(lines.first == "scenario,time,L,R,LR,bound")
        #expect(lines.count == 1 + 2 * 5)
        #expect(lines[1].hasPrefix("default,0.0,1.0,2.0,0.0,"))
        #expect(lines[6].hasPrefix("tight,0.0,"))
    }

    @Test func exportWritesSBMLWithScenarioValues() throws {
        let (dir, modelPath) = try folder("e2e", holding: Self.model, as: "binding.toml")
        let out = dir.appendingPathComponent("sbml/binding.xml").path
        let result = try CLI.run(["export", modelPath, "--out", out, "--scenario", "tight"])
        #expect(result.status == 0, "\(result.standardError)")
        let xml = try String(contentsOfFile: out, encoding: .utf8)
        #expect(xml.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"))
        #expect(xml.contains("level=\"3\" version=\"2\""))
        #expect(xml.contains("<parameter id=\"koff\" value=\"0.01\" constant=\"true\"/>"))
        #expect(xml.contains("<assignmentRule variable=\"bound\">"))
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("sbml").path) == [
                "binding.xml"
            ])
        let toStdout = try CLI.run(["export", modelPath, "--out", "-"])
        #expect(toStdout.status == 0 && toStdout.standardOutput.contains("<parameter id=\"koff\" value=\"0.1\""))
        let unknown = try CLI.run(["export", modelPath, "--out", "-", "--scenario", "tite"])
        #expect(unknown.status == 1)
        #expect(unknown.standardError.contains("no scenario 'tite'"))
        #expect(unknown.standardOutput.isEmpty)
    }

    @Test func malformedModelPrintsOneParagraphAndWritesNothing() throws {
        let (dir, modelPath) = try folder(
            "e2e", holding: Self.model.replacingOccurrences(of: "forward = \"kon\"", with: "forward = \"kom\""),
            as: "bad.toml")
        let out = dir.appendingPathComponent("bad.csv").path
        let result = try CLI.run(["run", modelPath, "--out", out])
        #expect(result.status == 1)
        #expect(
            result.standardError
                == "\(modelPath):16: the forward rate constant of reaction 'R1' \"kom\" uses 'kom', which is not a "
                + "species, parameter, compartment or observable (did you mean 'kon'?).\n"
        )
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func unknownScenarioIsAnErrorWithSuggestions() throws {
        let (dir, modelPath) = try folder("e2e", holding: Self.model, as: "binding.toml")
        let result = try CLI.run(["run", modelPath, "--scenario", "tigth", "--out", "-"])
        #expect(result.status == 1)
        #expect(
            result.standardError
                == "\(modelPath): the model has no scenario 'tigth' (did you mean 'tight'?); its scenarios are tight.\n"
        )
    }

    @Test func checkDescribesTheModel() throws {
        let (dir, modelPath) = try folder("e2e", holding: Self.model, as: "binding.toml")
        let result = try CLI.run(["check", modelPath])
        #expect(result.status == 0)
        #expect(result.standardOutput.contains("valid. 3 species, 1 reaction,"))
        #expect(result.standardOutput.contains("L + LR = constant"))
        #expect(result.standardOutput.contains("R + LR = constant"))
        #expect(result.standardOutput.contains("No warnings."))
    }
}

@Suite("stat3sim sweep and merge, end to end")
struct SweepCommandTests {
    /// A → B → ∅ with a tunable rate; cheap enough for hundreds of points.
    static let model = """
        [model]
        name = "bateman"
        [species]
        A = 2
        B = 0
        [parameters]
        k1 = 0.5
        k2 = 0.2
        [observables]
        B2 = "2 * B"
        [[reactions]]
        equation = "A -> B"
        forward = "k1"
        [[reactions]]
        equation = "B ->"
        rate = "k2 * B * log(k2 + 1) / log(k2 + 1)"
        [simulation]
        t_end = 30
        [[scenarios]]
        name = "fast"
        parameters = { k2 = 1 }
        """

    func setUp() throws -> (dir: URL, model: String) {
        try folder("sweep", holding: Self.model, as: "bateman.toml")
    }

    @Test func outputIsIdenticalForOneAndTwoJobs() throws {
        let (dir, model) = try setUp()
        let common = [model, "--vary", "k1=0.1:2:12:log", "--vary", "k2=0.05:0.5:5", "--scenario", "all"]
        let one = try CLI.run(
            ["sweep"] + common + ["--jobs", "1", "--out", dir.appendingPathComponent("one.csv").path])
        let two = try CLI.run(
            ["sweep"] + common + ["--jobs", "2", "--out", dir.appendingPathComponent("two.csv").path])
        #expect(one.status == 0 && two.status == 0, "\(one.standardError) \(two.standardError)")
        let a = try read(dir.appendingPathComponent("one.csv"))
        let b = try read(dir.appendingPathComponent("two.csv"))
        #expect(a == b)
        let lines = a.split(separator: "\n")
        #expect(lines.count == 1 + 12 * 5 * 2)
        #expect(lines[0] == "point,scenario,k1,k2,status,message,B2__peak,B2__time_to_peak,B2__auc,B2__final")
        #expect(lines[1].hasPrefix("1,default,0.1,0.05,ok,,"))
        #expect(lines[2].hasPrefix("2,fast,0.1,0.05,ok,,"))
        let meta =
            try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("one.meta.json")))
            as? [String: Any]
        #expect((meta?["totals"] as? [String: Int])?["points"] == 120)
        #expect(meta?["complete"] as? Bool == true)
    }

    @Test func shardsMergeIntoTheUnshardedFile() throws {
        let (dir, model) = try setUp()
        let sampled = [
            model, "--vary", "k1=0.1:2", "--vary", "k2=0.01:1:log", "--samples", "13", "--method", "lhs", "--seed",
            "42", "--jobs", "1",
        ]
        let whole = try CLI.run(["sweep"] + sampled + ["--out", dir.appendingPathComponent("whole.csv").path])
        #expect(whole.status == 0, "\(whole.standardError)")
        var shards: [String] = []
        for i in 1...3 {
            let path = dir.appendingPathComponent("shard\(i).csv").path
            let r = try CLI.run(["sweep"] + sampled + ["--shard", "\(i)/3", "--out", path])
            #expect(r.status == 0, "\(r.standardError)")
            shards.append(path)
        }
        let merged = dir.appendingPathComponent("merged.csv").path
        let m = try CLI.run(["merge"] + shards.reversed() + ["--out", merged])
        #expect(m.status == 0, "\(m.standardError)")
        #expect(try read(URL(fileURLWithPath: merged)) == (try read(dir.appendingPathComponent("whole.csv"))))
        // A missing shard is refused, and so is a shard of another sweep.
        let incomplete = try CLI.run(["merge", shards[0], shards[1], "--out", dir.appendingPathComponent("x.csv").path])
        #expect(incomplete.status == 1)
        #expect(incomplete.standardError.contains("points are missing"))
        let other = dir.appendingPathComponent("other.csv").path
        _ = try CLI.run(["sweep"] + sampled.map { $0 == "42" ? "43" : $0 } + ["--shard", "3/3", "--out", other])
        let mixed = try CLI.run([
            "merge", shards[0], shards[1], other, "--out", dir.appendingPathComponent("y.csv").path,
        ])
        #expect(mixed.standardError.contains("different sweep"))
    }

    @Test func slurmArrayVariablesChooseTheShard() throws {
        let (dir, model) = try setUp()
        let out = dir.appendingPathComponent("s.csv").path
        let process = try CLI.start(
            ["sweep", model, "--vary", "k1=0.1:2:9", "--shard", "auto", "--out", out, "--jobs", "1"],
            environment: ["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "4"],
            quiet: false)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let points = try read(URL(fileURLWithPath: out)).split(separator: "\n").dropFirst().map {
            $0.prefix { $0 != "," }
        }
        #expect(points == ["3", "7"])
    }

    @Test func interruptedSweepResumesToTheSameFile() throws {
        let (dir, model) = try setUp()
        let args = [
            model, "--vary", "k1=0.1:2:60:log", "--vary", "k2=0.05:0.5:40", "--jobs", "2",
            "--metric", "peak:B", "--metric", "half_life:B", "--trajectories",
        ]
        let reference = try CLI.run(
            ["sweep"] + args + [
                dir.appendingPathComponent("ref_traj.csv").path, "--out", dir.appendingPathComponent("ref.csv").path,
            ])
        #expect(reference.status == 0)
        let out = dir.appendingPathComponent("run.csv").path
        let trajectories = dir.appendingPathComponent("run_traj.csv").path
        let process = try CLI.start(["sweep"] + args + [trajectories, "--out", out])
        // Interrupt once some rows are on disk.
        let partial = out + ".partial"
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: partial, encoding: .utf8), text.split(separator: "\n").count > 20
            {
                break
            }
            usleep(2000)
        }
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        if process.terminationStatus == 130 {
            #expect(FileManager.default.fileExists(atPath: partial))
            #expect(!FileManager.default.fileExists(atPath: out))
        }
        let resumed = try CLI.run(["sweep"] + args + [trajectories, "--out", out, "--resume"])
        if process.terminationStatus == 130 {
            #expect(resumed.status == 0, "\(resumed.standardError)")
            #expect(resumed.standardError.contains("kept from the interrupted run"))
        }
        #expect(try read(URL(fileURLWithPath: out)) == (try read(dir.appendingPathComponent("ref.csv"))))
        #expect(try read(URL(fileURLWithPath: trajectories)) == (try read(dir.appendingPathComponent("ref_traj.csv"))))
    }

    @Test func failedPointsSetTheExitStatus() throws {
        let (dir, model) = try setUp()
        // k2 = −1 makes log(k2 + 1) = −inf: that point fails, the others run.
        let r = try CLI.run(["sweep", model, "--vary", "k2=-1:2:3", "--out", dir.appendingPathComponent("f.csv").path])
        #expect(r.status == 3)
        let lines = try read(dir.appendingPathComponent("f.csv")).split(separator: "\n")
        #expect(lines[1].contains(",failed,"))
        #expect(lines[2].contains(",ok,"))
        #expect(lines[3].contains(",ok,"))
        #expect(r.standardError.contains("1 failed"))
    }
}

@Suite("The [sweep] table")
struct SweepTableTests {
    @Test func sweepTableSuppliesTheDefaultsAndFlagsOverrideThem() throws {
        // A model file names files inside its own folder: table.csv lands beside m.toml.
        let (dir, model) = try folder(
            "table",
            holding: SweepCommandTests.model + """

                [sweep]
                vary = ["k1=0.1:1:3"]
                metrics = ["peak:B"]
                out = "table.csv"
                """, as: "m.toml")
        let fromTable = try CLI.run(["sweep", model])
        #expect(fromTable.status == 0, "\(fromTable.standardError)")
        let text = try String(contentsOfFile: dir.appendingPathComponent("table.csv").path, encoding: .utf8)
        #expect(text.hasPrefix("point,k1,status,message,B__peak\n1,0.1,ok,,"))
        #expect(text.split(separator: "\n").count == 4)
        let overridden = try CLI.run([
            "sweep", model, "--vary", "k2=0.1:0.2:2", "--out", dir.appendingPathComponent("flags.csv").path,
        ])
        #expect(overridden.status == 0)
        let flags = try String(contentsOfFile: dir.appendingPathComponent("flags.csv").path, encoding: .utf8)
        #expect(flags.hasPrefix("point,k2,status,message,B__peak\n"))
    }
}

@Suite("stat3sim steady and sweep --follow, end to end")
struct SteadyCommandTests {
    /// Schlögl's model (Tests/Fixtures/schloegl.toml) at rest in its low state X = 1.
    static let schloegl = Fixtures.text("schloegl.toml").replacingOccurrences(of: "X = 0.5", with: "X = 1")

    @Test func steadyReportsStateAndStability() throws {
        let (dir, model) = try folder("steady", holding: Self.schloegl, as: "s.toml")
        let low = try CLI.run(["steady", model, "--set", "X=0.5", "--out", dir.appendingPathComponent("ss.csv").path])
        #expect(low.status == 0, "\(low.standardError)")
        #expect(low.standardOutput.contains("stable: largest real parts of the eigenvalues -2"))
        let csv = try String(contentsOfFile: dir.appendingPathComponent("ss.csv").path, encoding: .utf8)
        #expect(csv.contains("\nstable,1\n"))
        let unstable = try CLI.run(["steady", model, "--set", "X=2.05"])
        #expect(unstable.standardOutput.contains("UNSTABLE"))
        let follow = try CLI.run([
            "sweep", model, "--follow", "k3=5:7:21", "--out", dir.appendingPathComponent("f.csv").path,
        ])
        #expect(follow.status == 0, "\(follow.standardError)")
        #expect(follow.standardError.contains("bistable:"))
        #expect(
            follow.standardError.contains(
                "level: the branches differ for k3 in [5.7, 6.3]; the up branch switches between 6.3 and 6.4, the down "
                    + "branch between 5.6 and 5.7"
            ))
        let rows = try String(contentsOfFile: dir.appendingPathComponent("f.csv").path, encoding: .utf8).split(
            separator: "\n")
        #expect(rows[0] == "point,direction,k3,status,message,stable,largest_real_eigenvalue,residual,level")
        #expect(rows.count == 43)
    }
}
