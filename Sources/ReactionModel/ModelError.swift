import Foundation

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
    let x = Array(a)
    let y = Array(b)
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
    struct Entry {
        var table: String
        var index: Int?
        var key: String?
        var line: Int
    }
    private(set) var entries: [Entry] = []

    /// One pass over the UTF-8 bytes: table headers, `key =` lines, and multi-line arrays, whose
    /// lines are values, not keys.
    init(source: String) {
        let bytes = Array(source.utf8)
        let newline = UInt8(ascii: "\n")
        let hash = UInt8(ascii: "#")
        let quote = UInt8(ascii: "\"")
        let apostrophe = UInt8(ascii: "'")
        let open = UInt8(ascii: "[")
        let close = UInt8(ascii: "]")
        let equals = UInt8(ascii: "=")
        func isSpace(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 13 }
        func text(_ a: Int, _ b: Int) -> String {
            var lo = a
            var hi = b
            while lo < hi && isSpace(bytes[lo]) { lo += 1 }
            while hi > lo && isSpace(bytes[hi - 1]) { hi -= 1 }
            return String(decoding: bytes[lo..<hi], as: UTF8.self)
        }
        var table = ""
        var index: Int? = nil
        var arrayCounts: [String: Int] = [:]
        var depth = 0
        var line = 0
        var start = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != newline { end += 1 }
            line += 1
            // The content up to a comment outside strings, its first '=', and its brackets.
            var contentEnd = end
            var inString: UInt8 = 0
            var firstEquals = -1
            var bracketDelta = 0
            var k = start
            while k < end {
                let b = bytes[k]
                if inString != 0 {
                    if b == inString { inString = 0 }
                } else if b == quote || b == apostrophe {
                    inString = b
                } else if b == hash {
                    contentEnd = k
                    break
                } else if b == equals && firstEquals < 0 {
                    firstEquals = k
                } else if b == open {
                    bracketDelta += 1
                } else if b == close {
                    bracketDelta -= 1
                }
                k += 1
            }
            var first = start
            while first < contentEnd && isSpace(bytes[first]) { first += 1 }
            if first < contentEnd {
                if depth == 0 && bytes[first] == open && firstEquals < 0 {
                    let isArray = first + 1 < contentEnd && bytes[first + 1] == open
                    let nameStart = first + (isArray ? 2 : 1)
                    var nameEnd = nameStart
                    while nameEnd < contentEnd && bytes[nameEnd] != close { nameEnd += 1 }
                    table = text(nameStart, nameEnd)
                    if isArray {
                        let n = arrayCounts[table, default: 0]
                        arrayCounts[table] = n + 1
                        index = n
                    } else {
                        index = nil
                    }
                    entries.append(Entry(table: table, index: index, key: nil, line: line))
                } else {
                    if depth == 0 && firstEquals >= 0 {
                        var key = text(first, firstEquals)
                        if key.hasPrefix("\""), key.hasSuffix("\""), key.count >= 2 {
                            key = String(key.dropFirst().dropLast())
                        }
                        entries.append(Entry(table: table, index: index, key: key, line: line))
                    }
                    depth = max(0, depth + bracketDelta)
                }
            }
            start = end + 1
        }
    }

    /// Line of `key` in `[table]` (or in the `index`-th `[[table]]`), or of the header itself.
    func line(table: String, index: Int? = nil, key: String? = nil) -> Int? {
        if let key {
            if let e = entries.first(where: { $0.table == table && $0.index == index && $0.key == key }) {
                return e.line
            }
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
