import Foundation
import Testing

@testable import Simulation

/// What `body` throws: a `SimulationError`'s message, another error as text; nil when it
/// throws nothing.
func message(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch let e as SimulationError { return e.message } catch { return "\(error)" }
}

/// A fresh empty folder `stat3sim-LABEL-UUID` in the temporary directory.
func temporaryFolder(_ label: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stat3sim-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}
