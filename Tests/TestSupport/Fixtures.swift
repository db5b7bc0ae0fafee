import Foundation

/// The test models in Tests/Fixtures, which several suites (and Scripts/) read, found from this
/// file's place in the repository.
public enum Fixtures {
    /// Tests/Fixtures.
    public static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The path of the fixture `name` (e.g. "ishigami.toml").
    public static func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// The text of the fixture `name` without its final line break, as a multi-line string
    /// literal holds it: a suite appends its own tables after a line break of its own.
    public static func text(_ name: String) -> String {
        guard let text = try? String(contentsOfFile: path(name), encoding: .utf8) else {
            fatalError("The test fixture \(path(name)) cannot be read.")
        }
        return text.hasSuffix("\n") ? String(text.dropLast()) : text
    }
}

/// A fresh empty folder `stat3sim-LABEL-UUID` in the temporary directory.
public func temporaryFolder(_ label: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stat3sim-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}
