import Foundation
import TestSupport
import XCTest

@testable import Calibration

/// Reading problems: what is read, and mistakes and refusals reported with FILE:LINE.
final class PEtabProblemTests: XCTestCase {
    func testBoehmContents() throws {
        let p = try PEtabProblem.load(path: Problems.path("Boehm_JProteomeRes2014"))
        XCTAssertEqual(p.estimated.count, 9)
        XCTAssertEqual(p.measurements.count, 48)
        XCTAssertEqual(p.observables.map(\.id), ["pSTAT5A_rel", "pSTAT5B_rel", "rSTAT5A_rel"])
        XCTAssertEqual(Set(p.initialAssignments.map(\.target)), ["STAT5A", "STAT5B"])
        XCTAssertEqual(p.measurements[0].line, 2)
        XCTAssertEqual(p.measurements[0].noiseParameters, [.parameter("sd_pSTAT5A_rel")])
    }

    /// A copy of Boehm's problem with one table's text changed by `edit`.
    func broken(_ file: String, _ edit: (String) -> String) throws -> String {
        let source = Problems.folder.appendingPathComponent("Boehm_JProteomeRes2014")
        let folder = try temporaryFolder("petab")
        for name in try FileManager.default.contentsOfDirectory(atPath: source.path) {
            // (Without carriage returns: "\r\n" is one Character, which line splitting would not cut.)
            let raw = try String(contentsOf: source.appendingPathComponent(name), encoding: .utf8)
            var text = String(String.UnicodeScalarView(raw.unicodeScalars.filter { $0 != "\r" }))
            if name == file { text = edit(text) }
            try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return folder.appendingPathComponent("Boehm_JProteomeRes2014.yaml").path
    }

    func message(_ path: String) -> String {
        do {
            _ = try PEtabObjective(problem: PEtabProblem.load(path: path)).evaluate()
            return "no error"
        } catch { return "\(error)" }
    }

    func folderOf(_ path: String) -> String { (path as NSString).deletingLastPathComponent }

    func testUnknownObservableNamesFileAndLine() throws {
        let path = try broken("measurementData_Boehm_JProteomeRes2014.tsv") {
            $0.replacingOccurrences(of: "rSTAT5A_rel\t\tmodel1_data1\t14.7", with: "rSTAT5_rel\t\tmodel1_data1\t14.7")
        }
        let m = message(path)
        XCTAssertTrue(m.hasPrefix(folderOf(path) + "/measurementData_Boehm_JProteomeRes2014.tsv:"), m)
        XCTAssertTrue(m.contains("observableId 'rSTAT5_rel' is not in"), m)
        XCTAssertTrue(m.contains("(did you mean"), m)
    }

    /// Boehm's problem with its fourth measurement row moved to t = inf and, if `formula` is given, the
    /// observable pSTAT5A_rel computed by it.
    func steadyStateVariant(formula: String? = nil) throws -> String {
        let path = try broken("measurementData_Boehm_JProteomeRes2014.tsv") {
            var lines = $0.components(separatedBy: "\n")
            var fields = lines[3].components(separatedBy: "\t")
            fields[4] = "inf"
            lines[3] = fields.joined(separator: "\t")
            return lines.joined(separator: "\n")
        }
        if let formula {
            let observables = URL(fileURLWithPath: folderOf(path)).appendingPathComponent(
                "observables_Boehm_JProteomeRes2014.tsv")
            var lines = try String(contentsOf: observables, encoding: .utf8).components(separatedBy: "\n")
            let row = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("pSTAT5A_rel\t") })
            var fields = lines[row].components(separatedBy: "\t")
            fields[2] = formula
            lines[row] = fields.joined(separator: "\t")
            try lines.joined(separator: "\n").write(to: observables, atomically: true, encoding: .utf8)
        }
        return path
    }

    func testSteadyStateMeasurementsAreRead() throws {
        let path = try steadyStateVariant()
        let problem = try PEtabProblem.load(path: path)
        XCTAssertEqual(problem.measurements[2].time, .infinity)
        XCTAssertEqual(problem.measurements[2].line, 4)
        XCTAssertEqual(message(path), "no error")
    }

    func testSteadyStateMeasurementsOfAssignmentRuleValuesAreRefusedByName() throws {
        // BaF3_Epo is given by an assignment rule of time, which has no value at t = inf.
        let path = try steadyStateVariant(formula: "pApB + BaF3_Epo")
        XCTAssertEqual(
            message(path),
            folderOf(path) + "/measurementData_Boehm_JProteomeRes2014.tsv:4: time inf: 'pSTAT5A_rel' uses "
                + "'BaF3_Epo', a value the model computes by an assignment rule; a steady-state measurement can use "
                + "species and parameters only.")
    }

    func testUnknownPriorIsRefusedByName() throws {
        let path = try broken("parameters_Boehm_JProteomeRes2014.tsv") {
            var lines = $0.components(separatedBy: "\n")
            lines[0] += "\tobjectivePriorType\tobjectivePriorParameters"
            lines[1] += "\tgamma\t1;2"
            return lines.joined(separator: "\n")
        }
        XCTAssertTrue(
            message(path).hasPrefix(
                folderOf(path) + "/parameters_Boehm_JProteomeRes2014.tsv:2: objectivePriorType 'gamma' of "
                    + "'Epo_degradation_BaF3' is not a PEtab v1 prior (uniform, normal,"), message(path))
    }

    func testPlaceholderCountIsChecked() throws {
        let path = try broken("measurementData_Boehm_JProteomeRes2014.tsv") {
            $0.replacingOccurrences(of: "\tsd_pSTAT5A_rel\t", with: "\tsd_pSTAT5A_rel;2\t")
        }
        XCTAssertTrue(
            message(path).contains(
                ".tsv:2: noiseParameters 'sd_pSTAT5A_rel;2' gives 2 values; the formula of 'pSTAT5A_rel' has 1 "
                    + "placeholder to bind."), message(path))
    }

    func testYAMLMistakesNameTheLine() throws {
        let path = try broken("Boehm_JProteomeRes2014.yaml") {
            $0.replacingOccurrences(of: "format_version: 1", with: "format_version: 2")
        }
        XCTAssertEqual(
            message(path),
            path + ":1: format_version is '2'; this importer reads PEtab v1 (format_version: 1).")
    }

    func testFormulaNamesAreResolved() throws {
        let path = try broken("observables_Boehm_JProteomeRes2014.tsv") {
            $0.replacingOccurrences(
                of: "(100 * pApB + 200 * pApA * specC17)", with: "(100 * pApX + 200 * pApA * specC17)")
        }
        XCTAssertTrue(
            message(path).contains(
                "observables_Boehm_JProteomeRes2014.tsv:2: observableFormula of 'pSTAT5A_rel' uses 'pApX', which is not "
                    + "a model quantity"), message(path))
    }

    /// `petab nll --parameters`: the problem's own parameter table gives the reference NLL; a
    /// `parameterId`/`value` table moves one parameter; unknown ids are refused with FILE:LINE.
    func testParameterValuesFromAFile() throws {
        let p = try PEtabProblem.load(path: Problems.path("Boehm_JProteomeRes2014"))
        let own = Problems.folder.appendingPathComponent("Boehm_JProteomeRes2014/parameters_Boehm_JProteomeRes2014.tsv")
        let objective = try PEtabObjective(problem: p, rtol: 1e-10, atol: 1e-12)
        let nominal = try p.parameterValues(file: own.path)
        XCTAssertEqual(nominal.count, p.parameters.count)
        XCTAssertEqual(try objective.evaluate(values: nominal).nll, 138.2220, accuracy: 1e-3)
        let folder = try temporaryFolder("petab-values")
        let moved = folder.appendingPathComponent("moved.tsv").path
        try "parameterId\tvalue\nk_exp_hetero\t2e-05\n".write(toFile: moved, atomically: true, encoding: .utf8)
        let values = try p.parameterValues(file: moved)
        XCTAssertEqual(values, ["k_exp_hetero": 2e-05])
        XCTAssertNotEqual(try objective.evaluate(values: values).nll, 138.2220, accuracy: 1e-3)
        let wrong = folder.appendingPathComponent("wrong.tsv").path
        try "parameterId\tvalue\nk_exp_heter\t1\n".write(toFile: wrong, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try p.parameterValues(file: wrong)) { error in
            XCTAssertEqual(
                (error as? PEtabError)?.description,
                "\(wrong):2: 'k_exp_heter' is not in the problem's parameter table (\(p.parameterFile)) "
                    + "(did you mean 'k_exp_hetero'?).")
        }
    }
}
