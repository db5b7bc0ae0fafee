import Foundation
import ReactionModel
import Simulation
import Testing

@testable import SBML

/// The SBML Test Suite's semantic cases (Tests/SBMLTestSuite, see its NOTICE), run in process with
/// the suite's criterion: every TIER1_CORE case passes; over all cases, none fails (a
/// case may only be refused as "not supported yet") and at least the 1655 that pass today keep
/// passing (Scripts/sbml-test-suite is the full runner, with the table per tier).
private let suite = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("SBMLTestSuite")

private func tier(_ name: String) -> [String] {
    // A missing file is an error (the test fails), never a skip.
    guard let text = try? String(contentsOf: suite.appendingPathComponent("tiers.txt"), encoding: .utf8) else {
        Issue.record("the SBML Test Suite's tiers.txt is missing from \(suite.path)")
        return []
    }
    var ids: [String] = []
    var inside = false
    for line in text.split(separator: "\n") {
        if line.hasPrefix("## ") {
            inside = line.split(separator: " ").dropFirst().first.map(String.init) == name
            continue
        }
        if inside && !line.hasPrefix("#") { ids += line.split(separator: " ").map(String.init) }
    }
    return ids
}

private func csv(_ url: URL) throws -> (header: [String], rows: [[Double]]) {
    let lines = try String(contentsOf: url, encoding: .utf8).split(whereSeparator: \.isNewline)
    let header = lines[0].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    let rows = lines.dropFirst().map {
        $0.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) ?? .nan }
    }
    return (header, rows)
}

/// Why a case is not judged: a requested variable that the run cannot write (a reaction's rate, a
/// stoichiometry); Scripts/sbml-test-suite counts these cases as unsupported too.
private struct NotAnOutput: Error { var variable: String }

/// nil when the case passes; otherwise why not.
private func check(_ id: String) throws -> String? {
    let folder = suite.appendingPathComponent("semantic/\(id)")
    let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
    guard
        let file = ["l3v2", "l3v1", "l2v5", "l2v4", "l2v3"].lazy.compactMap({ v in
            files.first { $0.hasSuffix("-sbml-\(v).xml") }
        }).first
    else {
        return "no SBML file"
    }
    var settings: [String: String] = [:]
    for line in try String(contentsOf: folder.appendingPathComponent("\(id)-settings.txt"), encoding: .utf8).split(
        separator: "\n")
    {
        let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        if parts.count == 2 { settings[parts[0]] = parts[1] }
    }
    func list(_ key: String) -> [String] {
        (settings[key] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
            !$0.isEmpty
        }
    }
    let duration = Double(settings["duration"] ?? "") ?? 0
    let steps = Double(settings["steps"] ?? "") ?? 1
    let absolute = Double(settings["absolute"] ?? "") ?? 0
    let relative = Double(settings["relative"] ?? "") ?? 0
    guard (Double(settings["start"] ?? "0") ?? 0) == 0 else { return "start time" }

    let d = try SBMLReader.definition(path: folder.appendingPathComponent(file).path)
    var run = RunSettings()
    run.tEnd = duration
    run.outputInterval = duration / steps
    run.rtol = min(1e-9, relative * 1e-4)
    run.atol = absolute > 0 ? min(1e-14, absolute * 1e-6) : 1e-14
    // Requested parameters are written as columns (with the values events give them).
    run.outputParameters = list("variables").filter { v in d.parameters.contains { $0.name == v } }
    let amounts = Set(list("amount"))
    // Compartments of every species, from the SBML: species set by rules are observables in the
    // imported model.
    var compartmentOf: [String: String] = [:]
    func collect(_ node: XMLNode) {
        if node.name == "species", let id = node.attributes["id"], let c = node.attributes["compartment"] {
            compartmentOf[id] = c
        }
        node.children.forEach(collect)
    }
    collect(try XMLNode.parse(String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)))
    // Sizes that events change are parameters of the imported model: needed for amounts.
    for c in Set(amounts.compactMap { compartmentOf[$0] }) where d.parameters.contains(where: { $0.name == c }) {
        run.outputParameters.append(c)
    }
    let course = try Simulator(d).run(settings: run)
    let expected = try csv(folder.appendingPathComponent("\(id)-results.csv"))
    guard course.times.count == expected.rows.count else {
        return "\(course.times.count) rows, expected \(expected.rows.count)"
    }
    for variable in list("variables") {
        // Column 0 is time; a variable may itself be named "time" (case 01820).
        guard let j = expected.header.dropFirst().firstIndex(of: variable) else {
            return "no expected column \(variable)"
        }
        var actual: [Double]
        if let column = course.column(named: variable) {
            actual = column
            if amounts.contains(variable), let c = compartmentOf[variable] {
                // A compartment that changes size is a column (state, observable or parameter).
                if let sizes = course.column(named: c) {
                    actual = zip(actual, sizes).map { $0 * $1 }
                } else if let size = d.compartments.first(where: { $0.name == c })?.size {
                    actual = actual.map { $0 * size }
                }
            }
        } else if let c = d.compartments.first(where: { $0.name == variable }) {
            actual = Array(repeating: c.size, count: course.times.count)
        } else {
            throw NotAnOutput(variable: variable)
        }
        // NaN matches NaN and an infinity itself (the suite's own rule).
        for (row, a) in zip(expected.rows, actual)
        where !(abs(row[j] - a) <= absolute + relative * abs(row[j]))
            && !(row[j].isNaN && a.isNaN) && !(row[j].isInfinite && row[j] == a)
        {
            return "\(variable) at t = \(row[0]): \(a), expected \(row[j])"
        }
    }
    return nil
}

/// Passes of `ids`; a failure (a wrong number, or an import error of any kind but `unsupported`)
/// is an issue.
private func run(_ ids: [String]) throws -> Int {
    var passed = 0
    for id in ids {
        do {
            if let why = try check(id) { Issue.record("case \(id): \(why)") } else { passed += 1 }
        } catch let error as SBMLImportError {
            #expect(error.kind == .unsupported, "case \(id): \(error.message)")
        } catch is NotAnOutput {
            continue
        }
    }
    return passed
}

@Suite("SBML Test Suite")
struct SBMLTestSuiteTests {
    @Test
    func everyTierOneCoreCasePasses() throws {
        let ids = tier("TIER1_CORE")
        #expect(ids.count == 274)
        #expect(try run(ids) == ids.count)
    }

    @Test
    func noSemanticCaseFailsAndThePassesStay() throws {
        let ids = try FileManager.default.contentsOfDirectory(atPath: suite.appendingPathComponent("semantic").path)
            .filter { $0.count == 5 && $0.allSatisfy(\.isNumber) }.sorted()
        #expect(ids.count == 1821)
        let passed = try run(ids)
        print("SBML Test Suite: \(passed) of \(ids.count) semantic cases pass")
        #expect(passed >= 1655)
    }
}
