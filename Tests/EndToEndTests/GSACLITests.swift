import Foundation
import TestSupport
import Testing

/// `stat3sim gsa` as a user runs it, on the Ishigami function (Tests/Fixtures/ishigami.toml),
/// whose Sobol' indices are known in closed form.
@Suite("stat3sim gsa, end to end")
struct GSACLITests {
    static let ishigami = Fixtures.path("ishigami.toml")
    static let pi = "3.141592653589793"
    static let ranges = ["x1", "x2", "x3"].flatMap { ["--vary", "\($0)=-\(pi):\(pi)"] }

    /// The rows of an indices file, by parameter: the numeric columns after `metric,parameter`.
    func indices(_ path: String) throws -> (header: String, rows: [String: [Double]]) {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        var rows: [String: [Double]] = [:]
        for line in lines.dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            rows[fields[1]] = fields.dropFirst(2).compactMap(Double.init)
        }
        return (lines[0], rows)
    }

    /// `stat3sim gsa ISHIGAMI --vary x1… x2… x3… ARGUMENTS --out DIR/OUT` in a fresh folder: the
    /// result and the indices file's path.
    func gsa(_ label: String, _ arguments: [String], out: String) throws -> (result: CLI.Result, out: String) {
        let path = try temporaryFolder(label).appendingPathComponent(out).path
        return (try CLI.run(["gsa", Self.ishigami] + Self.ranges + arguments + ["--out", path]), path)
    }

    /// S1 = 0.3139, 0.4424, 0 and ST = 0.5576, 0.4424, 0.2437 (Saltelli et al. 2008, §4.6), at
    /// 2¹⁴ base samples (81920 evaluations), each within the interval gsa reports for it.
    @Test func ishigamiIndicesAgreeWithTheirClosedFormWithinTheReportedIntervals() throws {
        let (result, out) = try gsa(
            "gsa-ishigami", ["--samples", "16384", "--metric", "final:Y", "--bootstrap", "300"],
            out: "ishigami_gsa.csv")
        #expect(result.status == 0, "\(result.standardError)")
        let (header, rows) = try indices(out)
        #expect(header == "metric,parameter,S1,S1_conf,ST,ST_conf")
        let exact = ["x1": (0.3139, 0.5576), "x2": (0.4424, 0.4424), "x3": (0.0, 0.2437)]
        for (name, (s1, st)) in exact {
            let row = try #require(rows[name])
            #expect(abs(row[0] - s1) <= row[1], "S1 of \(name): \(row[0]) ± \(row[1]), exact \(s1)")
            #expect(abs(row[2] - st) <= row[3], "ST of \(name): \(row[2]) ± \(row[3]), exact \(st)")
            #expect(row[1] < 0.03 && row[3] < 0.03)
        }
        // Without --points-out the points file is gone once the indices are written.
        #expect(!FileManager.default.fileExists(atPath: String(out.dropLast(4)) + ".points.csv"))
    }

    /// Two shards merged, then read by `--resume`, give the indices of one run, byte for byte.
    @Test func shardsMergedAndResumedGiveTheIndicesOfOneRun() throws {
        let dir = try temporaryFolder("gsa-shards")
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        let common = ["gsa", Self.ishigami] + Self.ranges + ["--samples", "64", "--metric", "final:Y"]
        let whole = try CLI.run(common + ["--out", path("whole.csv"), "--points-out", path("points.csv")])
        #expect(whole.status == 0, "\(whole.standardError)")
        for shard in ["1/2", "2/2"] {
            let part = try CLI.run(
                common + [
                    "--shard", shard, "--points-out", path("shard\(shard.prefix(1)).csv"), "--out", path("x.csv"),
                ])
            #expect(part.status == 0, "\(part.standardError)")
            #expect(part.standardError.contains("merge the shards' point files"))
        }
        #expect(!FileManager.default.fileExists(atPath: path("x.csv")))
        let merge = try CLI.run(["merge", path("shard1.csv"), path("shard2.csv"), "--out", path("merged.csv")])
        #expect(merge.status == 0, "\(merge.standardError)")
        let resumed = try CLI.run(
            common + ["--out", path("resumed.csv"), "--points-out", path("merged.csv"), "--resume"])
        #expect(resumed.status == 0, "\(resumed.standardError)")
        #expect(resumed.standardError.contains("holds every point of this analysis; reading it"))
        #expect(try read(dir.appendingPathComponent("resumed.csv")) == read(dir.appendingPathComponent("whole.csv")))
        // Another analysis is not read from that file.
        let other = try CLI.run(
            ["gsa", Self.ishigami] + Self.ranges + [
                "--samples", "32", "--metric", "final:Y", "--out", path("o.csv"), "--points-out",
                path("merged.csv"), "--resume",
            ])
        #expect(other.status == 1)
        #expect(other.standardError.contains("comes from a different analysis or model (fingerprint differs)"))
    }

    @Test func morrisWritesMuStarAndSigmaPerName() throws {
        let dir = try temporaryFolder("gsa-morris")
        let out = dir.appendingPathComponent("m.csv").path
        let result = try CLI.run(
            ["gsa", Self.ishigami] + Self.ranges + [
                "--method", "morris", "--samples", "40", "--levels", "6", "--metric", "final:Y", "--out", out,
                "--points-out", dir.appendingPathComponent("p.csv").path,
            ])
        #expect(result.status == 0, "\(result.standardError)")
        let (header, rows) = try indices(out)
        #expect(header == "metric,parameter,mu_star,mu_star_conf,sigma")
        #expect(rows.count == 3)
        let points = try read(dir.appendingPathComponent("p.csv")).split(separator: "\n")
        #expect(points.count == 1 + 40 * 4)
        // Every name matters to the Ishigami function, and x3 only through its interaction with x1
        // (its effects vary with sin(x1)): σ > 0. SALib's numbers are Scripts/crosscheck-gsa's job.
        for name in ["x1", "x2", "x3"] { #expect(rows[name]![0] > 0.5 && rows[name]![1] > 0) }
        #expect(rows["x3"]![2] > 1)
    }

    /// half_life of a constant observable is never reached: no value at any point, so no indices.
    @Test func aMetricWithoutValuesIsRefusedWithExitStatus3() throws {
        let (result, out) = try gsa(
            "gsa-refused", ["--samples", "8", "--metric", "half_life:Y", "--metric", "final:Y"], out: "r.csv")
        #expect(result.status == 3)
        #expect(
            result.standardError.contains(
                "Y__half_life: no value at 40 of 40 points (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, …); the indices need every "
                    + "point, so none are computed for it"))
        let (_, rows) = try indices(out)
        #expect(rows.count == 3)  // final:Y's rows only
    }

    @Test func flagsThatDoNotFitAreRefused() throws {
        let base = ["gsa", Self.ishigami] + Self.ranges + ["--samples", "8", "--out", "-"]
        let cases: [([String], String)] = [
            (["--levels", "4"], "--levels is Morris's; it goes with --method morris."),
            (["--method", "morris", "--levels", "5"], "--levels 5: Morris's grid needs an even number of levels"),
            (["--method", "sobl"], "--method sobl: choose sobol or morris (did you mean 'sobol'?)."),
            (["--vary", "x1=0:1:4"], "write NAME=LO:HI or NAME=LO:HI:log"),
            (["--shard", "1/2"], "--shard computes only some points, which must be kept: give --points-out"),
        ]
        for (extra, expected) in cases {
            let result = try CLI.run(base + extra)
            #expect(result.status == 1, "\(extra)")
            #expect(result.standardError.contains(expected), "\(extra): \(result.standardError)")
        }
    }
}
