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

@Suite("stat3sim run and check, end to end")
struct RunCommandTests {
    static let model = """
        [model]
        name = "binding"
        time_unit = "min"
        concentration_unit = "nM"
        [species]
        L = 1
        R = 2
        LR = 0
        [parameters]
        kon = 0.5
        koff = 0.1
        [observables]
        bound = "LR / (R + LR)"
        [[reactions]]
        equation = "L + R <-> LR"
        forward = "kon"
        reverse = "koff"
        [simulation]
        t_end = 10
        output_interval = 1
        [[scenarios]]
        name = "tight"
        parameters = { koff = 0.01 }
        """

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("stat3sim-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func runWritesCSVAndMetadata() throws {
        let dir = try temporaryDirectory()
        let modelPath = dir.appendingPathComponent("binding.toml").path
        try Self.model.write(toFile: modelPath, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out/binding.csv").path
        let result = try CLI.run(["run", modelPath, "--out", out])
        #expect(result.status == 0, "\(result.standardError)")
        let csv = try String(contentsOfFile: out, encoding: .utf8)
        let lines = csv.split(separator: "\n")
        #expect(lines.first == "time,L,R,LR,bound")
        #expect(lines.count == 12)
        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.appendingPathComponent("out/binding.meta.json").path))) as? [String: Any]
        #expect((meta?["model"] as? [String: Any])?["name"] as? String == "binding")
        #expect((meta?["units"] as? [String: Any])?["time"] as? String == "min")
        #expect(result.standardError.contains("bound"))
        #expect(result.standardError.contains("peak"))
        // No temporary files are left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("out").path)
        #expect(Set(leftovers) == ["binding.csv", "binding.meta.json"])
    }

    @Test func runToStandardOutputWithScenariosAndOverrides() throws {
        let dir = try temporaryDirectory()
        let modelPath = dir.appendingPathComponent("binding.toml").path
        try Self.model.write(toFile: modelPath, atomically: true, encoding: .utf8)
        let all = try CLI.run(["run", modelPath, "--scenario", "all", "--out", "-", "--t-end", "4", "--set", "kon=1"])
        #expect(all.status == 0, "\(all.standardError)")
        let lines = all.standardOutput.split(separator: "\n")
        #expect(lines.first == "scenario,time,L,R,LR,bound")
        #expect(lines.count == 1 + 2 * 5)
        #expect(lines[1].hasPrefix("default,0.0,1.0,2.0,0.0,"))
        #expect(lines[6].hasPrefix("tight,0.0,"))
    }

    @Test func malformedModelPrintsOneParagraphAndWritesNothing() throws {
        let dir = try temporaryDirectory()
        let modelPath = dir.appendingPathComponent("bad.toml").path
        try Self.model.replacingOccurrences(of: "forward = \"kon\"", with: "forward = \"kom\"").write(toFile: modelPath, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("bad.csv").path
        let result = try CLI.run(["run", modelPath, "--out", out])
        #expect(result.status == 1)
        #expect(result.standardError == "\(modelPath):16: the forward rate constant of reaction 'R1' \"kom\" uses 'kom', which is not a species, parameter, compartment or observable (did you mean 'kon'?).\n")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func unknownScenarioIsAnErrorWithSuggestions() throws {
        let dir = try temporaryDirectory()
        let modelPath = dir.appendingPathComponent("binding.toml").path
        try Self.model.write(toFile: modelPath, atomically: true, encoding: .utf8)
        let result = try CLI.run(["run", modelPath, "--scenario", "tigth", "--out", "-"])
        #expect(result.status == 1)
        #expect(result.standardError == "\(modelPath): the model has no scenario 'tigth' (did you mean 'tight'?); its scenarios are tight.\n")
    }

    @Test func checkDescribesTheModel() throws {
        let dir = try temporaryDirectory()
        let modelPath = dir.appendingPathComponent("binding.toml").path
        try Self.model.write(toFile: modelPath, atomically: true, encoding: .utf8)
        let result = try CLI.run(["check", modelPath])
        #expect(result.status == 0)
        #expect(result.standardOutput.contains("valid. 3 species, 1 reaction,"))
        #expect(result.standardOutput.contains("L + LR = constant"))
        #expect(result.standardOutput.contains("R + LR = constant"))
        #expect(result.standardOutput.contains("No warnings."))
    }
}
