import Foundation
import TestSupport
import Testing

/// `stat3sim fit` and `stat3sim profile` as a user runs them, on the straight-line problem of
/// Tests/Fixtures/petab_line (intercept + slope·t, σ = 0.5 at t = 0…5), whose maximum-likelihood
/// estimate is ordinary least squares: intercept 1.0714285714, slope 1.9657142857 (by the normal
/// equations, Σt = 15, Σt² = 55, Σy = 36.1, Σty = 126.6), and whose 95 % intervals are
/// b̂ ± √(3.84 σ² (XᵀX)⁻¹ᵢᵢ) with (XᵀX)⁻¹ = [[55, −15], [−15, 6]] / 105.
@Suite("stat3sim fit and stat3sim profile, end to end")
struct FitCLITests {
    static let problem = Fixtures.path("petab_line/line.yaml")
    static let estimate = (intercept: 109 / 105.0, slope: 209.1 / 105)

    static func rows(_ path: URL) throws -> [[String]] {
        try String(contentsOf: path, encoding: .utf8).split(separator: "\n").map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
    }

    /// `--hierarchical` on Tests/Fixtures/petab_scaled (A = e^{−kt} observed as scale·A, σ = 0.1):
    /// every row's scale is the closed form Σ m e^{−kt} / Σ e^{−2kt} at the row's k.
    @Test func hierarchicalFitsWriteTheClosedFormScaling() throws {
        let folder = try temporaryFolder("fit-hierarchical")
        let out = folder.appendingPathComponent("decay_fit.csv")
        let result = try CLI.run([
            "fit", Fixtures.path("petab_scaled/decay.yaml"), "--starts", "3", "--jobs", "2", "--hierarchical",
            "--out", out.path,
        ])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.contains("hierarchical: scale in closed form"))
        let rows = try Self.rows(out)
        #expect(rows[0] == ["start", "status", "nll", "iterations", "evaluations", "seconds", "k", "scale", "scale_b"])
        let times = [0.5, 1, 2, 4]
        let data = [2.3, 1.5, 0.8, 0.25]
        for row in rows.dropFirst() {
            #expect(row[1].hasPrefix("converged"))
            let k = pow(10, Double(row[6])!)
            let g = times.map { exp(-k * $0) }
            let scale = zip(data, g).reduce(0) { $0 + $1.0 * $1.1 } / g.reduce(0) { $0 + $1 * $1 }
            #expect(abs(Double(row[7])! - log10(scale)) < 1e-6)
        }
    }

    @Test func everyStartIsARowAndTheBestIsAParameterTable() throws {
        let folder = try temporaryFolder("fit")
        let out = folder.appendingPathComponent("line_fit.csv")
        let result = try CLI.run([
            "fit", Self.problem, "--starts", "4", "--seed", "3", "--jobs", "2", "--out", out.path,
        ])
        #expect(result.status == 0, "\(result.standardError)")
        let rows = try Self.rows(out)
        #expect(rows[0] == ["start", "status", "nll", "iterations", "evaluations", "seconds", "intercept", "slope"])
        #expect(rows.dropFirst().map { $0[0] } == ["1", "2", "3", "4"])
        for row in rows.dropFirst() {
            #expect(row[1].hasPrefix("converged"))
            #expect(abs(Double(row[6])! - Self.estimate.intercept) < 1e-8)
            #expect(abs(Double(row[7])! - Self.estimate.slope) < 1e-8)
        }
        #expect(result.standardError.contains("4 of 4 starts within 0.1 of it"))
        let best = try String(
            contentsOf: folder.appendingPathComponent("line_fit_best.tsv"), encoding: .utf8)
        // The table evaluates to the optimum with `petab nll --parameters`.
        #expect(best.hasPrefix("parameterId\tparameterScale\tlowerBound\tupperBound\tnominalValue\testimate\n"))
        let nll = try CLI.run([
            "petab", "nll", Self.problem, "--json", "--parameters",
            folder.appendingPathComponent("line_fit_best.tsv").path,
        ])
        #expect(nll.status == 0, "\(nll.standardError)")
        let printed = nll.standardOutput.split(separator: ",")[0].split(separator: ":")[1]
        #expect(abs(Double(printed.trimmingCharacters(in: .whitespaces))! - Double(rows[1][2])!) < 1e-9)
        let meta = try String(contentsOf: folder.appendingPathComponent("line_fit.meta.json"), encoding: .utf8)
        #expect(meta.contains("\"complete\" : true"))
        #expect(meta.contains("\"fingerprint\""))
    }

    /// Two shards merge into the unsharded file; an interrupted fit resumes without repeating its
    /// finished starts (and drops a line the interruption cut).
    @Test func shardsMergeAndAnInterruptedFitResumes() throws {
        let folder = try temporaryFolder("fit-shards")
        func path(_ name: String) -> String { folder.appendingPathComponent(name).path }
        let common = [Self.problem, "--starts", "5", "--seed", "11", "--jobs", "1"]
        for arguments in [
            ["--out", path("all.csv")], ["--shard", "1/2", "--out", path("s1.csv")],
            ["--shard", "2/2", "--out", path("s2.csv")],
        ] {
            let result = try CLI.run(["fit"] + common + arguments)
            #expect(result.status == 0, "\(result.standardError)")
        }
        #expect(try Self.rows(URL(fileURLWithPath: path("s1.csv"))).dropFirst().map { $0[0] } == ["1", "3", "5"])
        let merge = try CLI.run(["merge", path("s1.csv"), path("s2.csv"), "--out", path("merged.csv")])
        #expect(merge.status == 0, "\(merge.standardError)")
        // Equal but for the seconds column.
        func withoutSeconds(_ p: String) throws -> [[String]] {
            try Self.rows(URL(fileURLWithPath: p)).map { row in
                row.enumerated().filter { $0.offset != 5 }.map(\.element)
            }
        }
        #expect(try withoutSeconds(path("merged.csv")) == withoutSeconds(path("all.csv")))

        // An interruption after two starts and part of a third.
        let lines = try String(contentsOfFile: path("all.csv"), encoding: .utf8).split(separator: "\n")
        let partial = lines[0...2].joined(separator: "\n") + "\n" + lines[3].prefix(12) + "\n"
        try partial.write(toFile: path("again.csv.partial"), atomically: true, encoding: .utf8)
        let meta = try String(contentsOfFile: path("all.meta.json"), encoding: .utf8)
        try meta.replacingOccurrences(of: "\"complete\" : true", with: "\"complete\" : false").write(
            toFile: path("again.csv.partial.meta.json"), atomically: true, encoding: .utf8)
        let refused = try CLI.run(["fit"] + common + ["--out", path("again.csv")])
        #expect(refused.status != 0)
        #expect(refused.standardError.contains("Continue it with --resume"))
        let resumed = try CLI.run(["fit"] + common + ["--out", path("again.csv"), "--resume"])
        #expect(resumed.status == 0, "\(resumed.standardError)")
        #expect(resumed.standardError.contains("resuming: 2 of 5 starts"))
        #expect(!resumed.standardError.contains("start 1/5"))
        #expect(resumed.standardError.contains("start 3/5"))
        #expect(try withoutSeconds(path("again.csv")) == withoutSeconds(path("all.csv")))
        // Another seed is another fit: its rows are not resumed.
        try partial.write(toFile: path("again.csv.partial"), atomically: true, encoding: .utf8)
        try meta.write(toFile: path("again.csv.partial.meta.json"), atomically: true, encoding: .utf8)
        let other = try CLI.run([
            "fit", Self.problem, "--starts", "5", "--seed", "12", "--out", path("again.csv"), "--resume",
        ])
        #expect(other.status != 0)
        #expect(other.standardError.contains("comes from a different fit"))
    }

    @Test func profileIntervalsAreTheClosedFormOnes() throws {
        let folder = try temporaryFolder("profile")
        let table = folder.appendingPathComponent("start.tsv")
        try "parameterId\tvalue\nintercept\t0.5\nslope\t2.5\n".write(to: table, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("line_profiles.csv")
        let result = try CLI.run(["profile", Self.problem, "--parameters", table.path, "--out", out.path])
        #expect(result.status == 0, "\(result.standardError)")
        let intervals = try Self.rows(folder.appendingPathComponent("line_profiles_intervals.csv"))
        #expect(
            intervals[0] == [
                "parameter", "scale", "optimum", "lower", "upper", "lower_end", "upper_end", "lower_linear",
                "upper_linear",
            ])
        let variance = ["intercept": 55 / 105.0, "slope": 6 / 105.0]
        let estimates = ["intercept": Self.estimate.intercept, "slope": Self.estimate.slope]
        for row in intervals.dropFirst() {
            let half = (3.84 * 0.25 * variance[row[0]]!).squareRoot()
            #expect(abs(Double(row[3])! - (estimates[row[0]]! - half)) < 1e-3 * half, "\(row)")
            #expect(abs(Double(row[4])! - (estimates[row[0]]! + half)) < 1e-3 * half, "\(row)")
            #expect(row[5] == "crossed" && row[6] == "crossed")
        }
        let unknown = try CLI.run(["profile", Self.problem, "--parameters", table.path, "--names", "slop"])
        #expect(unknown.status != 0)
        #expect(unknown.standardError.contains("'slop' is not an estimated parameter"))
        #expect(unknown.standardError.contains("slope"))
    }
}
