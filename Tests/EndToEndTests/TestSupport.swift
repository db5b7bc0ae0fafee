import Foundation
import TestSupport
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
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            standardOutput: String(decoding: outData, as: UTF8.self),
            standardError: String(decoding: errData, as: UTF8.self))
    }
}

extension CLI {
    /// Starts `stat3sim` with `arguments` and returns without waiting (for tests that signal it or
    /// set its environment). `environment`, when given, replaces the inherited one; `quiet`
    /// discards its standard error.
    static func start(_ arguments: [String], environment: [String: String]? = nil, quiet: Bool = true) throws
        -> Process
    {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        if quiet { process.standardError = FileHandle.nullDevice }
        try process.run()
        return process
    }
}

/// A → B at rate k (A = 2, k = 0.5) with the observable B2 = 2·B: the tables of a model up to
/// its reactions, for the suites' models to complete (Tests/Fixtures/decay_network.toml).
let decayNetwork = Fixtures.text("decay_network.toml")

/// A fresh folder (see `temporaryFolder`) holding `text` as the file `name`: the folder and the
/// file's path.
func folder(_ label: String, holding text: String, as name: String) throws -> (dir: URL, model: String) {
    let dir = try temporaryFolder(label)
    let path = dir.appendingPathComponent(name).path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return (dir, path)
}

/// The text of the file at `path`.
func read(_ path: URL) throws -> String { try String(contentsOf: path, encoding: .utf8) }
