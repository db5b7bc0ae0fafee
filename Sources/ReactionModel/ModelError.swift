/// A mistake in a model file, as one paragraph a modeller can act on: the file, the line when it
/// is known, where in the model (table, entry, key), what is wrong and what was expected.
public struct ModelError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}

/// " (did you mean 'X'?)" for the closest candidate within a small edit distance, or "".
public func didYouMean(_ name: String, among candidates: [String]) -> String {
    var best: (String, Int)? = nil
    for candidate in candidates {
        let d = editDistance(name.lowercased(), candidate.lowercased())
        if best == nil || d < best!.1 { best = (candidate, d) }
    }
    guard let (candidate, distance) = best else { return "" }
    let limit = max(2, name.count / 3)
    return distance <= limit ? " (did you mean '\(candidate)'?)" : ""
}

/// Levenshtein distance with transpositions counted as one edit.
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a), y = Array(b)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var d = [[Int]](repeating: [Int](repeating: 0, count: y.count + 1), count: x.count + 1)
    for i in 0...x.count { d[i][0] = i }
    for j in 0...y.count { d[0][j] = j }
    for i in 1...x.count {
        for j in 1...y.count {
            let cost = x[i - 1] == y[j - 1] ? 0 : 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
        }
    }
    return d[x.count][y.count]
}

/// Finds the lines of tables and keys in the TOML source, which TOMLKit does not report for
/// values, and the file order of keys (toml++ returns them sorted).
struct SourceLocator {
    struct Entry { var table: String; var index: Int?; var key: String?; var line: Int }
    private(set) var entries: [Entry] = []

    init(source: String) {
        var table = ""
        var index: Int? = nil
        var arrayCounts: [String: Int] = [:]
        var depth = 0   // open brackets of multi-line arrays
        for (offset, raw) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = offset + 1
            let text = SourceLocator.stripComment(String(raw)).trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            if depth == 0, text.hasPrefix("[[") , let close = text.range(of: "]]") {
                table = String(text[text.index(text.startIndex, offsetBy: 2)..<close.lowerBound]).trimmingCharacters(in: .whitespaces)
                let n = arrayCounts[table, default: 0]
                arrayCounts[table] = n + 1
                index = n
                entries.append(Entry(table: table, index: index, key: nil, line: line))
                continue
            }
            if depth == 0, text.hasPrefix("["), let close = text.firstIndex(of: "]") {
                table = String(text[text.index(after: text.startIndex)..<close]).trimmingCharacters(in: .whitespaces)
                index = nil
                entries.append(Entry(table: table, index: nil, key: nil, line: line))
                continue
            }
            if depth == 0, let equals = text.firstIndex(of: "=") {
                var key = String(text[..<equals]).trimmingCharacters(in: .whitespaces)
                if key.hasPrefix("\""), key.hasSuffix("\""), key.count >= 2 { key = String(key.dropFirst().dropLast()) }
                entries.append(Entry(table: table, index: index, key: key, line: line))
            }
            // Brackets outside strings: a `key = [` line opens a multi-line array whose lines
            // are values, not keys.
            var inString = false
            var quote: Character = "\""
            for c in text {
                if inString { if c == quote { inString = false }; continue }
                if c == "\"" || c == "'" { inString = true; quote = c }
                else if c == "[" { depth += 1 } else if c == "]" { depth = max(0, depth - 1) }
            }
        }
    }

    static func stripComment(_ s: String) -> String {
        var inString = false
        var quote: Character = "\""
        var result = ""
        for c in s {
            if inString {
                if c == quote { inString = false }
            } else if c == "\"" || c == "'" {
                inString = true
                quote = c
            } else if c == "#" {
                break
            }
            result.append(c)
        }
        return result
    }

    /// Line of `key` in `[table]` (or in the `index`-th `[[table]]`), or of the header itself.
    func line(table: String, index: Int? = nil, key: String? = nil) -> Int? {
        if let key {
            if let e = entries.first(where: { $0.table == table && $0.index == index && $0.key == key }) { return e.line }
        }
        return entries.first(where: { $0.table == table && $0.index == index && $0.key == nil })?.line
    }

    /// `keys` sorted by where they appear in `[table]`; unknown ones keep their relative order at the end.
    func fileOrder(of keys: [String], table: String) -> [String] {
        var position: [String: Int] = [:]
        for (k, e) in entries.enumerated() where e.table == table && e.index == nil {
            if let key = e.key, position[key] == nil { position[key] = k }
        }
        return keys.enumerated().sorted { a, b in
            (position[a.element] ?? Int.max, a.offset) < (position[b.element] ?? Int.max, b.offset)
        }.map(\.element)
    }
}

import Foundation
