import Foundation
import TestSupport
import Testing

/// `stat3sim run --sensitivities` and `stat3sim sensitivity` as a user runs them, on the
/// A → B → C chain (Tests/Fixtures/sensitivity_chain.toml), whose sensitivities are known in
/// closed form: B = A0 k1/(k2 − k1) (e^{−k1 t} − e^{−k2 t}).
@Suite("stat3sim run --sensitivities and stat3sim sensitivity, end to end")
struct SensitivityCLITests {
    static let chain = Fixtures.path("sensitivity_chain.toml")
    static let (a0, k1, k2) = (2.0, 0.7, 0.3)

    static func b(_ t: Double, k1: Double = k1, k2: Double = k2) -> Double {
        a0 * k1 / (k2 - k1) * (exp(-k1 * t) - exp(-k2 * t))
    }

    /// dB/dk2 in closed form.
    static func dBdk2(_ t: Double) -> Double {
        a0 * (-k1 / ((k2 - k1) * (k2 - k1)) * (exp(-k1 * t) - exp(-k2 * t)) + k1 / (k2 - k1) * t * exp(-k2 * t))
    }

    /// A CSV's header and rows of numbers.
    static func table(_ text: String) -> (header: [String], rows: [[Double]]) {
        let lines = text.split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",").map(String.init)
        return (header, lines.dropFirst().map { $0.split(separator: ",").map { Double($0) ?? .nan } })
    }

    @Test func runWritesSensitivityColumnsAfterTheOthers() throws {
        let result = try CLI.run([
            "run", Self.chain, "--sensitivities", "k2,A", "--rtol", "1e-10", "--atol", "1e-14", "--out", "-",
        ])
        #expect(result.status == 0, "\(result.standardError)")
        let (header, rows) = Self.table(result.standardOutput)
        let quantities = ["A", "B", "C", "total", "flux2"]
        #expect(
            header
                == ["time"] + quantities + quantities.map { "d(\($0))/d(k2)" } + quantities.map { "d(\($0))/d(A)" })
        let dBdk2 = header.firstIndex(of: "d(B)/d(k2)")!
        let dBdA = header.firstIndex(of: "d(B)/d(A)")!
        for row in rows {
            let t = row[0]
            #expect(abs(row[dBdk2] - Self.dBdk2(t)) <= 1e-7 * max(1, abs(Self.dBdk2(t))), "t = \(t)")
            #expect(abs(row[dBdA] - Self.b(t) / Self.a0) <= 1e-7, "t = \(t)")
        }
    }

    @Test func normalizedColumnsAreLogarithmicDerivatives() throws {
        let result = try CLI.run([
            "run", Self.chain, "--sensitivities", "k2", "--normalized", "--rtol", "1e-10", "--atol", "1e-14",
            "--out", "-",
        ])
        #expect(result.status == 0, "\(result.standardError)")
        let (header, rows) = Self.table(result.standardOutput)
        let column = header.firstIndex(of: "dln(B)/dln(k2)")!
        #expect(rows[0][column].isNaN)  // B = 0 at t = 0
        for row in rows.dropFirst() {
            let expected = Self.k2 / Self.b(row[0]) * Self.dBdk2(row[0])
            #expect(abs(row[column] - expected) <= 1e-6 * max(1, abs(expected)), "t = \(row[0])")
        }
    }

    @Test func theSidecarRecordsTheRequest() throws {
        let dir = try temporaryFolder("sensitivity-meta")
        let out = dir.appendingPathComponent("chain.csv").path
        let result = try CLI.run(["run", Self.chain, "--sensitivities", "k1", "--normalized", "--out", out])
        #expect(result.status == 0, "\(result.standardError)")
        let meta =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: dir.appendingPathComponent("chain.meta.json"))) as? [String: Any]
        let request = try #require(meta?["sensitivities"] as? [String: Any])
        #expect(request["parameters"] as? [String] == ["k1"])
        #expect(request["normalized"] as? Bool == true)
        #expect(request["error_control"] as? Bool == true)
    }

    @Test func runRefusesUnknownNamesAndStrayFlags() throws {
        let unknown = try CLI.run(["run", Self.chain, "--sensitivities", "k3", "--out", "-"])
        #expect(unknown.status == 1)
        #expect(
            unknown.standardError
                == "\(Self.chain): sensitivities by 'k3': the model has no parameter, species or compartment 'k3' "
                + "(did you mean 'k1'?).\n")
        #expect(unknown.standardOutput.isEmpty)
        let stray = try CLI.run(["run", Self.chain, "--normalized", "--out", "-"])
        #expect(stray.status == 1)
        #expect(stray.standardError == "--normalized and --no-sensitivity-error-control go with --sensitivities.\n")
    }

    @Test func sensitivityRanksParametersByNormalizedSensitivity() throws {
        let dir = try temporaryFolder("sensitivity-rank")
        let out = dir.appendingPathComponent("ranks.csv").path
        let result = try CLI.run([
            "sensitivity", Self.chain, "--metric", "final:B", "--metric", "peak:B", "--rtol", "1e-10", "--atol",
            "1e-14", "--out", out,
        ])
        #expect(result.status == 0, "\(result.standardError)")
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines[0] == "metric,parameter,parameter_value,metric_value,sensitivity,normalized,rank")
        #expect(lines.count == 1 + 2 * 2)
        // final:B at t = 10: d ln B / d ln k2 from the closed form, ranked against k1's.
        let finals = lines.dropFirst().filter { $0.hasPrefix("B__final,") }.map { $0.split(separator: ",") }
        let k2Row = try #require(finals.first { $0[1] == "k2" })
        let expected = Self.k2 / Self.b(10) * Self.dBdk2(10)
        #expect(abs(Double(k2Row[5])! - expected) <= 1e-6 * abs(expected))
        #expect(finals.map { $0[6] } == ["1", "2"])
        #expect(abs(Double(finals[0][5])!) >= abs(Double(finals[1][5])!))
        #expect(result.standardError.contains("default run — B__final = "))
        // A metric without a local sensitivity is refused with the reason.
        let regime = try CLI.run(["sensitivity", Self.chain, "--metric", "regime:B", "--out", out])
        #expect(regime.status == 1)
        #expect(regime.standardError.contains("regime takes the values 0, 1 and 2 only"))
    }
}
