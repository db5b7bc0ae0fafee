import Foundation

/// A PEtab table: tab-separated, a header line, one row per line (blank lines skipped). Every
/// row keeps its line number, so that messages name FILE:LINE.
struct TSVTable {
    /// The file as messages name it (relative to the YAML file's folder when given so).
    let file: String
    let header: [String]
    let rows: [Row]

    struct Row {
        let line: Int
        let fields: [String]
    }

    init(path: String, display: String) throws {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "not readable as UTF-8 text" : "no such file"
            throw PEtabError("cannot read the table (\(reason)).", file: display)
        }
        file = display
        // By scalars: "\r\n" is one Character, which Character-wise splitting would not cut.
        var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map {
            String(String.UnicodeScalarView($0.last == "\r" ? $0.dropLast() : $0[...]))
        }
        if lines.last == "" { lines.removeLast() }
        func split(_ line: String) -> [String] {
            line.unicodeScalars.split(separator: "\t", omittingEmptySubsequences: false).map {
                String(String.UnicodeScalarView($0)).trimmingCharacters(in: .whitespaces)
            }
        }
        guard let first = lines.first, !first.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw PEtabError("the table is empty: its first line must be the header.", file: display, line: 1)
        }
        header = split(first)
        var seen: [String: Int] = [:]
        for (k, name) in header.enumerated() where !name.isEmpty {
            if seen[name] != nil {
                throw PEtabError("the header names the column '\(name)' twice.", file: display, line: 1)
            }
            seen[name] = k
        }
        var rows: [Row] = []
        for (k, line) in lines.enumerated().dropFirst() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let fields = split(line)
            if fields.count > header.count, fields[header.count...].contains(where: { !$0.isEmpty }) {
                throw PEtabError(
                    "the row has \(fields.count) fields, the header \(header.count) columns.", file: display,
                    line: k + 1)
            }
            rows.append(Row(line: k + 1, fields: fields))
        }
        self.rows = rows
    }

    func column(_ name: String) -> Int? { header.firstIndex(of: name) }

    /// The column `name`, or an error naming the table and the columns it has.
    func requiredColumn(_ name: String) throws -> Int {
        guard let c = column(name) else {
            throw PEtabError(
                "the table has no column '\(name)' (its columns: \(header.joined(separator: ", "))).", file: file,
                line: 1)
        }
        return c
    }

    /// The field of `row` in column `c` ("" when the row is shorter or `c` is nil).
    func field(_ row: Row, _ c: Int?) -> String {
        guard let c, c < row.fields.count else { return "" }
        return row.fields[c]
    }
}

/// A PEtab number: decimal, `inf`, `-inf` or `nan` in any case.
func petabNumber(_ text: String) -> Double? {
    switch text.lowercased() {
    case "inf", "+inf", "infinity": return .infinity
    case "-inf", "-infinity": return -.infinity
    case "nan": return .nan
    default: return Double(text)
    }
}
