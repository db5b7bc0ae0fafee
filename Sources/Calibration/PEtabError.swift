import Foundation

/// A mistake in a PEtab problem, or a feature this importer refuses: one sentence, with the file
/// and line it comes from when there is one.
public struct PEtabError: Error, CustomStringConvertible, Sendable {
    public var file: String?
    public var line: Int?
    public var message: String

    public init(_ message: String, file: String? = nil, line: Int? = nil) {
        self.message = message
        self.file = file
        self.line = line
    }

    public var description: String {
        switch (file, line) {
        case (let f?, let l?): return "\(f):\(l): \(message)"
        case (let f?, nil): return "\(f): \(message)"
        default: return message
        }
    }
}
