import ArgumentParser
import Foundation
import ReactionModel
import Simulation

/// `stat3sim merge`: join the shards of one sweep into one file.
struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Merge the shard files of one sweep (or fit) into one file, checking that every point is there exactly once.",
        discussion: """
            Each shard's .meta.json must name the same model (SHA-256) and the same sweep (fingerprint of
            ranges, method, seed, metrics and settings), and be complete. The merged file has every point
            in order, as an unsharded run writes it. The shards of a `stat3sim fit` merge the same way
            (a start is a point; the fingerprint covers the problem, starts, seed and settings).

            Example:
              stat3sim merge shard_*.csv --out sweep.csv
            """)

    @Argument(help: "The shard CSV files (with their .meta.json sidecars).")
    var files: [String]

    @Option(help: "The merged CSV file.")
    var out: String

    func run() throws {
        guard !files.isEmpty else { throw CLIError("merge: give the shard files.") }
        var header: String? = nil
        var fingerprint: String? = nil
        var modelHash: String? = nil
        var total = 0
        var reference: RunMetadata? = nil
        var rows: [Int: Substring] = [:]
        var seconds = 0.0
        var shardCounts: Set<Int> = []
        for file in files {
            let metaPath = SweepRunner.metadataPath(file)
            guard let meta = RunMetadata.read(metaPath) else {
                throw CLIError("merge: \(file) has no readable \(metaPath); only complete sweep outputs can be merged.")
            }
            guard meta.complete == true else {
                throw CLIError("merge: \(file) is not complete (finish it with --resume first).")
            }
            let thisFingerprint = meta.sweep?.fingerprint ?? meta.fit?.fingerprint
            let thisModel: String? = meta.model.sha256
            if fingerprint == nil {
                fingerprint = thisFingerprint
                modelHash = thisModel
                reference = meta
            }
            guard thisModel == modelHash else {
                throw CLIError("merge: \(file) comes from a different model file (SHA-256 differs from \(files[0])).")
            }
            guard thisFingerprint == fingerprint else {
                throw CLIError(
                    "merge: \(file) comes from a different sweep than \(files[0]) (ranges, method, seed, metrics or "
                        + "settings differ)."
                )
            }
            if let count = meta.shard?.value?.count { shardCounts.insert(count) }
            total = meta.sweep?.points ?? meta.fit?.starts ?? 0
            seconds += meta.wallSeconds ?? 0
            let text = try String(contentsOfFile: file, encoding: .utf8)
            var lines = text.split(separator: "\n", omittingEmptySubsequences: true)
            guard !lines.isEmpty else { throw CLIError("merge: \(file) is empty.") }
            let thisHeader = String(lines.removeFirst())
            if header == nil { header = thisHeader }
            guard thisHeader == header else { throw CLIError("merge: \(file) has different columns than \(files[0]).") }
            for line in lines {
                guard let point = Int(line.prefix { $0 != "," }) else {
                    throw CLIError("merge: \(file) has a row without a point number: \(excerpt(line))")
                }
                guard rows[point] == nil else {
                    throw CLIError("merge: point \(point) appears more than once (again in \(file)).")
                }
                rows[point] = line
            }
        }
        if shardCounts.count > 1 {
            throw CLIError(
                "merge: the files come from different shardings "
                    + "(\(shardCounts.sorted().map(String.init).joined(separator: ", ")) shards)."
            )
        }
        // The sidecars' point count is checked against the rows read (it is not trusted for an
        // allocation or a loop): a point beyond it is an error, and the missing ones are found
        // by a walk that stops after the first ten.
        if let stray = rows.keys.first(where: { $0 < 1 || $0 > total }) {
            throw CLIError(
                "merge: point \(stray) lies outside the sweep's \(total) points; the files or their .meta.json do not "
                    + "belong together."
            )
        }
        guard rows.count == total else {
            var list: [Int] = []
            var point = 1
            while list.count < 10 && point <= total {
                if rows[point] == nil { list.append(point) }
                point += 1
            }
            let missing = total - rows.count
            throw CLIError(
                "merge: \(missing) of \(total) points are missing "
                    + "(\(list.map(String.init).joined(separator: ", "))\(missing > 10 ? ", …" : "")); "
                    + "add the missing shards."
            )
        }
        var text = header! + "\n"
        for point in 1...total { text += rows[point]! + "\n" }
        do { try OutputWriter.writeAtomically(text, to: out) } catch let e as SimulationError {
            throw CLIError(e.message)
        }

        var merged = reference!
        merged.shard = Nullable(nil)
        merged.mergedFrom = files
        merged.wallSeconds = seconds
        merged.command = CommandLine.arguments
        var totals = RunMetadata.Totals(points: total, ok: 0, failed: 0, unsettled: 0)
        let columns = header!.split(separator: ",").map(String.init)
        let statusColumn = columns.firstIndex(of: "status") ?? 0
        for point in 1...total {
            let status = OutputWriter.splitCSV(String(rows[point]!))[statusColumn]
            if status == "ok" || status.hasPrefix("converged") {
                totals.ok += 1
            } else if status == "failed" || status.hasPrefix("failed:") {
                totals.failed += 1
            } else {
                totals.unsettled += 1
            }
        }
        merged.totals = totals
        do { try OutputWriter.writeAtomically(merged.json(), to: SweepRunner.metadataPath(out)) } catch let e
            as SimulationError
        { throw CLIError(e.message) }
        FileHandle.standardError.write(Data("merged \(files.count) files, \(total) points, into \(out)\n".utf8))
    }
}
