import Foundation
import Testing

/// Runs the built `stat3sim` executable as a user would and checks what it prints.
enum CLI {
    /// The `stat3sim` binary beside the test bundle (SwiftPM builds both into one folder).
    static let executable: URL = {
        let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [
            bundleDirectory.appendingPathComponent("stat3sim"),
            bundleDirectory.deletingLastPathComponent().appendingPathComponent("stat3sim"),
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("stat3sim"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }()

    struct Result {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    static func run(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      standardOutput: String(decoding: outData, as: UTF8.self),
                      standardError: String(decoding: errData, as: UTF8.self))
    }
}

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
