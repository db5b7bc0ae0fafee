import Foundation
import Testing

/// The sweep vocabulary on the command line: ArgumentParser reads the words, refusals are one
/// sentence naming the flag (or the [sweep] table) they came from.
@Suite("stat3sim sweep words: --vary, --metric, --method, --scenario, [sweep]")
struct VocabularyCLITests {
    static let model = """
        \(decayNetwork)
        [simulation]
        t_end = 5
        """

    /// A fresh folder with `words.toml` (the model plus `extra`).
    func setUp(_ extra: String = "") throws -> (dir: URL, model: String) {
        try folder("words", holding: Self.model + "\n" + extra, as: "words.toml")
    }

    @Test func helpListsEveryMetricKindAndMethod() throws {
        let help = try CLI.run(["sweep", "--help"]).standardOutput
        let flat = help.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for kind in [
            "peak", "time_to_peak", "final", "min", "mean", "auc", "half_life", "steady_state", "value_at@T", "regime",
        ] {
            #expect(flat.contains(" \(kind),") || flat.contains(" \(kind) "), "\(kind) missing from --help")
        }
        #expect(flat.contains("(values: lhs, sobol, random)"))
    }

    @Test func badWordsOnTheCommandLineAreOneSentence() throws {
        let (dir, model) = try setUp()
        let out = dir.appendingPathComponent("s.csv").path
        let cases: [([String], String)] = [
            (["--vary", "k=1:0:3"], "--vary k=1:0:3: the range must be ascending (LO ≤ HI).\n"),
            (["--vary", "k"], "--vary k: write NAME=LO:HI:N or NAME=LO:HI:N:log.\n"),
            (
                ["--vary", "k=a:1", "--samples", "3"],
                "--vary k=a:1: write NAME=LO:HI or NAME=LO:HI:log (with --samples the number of points comes from "
                    + "--samples).\n"
            ),
            (
                ["--vary", "k=0.1:1:2", "--metric", "peek:B"],
                "--metric peek:B: unknown kind 'peek' (did you mean 'peak'?); kinds are peak, time_to_peak, final, "
                    + "min, mean, auc, half_life, steady_state, value_at@T, regime.\n"
            ),
            (
                ["--vary", "k=0.1:1", "--samples", "3", "--method", "lhss"],
                "--method lhss: choose lhs, sobol or random (did you mean 'lhs'?).\n"
            ),
            (
                ["--follow", "k=0.1:1:1e9"],
                "--follow k=0.1:1:1e9: the number of grid points must be a whole number ≥ 1.\n"
            ),
            (
                ["--vary", "kk=0.1:1:2"],
                "\(model): --vary kk=0.1:1:2: the model has no parameter, species or compartment 'kk' (did you mean "
                    + "'k'?).\n"
            ),
            (
                ["--vary", "k=0.1:1:2", "--metric", "peak:k"],
                "\(model): --metric peak:k: 'k' is not a species or observable of the model (did you mean 'A'?).\n"
            ),
            (
                ["--vary", "k=0.1:1:2", "--scenario", "default,x"],
                "--scenario default,x: sweep takes one scenario (or several joined by '+') or 'all'; a "
                    + "comma-separated list is for run.\n"
            ),
        ]
        for (flags, expected) in cases {
            let result = try CLI.run(["sweep", model, "--out", out] + flags)
            #expect(result.status == 1, "\(flags)")
            #expect(result.standardError == expected, "\(flags)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["words.toml"])
    }

    @Test func badWordsInTheSweepTableNameTheTable() throws {
        let cases = [
            ("vary = [\"k=1:0:3\"]", "[sweep] vary \"k=1:0:3\": the range must be ascending (LO ≤ HI)."),
            (
                "vary = [\"kk=0.1:1:3\"]",
                "[sweep] vary \"kk=0.1:1:3\": the model has no parameter, species or compartment 'kk' (did you mean "
                    + "'k'?)."
            ),
            (
                "vary = [\"k=0.1:1:3\"]\nmetrics = [\"peek:B\"]",
                "[sweep] metrics \"peek:B\": unknown kind 'peek' (did you mean 'peak'?)"
            ),
            (
                "vary = [\"k=0.1:1\"]\nsamples = 3\nmethod = \"lhss\"",
                "[sweep] method = \"lhss\": choose lhs, sobol or random (did you mean 'lhs'?)."
            ),
        ]
        for (table, expected) in cases {
            let (_, model) = try setUp("[sweep]\n" + table + "\n")
            // The line of the key the message is about: the last key of the case's table.
            let key = table.split(separator: "\n").last!.split(separator: " ").first!
            let lines = try String(contentsOfFile: model, encoding: .utf8).split(
                separator: "\n", omittingEmptySubsequences: false)
            let line = lines.firstIndex { $0.hasPrefix("\(key) =") }! + 1
            let result = try CLI.run(["sweep", model])
            #expect(result.status == 1, "\(table)")
            #expect(result.standardError.hasPrefix("\(model):\(line): "), "\(result.standardError)")
            #expect(result.standardError.contains(expected), "\(result.standardError)")
            #expect(!result.standardError.contains("--vary") && !result.standardError.contains("--metric"))
            #expect(!result.standardError.dropLast().contains("\n"))
        }
        // The table is part of the model file: a value it cannot read is refused with its line
        // even when a flag would replace it, as any other mistake in the file is.
        let (dir, model) = try setUp("[sweep]\nvary = [\"k=1:0:3\"]\n")
        let result = try CLI.run([
            "sweep", model, "--vary", "k=0.1:1:2", "--out", dir.appendingPathComponent("s.csv").path,
        ])
        #expect(result.status == 1)
        #expect(result.standardError.contains("[sweep] vary \"k=1:0:3\": the range must be ascending"))
        // A value the table reads well but the model rejects is not read when a flag replaces it.
        let (dir2, model2) = try setUp("[sweep]\nvary = [\"kk=0.1:1:3\"]\nmetrics = [\"peak:nothing\"]\n")
        let replaced = try CLI.run([
            "sweep", model2, "--vary", "k=0.1:1:2", "--metric", "peak:A", "--out",
            dir2.appendingPathComponent("s.csv").path,
        ])
        #expect(replaced.status == 0, "\(replaced.standardError)")
    }
}
