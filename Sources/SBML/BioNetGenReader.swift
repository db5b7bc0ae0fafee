import Foundation
import ReactionModel

/// BioNetGen's generated reaction network (a `.net` file, written by `generate_network`) → a model
/// definition, for networks of elementary (mass-action) reactions in one volume.
///
/// The mapping (docs/model-format.md, "BioNetGen networks (.net)"):
/// * `begin parameters`: `index name value-or-expression`; expressions of other parameters are
///   evaluated once, when the file is read (as SBML initial assignments are), so `--set` on a base
///   parameter does not change the parameters derived from it;
/// * `begin species`: `index pattern amount` (the amount a number, a parameter or an expression of
///   parameters); species `i` becomes `S<i>` (BioNetGen's own SBML ids) with the pattern as its
///   description; a pattern marked `$` is a fixed species (`constant = true`);
/// * `begin reactions`: `index reactants products rate`; the rate law is the rate constant as
///   BioNetGen wrote it, with the statistical factor already in it (`2*kp1`, `0.5*kp2`), and the
///   flux is that constant times the product of the reactants' amounts, a reactant listed twice
///   counting twice: exactly a mass-action reaction of this format. Reaction `i` becomes `R<i>`;
///   the comment after it (the rule's name) its description;
/// * `begin groups` (BioNetGen's observables): `index name entries`, each entry `S` or `W*S`,
///   becomes an observable `W*S + …`;
/// * one compartment `cell` of size 1, so amounts and concentrations coincide.
///
/// Refused, with the file's line: compartments (cBNGL), functions and functional, `Sat`, `MM` or
/// `Hill` rate laws, blocks of other kinds, names the model file cannot use or that collide, and
/// malformed lines. Every error is a `ModelError` (`FILE:LINE: what is wrong`).
public enum BioNetGenReader {
    public static func definition(path: String) throws -> ModelDefinition {
        let source: String
        do {
            source = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "not readable as UTF-8 text" : "no such file"
            throw ModelError(file: path, line: nil, message: "cannot read the BioNetGen network (\(reason)).")
        }
        return try definition(source: source, file: path)
    }

    public static func definition(source: String, file: String) throws -> ModelDefinition {
        var reader = NetReader(file: file)
        try reader.read(source)
        return try reader.build()
    }
}

/// One `.net` file, read block by block into plain lists; `build` resolves names and values.
struct NetReader {
    let file: String

    /// A line of a block: its number in the file, its fields (whitespace-separated, the comment
    /// removed) and the comment after `#`, if any, trimmed.
    struct Line {
        var number: Int
        var fields: [String]
        var comment: String?
    }

    var blocks: [String: (begin: Int, lines: [Line])] = [:]
    /// "Created by BioNetGen 2.7.0" from the first comment, when there is one.
    var creator: String?

    static let readBlocks = ["parameters", "species", "reactions", "groups"]
    static let refusedBlocks: [String: String] = [
        "compartments":
            "compartments (cBNGL) are not supported: the network's volumes and their scaling of rate constants have "
            + "no counterpart in the import yet; generate the network from a model without compartments.",
        "functions":
            "functions (and the functional rate laws that use them) are not supported; only elementary "
            + "(mass-action) rate laws are read.",
    ]

    init(file: String) { self.file = file }

    func fail(_ line: Int?, _ message: String) -> ModelError { ModelError(file: file, line: line, message: message) }

    /// Splits the file into its blocks; checks that every line outside a block is blank or a comment
    /// and that every block ends. Works on the UTF-8 bytes: the fields are ASCII in every network
    /// BioNetGen writes, and a Character-level split cost more than the rest of the import.
    mutating func read(_ source: String) throws {
        var current: (name: String, begin: Int, lines: [Line])? = nil
        var number = 0
        let bytes = Array(source.utf8)
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
            number += 1
            let line = NetReader.split(bytes, start, end)
            start = end + 1
            let fields = line.fields
            if fields.isEmpty {
                if number == 1, let c = line.comment, let range = c.range(of: "Created by ") {
                    creator = String(c[range.upperBound...]).trimmingCharacters(in: .whitespaces)
                }
                continue
            }
            if fields[0] == "begin" {
                let name = fields.dropFirst().joined(separator: " ")
                if let open = current {
                    throw fail(
                        number,
                        "'begin \(name)' inside the block 'begin \(open.name)' of line \(open.begin); end that "
                            + "block first ('end \(open.name)').")
                }
                if let why = NetReader.refusedBlocks[name] { throw fail(number, "the block 'begin \(name)': \(why)") }
                guard NetReader.readBlocks.contains(name) else {
                    throw fail(
                        number,
                        "unknown block 'begin \(name)'; a BioNetGen network (.net) has the blocks "
                            + NetReader.readBlocks.map { "'\($0)'" }.joined(separator: ", ") + ".")
                }
                if let earlier = blocks[name] {
                    throw fail(number, "a second block 'begin \(name)' (the first is at line \(earlier.begin)).")
                }
                current = (name, number, [])
                continue
            }
            if fields[0] == "end" {
                let name = fields.dropFirst().joined(separator: " ")
                guard let open = current else {
                    throw fail(number, "'end \(name)' without a matching 'begin \(name)'.")
                }
                guard name == open.name else {
                    throw fail(
                        number,
                        "'end \(name)' closes the block 'begin \(open.name)' of line \(open.begin); write "
                            + "'end \(open.name)'.")
                }
                blocks[name] = (open.begin, open.lines)
                current = nil
                continue
            }
            guard current != nil else {
                throw fail(
                    number,
                    "'\(excerpt(fields.joined(separator: " "), limit: 60))' is outside every block; a "
                        + "BioNetGen network's lines sit between 'begin NAME' and 'end NAME'.")
            }
            current!.lines.append(Line(number: number, fields: fields, comment: line.comment))
        }
        if let open = current {
            throw fail(open.begin, "the block 'begin \(open.name)' has no 'end \(open.name)'.")
        }
        guard blocks["species"] != nil else {
            throw fail(nil, "the file has no 'begin species' block: it is not a BioNetGen network (.net).")
        }
    }

    /// The fields of bytes[start..<end] (separated by spaces, tabs and carriage returns) before a
    /// `#`, and the comment after it with its surrounding blanks removed.
    static func split(_ bytes: [UInt8], _ start: Int, _ end: Int) -> (fields: [String], comment: String?) {
        func isBlank(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 13 }
        var fields: [String] = []
        var i = start
        var comment: String? = nil
        while i < end {
            if isBlank(bytes[i]) {
                i += 1
                continue
            }
            if bytes[i] == UInt8(ascii: "#") {
                var lo = i + 1
                var hi = end
                while lo < hi && isBlank(bytes[lo]) { lo += 1 }
                while hi > lo && isBlank(bytes[hi - 1]) { hi -= 1 }
                comment = String(decoding: bytes[lo..<hi], as: UTF8.self)
                break
            }
            var j = i
            while j < end && !isBlank(bytes[j]) && bytes[j] != UInt8(ascii: "#") { j += 1 }
            fields.append(String(decoding: bytes[i..<j], as: UTF8.self))
            i = j
        }
        return (fields, comment)
    }

    /// The index at the start of a line: a positive integer.
    func index(_ line: Line, _ what: String) throws -> Int {
        guard let i = Int(line.fields[0]), i > 0 else {
            throw fail(line.number, "the \(what) line starts with '\(line.fields[0])', not an index (1, 2, …).")
        }
        return i
    }

    /// Fails unless `valid(field count)`: "a KIND line is 'USAGE'; this one has N fields."
    func requireFields(_ line: Line, _ valid: (Int) -> Bool, _ usage: String) throws {
        let count = line.fields.count
        guard valid(count) else {
            throw fail(line.number, "\(usage); this one has \(count) field\(count == 1 ? "" : "s").")
        }
    }

    func checkName(_ name: String, _ kind: String, line: Int) throws {
        guard isUsableName(name) else {
            throw fail(
                line,
                "the \(kind) name '\(name)' is not usable in stat3sim expressions: names start with a letter or "
                    + "'_' and contain only ASCII letters, digits and '_'.")
        }
        guard name != "t" else { throw fail(line, "'t' is reserved for time in stat3sim and cannot name a \(kind).") }
    }
}

/// A letter or '_', then ASCII letters, digits and '_' (the model file's names).
func isUsableName(_ name: String) -> Bool {
    func isLetter(_ b: UInt8) -> Bool { (65...90).contains(b) || (97...122).contains(b) || b == 95 }
    guard let first = name.utf8.first, isLetter(first) else { return false }
    return name.utf8.allSatisfy { isLetter($0) || (48...57).contains($0) }
}
