import Foundation
import TestSupport
import Testing

/// Models/bionetgen/NAME.
private func network(_ name: String) -> String {
    Fixtures.folder.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Models/bionetgen/\(name)").path
}

@Suite("BioNetGen networks on the command line")
struct BioNetGenCLITests {
    /// `run` reads the .net directly, and `import` writes a model file that runs to the same numbers.
    @Test func runAndImportAgree() throws {
        let dir = try temporaryFolder("bngnet")
        defer { try? FileManager.default.removeItem(at: dir) }
        let toml = dir.appendingPathComponent("multistate.toml").path
        let imported = try CLI.run(["import", network("multistate.net"), "--out", toml])
        #expect(imported.status == 0)
        #expect(imported.standardError == "wrote \(toml) (9 species, 18 reactions, 0 events)\n")
        let text = try String(contentsOfFile: toml, encoding: .utf8)
        #expect(
            text.contains(#"S7 = { initial = 0, compartment = "cell", description = "A(Y~P,r!1).L(r!2).R(a!1,l!2)" }"#))
        #expect(text.contains(#"A_P = "S7 + S8 + S9""#))

        var csv: [String] = []
        for (model, name) in [(network("multistate.net"), "net.csv"), (toml, "toml.csv")] {
            let out = dir.appendingPathComponent(name).path
            let run = try CLI.run(["run", model, "--t-end", "20", "--output-interval", "5", "--out", out])
            #expect(run.status == 0, "\(run.standardError)")
            csv.append(try String(contentsOfFile: out, encoding: .utf8))
        }
        #expect(csv[0] == csv[1])
        #expect(csv[0].hasPrefix("time,S1,S2,S3,S4,S5,S6,S7,S8,S9,A_P,A_unbound_P,A_bound_P,RLA_P\n"))
    }

    @Test func malformedNetworkIsOneLineNamingFileAndLine() throws {
        let dir = try temporaryFolder("bngnet-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.net").path
        try "begin species\n  1 A() 1\nend species\nbegin reactions\n  1 1 0 kdeg\nend reactions\n"
            .write(toFile: bad, atomically: true, encoding: .utf8)
        let result = try CLI.run(["check", bad])
        #expect(result.status == 1)
        #expect(
            result.standardError
                == "\(bad):5: the rate law of reaction 1 \"kdeg\" uses 'kdeg', which is not a parameter.\n")
    }

    @Test func benchLoadPrintsJSON() throws {
        let result = try CLI.run(["bench-load", network("multisite2.net"), "--repeats", "2"])
        #expect(result.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
        #expect(json?["species"] as? Int == 66)
        #expect(json?["reactions"] as? Int == 288)
        #expect((json?["read_median_ms"] as? Double ?? -1) >= 0)
    }

    /// `--linear-solver` reaches the solver: on egfr_net (356 species) the counters of the sparse LU
    /// and of the Krylov path (the automatic choice there) say so in the summary and the sidecar,
    /// and `dense` gives the same end state (the Krylov path's to the tolerance).
    @Test func linearSolverOptionAndSparseCounters() throws {
        let dir = try temporaryFolder("bngnet-klu")
        defer { try? FileManager.default.removeItem(at: dir) }
        var ends: [[Double]] = []
        let solvers = ["sparse", "automatic", "dense"]
        for solver in solvers {
            let out = dir.appendingPathComponent("\(solver).csv").path
            let run = try CLI.run([
                "run", network("egfr_net.net"), "--t-end", "10", "--output-interval", "10", "--rtol", "1e-6", "--atol",
                "1e-9", "--linear-solver", solver, "--stats", "--out", out,
            ])
            #expect(run.status == 0, "\(run.standardError)")
            #expect(run.standardError.contains("(sparse: 1 factorisations,") == (solver == "sparse"))
            #expect(run.standardError.contains("linear iterations") == (solver == "automatic"))
            let meta = try String(
                contentsOfFile: dir.appendingPathComponent("\(solver).meta.json").path, encoding: .utf8)
            #expect(meta.contains(#""sparse_factorizations" : 1"#) == (solver == "sparse"), "\(meta)")
            #expect(meta.contains(#""preconditioner_setups" : 0"#) == (solver != "automatic"), "\(meta)")
            #expect(meta.contains(#""linear_iterations""#), "\(meta)")
            let last = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").last!
            ends.append(last.split(separator: ",").map { Double($0)! })
        }
        let scale = ends[2].map(abs).max()!
        for (x, y) in zip(ends[0], ends[2]) { #expect(abs(x - y) <= 1e-6 * max(abs(y), 1e-6 * scale)) }
        for (x, y) in zip(ends[1], ends[2]) { #expect(abs(x - y) <= 10 * (1e-6 * abs(y) + 1e-9)) }

        let bench = try CLI.run([
            "bench-model", network("egfr_net.net"), "--t-end", "1", "--repeats", "2", "--linear-solver", "sparse",
        ])
        #expect(bench.status == 0, "\(bench.standardError)")
        let json = try JSONSerialization.jsonObject(with: Data(bench.standardOutput.utf8)) as? [String: Any]
        #expect(json?["sparse"] as? Bool == true)
        #expect(json?["repeats"] as? Int == 2)
        #expect((json?["end_state"] as? [String: Double])?.count == 356)
    }
}
