import Dispatch
import Foundation
import ODESolver
import ReactionModel

/// Everything that defines a sweep's numbers (and so its fingerprint): the plan, the metrics
/// and the run settings. Sharding and the number of jobs are not part of it.
public struct SweepSpecification: Sendable {
    public var plan: SweepPlan
    public var metrics: [Metric]
    public var settings: RunSettings

    public init(plan: SweepPlan, metrics: [Metric], settings: RunSettings) {
        self.plan = plan
        self.metrics = metrics
        self.settings = settings
    }

    /// The CSV header: point, [scenario], varied names, status, message, metric columns.
    public var header: [String] {
        ["point"] + (hasScenarioColumn ? ["scenario"] : []) + plan.names + ["status", "message"] + metrics.map(\.column)
    }

    var hasScenarioColumn: Bool { plan.scenarios != [nil] }

    /// What the sidecar records of the sweep, also hashed into the fingerprint.
    func description(modelHash: String) -> SweepDescription {
        var method = SweepDescription.Method(name: plan.method.name)
        switch plan.method {
        case .grid: break
        case .random(let n, let seed), .latinHypercube(let n, let seed):
            method.samples = n
            method.seed = String(seed)
        case .sobol(let n), .saltelli(let n): method.samples = n
        case .morris(let r, let levels, let seed):
            method.samples = r
            method.levels = levels
            method.seed = String(seed)
        case .points(let file, let sha):
            method.file = file
            method.sha256 = sha
        }
        let s = settings
        return SweepDescription(
            modelSha256: modelHash, method: method,
            dimensions: plan.dimensions.map { d in
                if case .points = plan.method { return .init(name: d.name) }
                return .init(name: d.name, low: d.low, high: d.high, log: d.logarithmic, count: d.count)
            },
            scenarios: plan.scenarios.map { $0 ?? "default" },
            metrics: metrics.map { .init(column: $0.column, definition: $0.kind.definition) },
            points: plan.pointCount,
            settings: .init(
                tEnd: Nullable(s.tEnd), rtol: Nullable(s.rtol), atol: Nullable(s.atol),
                overrides: s.overrides.map { "\($0.name)=\($0.value.exactText)" }))
    }

    func fingerprint(modelHash: String) -> String { description(modelHash: modelHash).hash() }
}

/// How a sweep is run (not part of its numbers).
public struct SweepExecution: Sendable {
    public var jobs = 1
    /// (index I, count N), 1-based: this run computes the points p with p ≡ I (mod N).
    public var shard: (index: Int, count: Int)? = nil
    public var output: String = "sweep.csv"
    public var trajectories: String? = nil
    public var resume = false
    public var progress = false
    public var command: [String] = []
    public var programVersion = ""
    public init() {}
}

public struct SweepSummary: Sendable {
    public var points: Int
    public var ok: Int
    public var failed: Int
    public var unsettled: Int
    public var skipped: Int
    public var interrupted: Bool
    public var seconds: Double
    public var output: String
}

/// Set by SIGINT/SIGTERM: workers take no new points, and the sweep writes what is complete.
public final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    public init() {}
    public var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }
    public func set() {
        lock.lock()
        stopped = true
        lock.unlock()
    }
}

/// Runs a sweep on `jobs` threads, one solver workspace per thread reused across its points,
/// and streams rows to the output in point order (whatever order they finish in), so the file is
/// the same byte for byte for any number of jobs and memory stays flat.
public final class SweepRunner {
    let definition: ModelDefinition
    let source: String
    let specification: SweepSpecification
    let execution: SweepExecution
    let simulator: Simulator

    public init(
        definition: ModelDefinition, source: String, specification: SweepSpecification, execution: SweepExecution
    ) {
        self.definition = definition
        self.source = source
        self.modelHash = SHA256.hex(Data(source.utf8))
        self.specification = specification
        self.execution = execution
        self.simulator = Simulator(definition)
    }

    let modelHash: String

    /// The points of this run, in order (a shard's share of 1...pointCount), computed from
    /// their position: a sweep's memory does not grow with its points.
    var pointsOfThisRun: (count: Int, number: (Int) -> Int) {
        let (i, n) = execution.shard ?? (1, 1)
        let total = specification.plan.pointCount
        let count = total >= i ? (total - i) / n + 1 : 0
        return (count, { i + $0 * n })
    }

    /// The first `count` point numbers of this run.
    func points(prefix count: Int) -> [Int] {
        let (available, number) = pointsOfThisRun
        return (0..<Swift.min(count, available)).map(number)
    }

    /// Refuses what would fail at every point before a file is made: the solver settings (one
    /// workspace is built), every scenario with the overrides and the output grid, and the size
    /// of the --trajectories file.
    func preflight(_ workspace: Workspace, points: Int) throws {
        var gridRows = 0
        for scenario in specification.plan.scenarios {
            let configured = try simulator.configure(
                workspace.network, scenario: scenario, settings: specification.settings)
            gridRows = configured.outputTimes.count
        }
        // State events are looked for at the output times inside each step, so with them the
        // grid costs memory even without --trajectories.
        if !definition.events.allSatisfy({ $0.trigger == nil })
            || specification.plan.scenarios.contains(where: { name in
                ((try? Simulator.scenarios(named: name, in: definition)) ?? []).contains {
                    $0.events.contains { $0.trigger != nil }
                }
            })
        {
            let limit = specification.settings.maxRows ?? OutputSize.defaultMaxRows
            if gridRows > limit {
                throw SimulationError(
                    "each point's output grid would have \(gridRows) times, at which the model's state events are "
                        + "looked for, more than the limit of \(limit); give a larger --output-interval, or --max-rows "
                        + "\(gridRows) to allow it."
                )
            }
        }
        if execution.trajectories != nil {
            let (rows, overflow) = gridRows.multipliedReportingOverflow(by: points)
            try OutputSize.check(
                rows: overflow ? Int.max : rows, fields: definition.species.count + definition.observables.count + 2,
                limit: specification.settings.maxRows,
                what: "--trajectories (\(points) points × \(gridRows) output times)",
                remedy: "give a larger --output-interval or fewer points")
        }
    }

    public func run(stop: StopFlag) throws -> SweepSummary {
        let started = Date()
        let partial = execution.output + ".partial"
        let trajectoriesPartial = execution.trajectories.map { $0 + ".partial" }
        let header = specification.header.map(OutputWriter.csvField).joined(separator: ",") + "\n"
        let trajectoryHeader =
            (["point"] + (specification.hasScenarioColumn ? ["scenario"] : []) + ["time"]
            + definition.species.map(\.name) + definition.observables.map(\.name)).joined(separator: ",") + "\n"
        let (pointCount, pointNumber) = pointsOfThisRun

        // One workspace per job, built (and the settings checked) before any file exists.
        let jobs = max(1, min(execution.jobs, max(pointCount, 1)))
        let workspaces = try (0..<jobs).map { _ in
            try Workspace(
                simulator: simulator, specification: specification,
                trajectories: execution.trajectories != nil)
        }
        try preflight(workspaces[0], points: pointCount)

        // Resume: keep the complete rows of an interrupted run of the same sweep.
        var done = 0
        var resumedTotals = (ok: 0, failed: 0, unsettled: 0)
        if execution.resume {
            (done, resumedTotals) = try resumableRows(partial: partial, header: header)
        }
        let created = [partial] + (trajectoriesPartial.map { [$0] } ?? [])
        let writer: OrderedWriter
        do {
            writer = try OrderedWriter(
                path: partial, header: header, append: done > 0,
                trajectoriesPath: trajectoriesPartial, trajectoryHeader: trajectoryHeader,
                appendTrajectories: done > 0)
        } catch {
            if done == 0 { for path in created { try? FileManager.default.removeItem(atPath: path) } }
            throw error
        }
        let todoCount = pointCount - done
        let progress = Progress(total: pointCount, done: done, enabled: execution.progress)

        // Points are claimed in order from a shared counter, and a job waits when it is too far
        // ahead of the writer (memory stays bounded).
        let queue = WorkQueue(count: todoCount, window: 8 * jobs)
        var firstError: Error? = nil
        let errorLock = NSLock()
        DispatchQueue.concurrentPerform(iterations: jobs) { job in
            let workspace = workspaces[job]
            while !stop.isSet, let position = queue.claim() {
                let number = pointNumber(done + position)
                do {
                    let result = try workspace.compute(point: number)
                    writer.deliver(
                        position: position, row: result.row, trajectory: result.trajectory, status: result.status)
                    progress.advance()
                } catch {
                    errorLock.lock()
                    if firstError == nil { firstError = error }
                    errorLock.unlock()
                    stop.set()
                }
                queue.finished(position, writtenThrough: writer.written)
            }
        }
        progress.finish()
        if let firstError {
            // An error of the sweep, not of a point: a fresh start leaves no files behind.
            try? writer.close()
            if done == 0 { for path in created { try? FileManager.default.removeItem(atPath: path) } }
            throw firstError
        }
        try writer.close()

        let complete = writer.written == todoCount
        // The rows of this run are counted as they are written; resumed rows when they were read.
        let written = writer.counts
        let totals = (
            ok: resumedTotals.ok + written.ok, failed: resumedTotals.failed + written.failed,
            unsettled: resumedTotals.unsettled + written.unsettled
        )
        let summary = SweepSummary(
            points: pointCount, ok: totals.ok, failed: totals.failed, unsettled: totals.unsettled,
            skipped: done, interrupted: !complete, seconds: Date().timeIntervalSince(started),
            output: complete ? execution.output : partial)
        let meta = metadata(summary: summary, complete: complete)
        if complete {
            try FileManager.default.moveItemReplacing(at: partial, to: execution.output)
            if let trajectories = execution.trajectories, let t = trajectoriesPartial {
                try FileManager.default.moveItemReplacing(at: t, to: trajectories)
            }
            try OutputWriter.writeAtomically(meta, to: SweepRunner.metadataPath(execution.output))
            try? FileManager.default.removeItem(atPath: SweepRunner.metadataPath(partial))
        } else {
            try OutputWriter.writeAtomically(meta, to: SweepRunner.metadataPath(partial))
        }
        return summary
    }

    /// Whether the output file already holds this sweep complete: nil when there is no complete
    /// output (none, or an interrupted run's OUT.partial beside it), else whether its sidecar has
    /// this sweep's fingerprint. `gsa --resume` reads such a file (a finished run, or merged
    /// shards) instead of computing its points again.
    public var completeOutputMatches: Bool? {
        let output = execution.output
        guard FileManager.default.fileExists(atPath: output),
            !FileManager.default.fileExists(atPath: output + ".partial")
        else { return nil }
        guard let meta = RunMetadata.read(SweepRunner.metadataPath(output)), meta.complete == true,
            meta.shard?.value == nil
        else { return false }
        return meta.sweep?.fingerprint == specification.fingerprint(modelHash: modelHash)
    }

    public static func metadataPath(_ csv: String) -> String {
        OutputWriter.companionPath(of: csv, suffix: ".meta.json")
    }

    /// Complete rows already in `partial` (after checking it belongs to this sweep), and their
    /// statuses.
    func resumableRows(partial: String, header: String) throws -> (
        rows: Int, totals: (ok: Int, failed: Int, unsettled: Int)
    ) {
        guard FileManager.default.fileExists(atPath: partial) else {
            if FileManager.default.fileExists(atPath: execution.output) {
                throw SimulationError("--resume: \(execution.output) is already complete; there is nothing to resume.")
            }
            return (0, (0, 0, 0))
        }
        let meta = SweepRunner.metadataPath(partial)
        if let fingerprint = RunMetadata.read(meta)?.sweep?.fingerprint,
            fingerprint != specification.fingerprint(modelHash: modelHash)
        {
            throw SimulationError(
                "--resume: \(partial) comes from a different sweep or model (fingerprint differs); remove it or run "
                    + "without --resume."
            )
        }
        let text = try String(contentsOfFile: partial, encoding: .utf8)
        guard text.hasPrefix(header) else {
            throw SimulationError(
                "--resume: \(partial) has different columns than this sweep; remove it or run without --resume.")
        }
        // Keep whole lines only; a line cut by the interruption is dropped.
        var body = text.dropFirst(header.count)
        if let lastNewline = body.lastIndex(of: "\n") { body = body[...lastNewline] } else { body = "" }
        let rows = body.split(separator: "\n", omittingEmptySubsequences: true)
        let expected = points(prefix: rows.count)
        for (row, number) in zip(rows, expected)
        where row.split(separator: ",", maxSplits: 1).first.map(String.init) != String(number) {
            throw SimulationError(
                "--resume: \(partial) does not hold this sweep's points in order (found "
                    + "'\(excerpt(row.prefix(20), limit: 20))…' where point \(number) belongs)."
            )
        }
        // Rewrite the file with whole rows only, so appending continues cleanly.
        try (header + body).write(toFile: partial, atomically: true, encoding: .utf8)
        if let trajectories = execution.trajectories {
            try truncateTrajectories(trajectories + ".partial", throughPoint: expected.last ?? 0)
        }
        return (rows.count, countStatuses(rows))
    }

    func truncateTrajectories(_ path: String, throughPoint last: Int) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return }
        var kept: [Substring] = []
        for (k, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            if k == 0 {
                kept.append(line)
                continue
            }
            guard let point = Int(line.prefix { $0 != "," }), point <= last else { continue }
            kept.append(line)
        }
        try (kept.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Rows by status, from their status column.
    func countStatuses(_ rows: [Substring]) -> (ok: Int, failed: Int, unsettled: Int) {
        let statusColumn = specification.header.firstIndex(of: "status")!
        var counts = (ok: 0, failed: 0, unsettled: 0)
        for line in rows {
            let fields = OutputWriter.splitCSV(String(line))
            guard fields.count > statusColumn else { continue }
            switch fields[statusColumn] {
            case "ok": counts.ok += 1
            case "failed": counts.failed += 1
            default: counts.unsettled += 1
            }
        }
        return counts
    }

    func metadata(summary: SweepSummary, complete: Bool) -> String {
        var meta = RunMetadata(
            version: execution.programVersion, command: execution.command, definition: definition, sha256: modelHash)
        meta.sweep = specification.description(modelHash: modelHash)
        meta.sweep!.fingerprint = specification.fingerprint(modelHash: modelHash)
        meta.shard = Nullable(execution.shard.map { RunMetadata.Shard(index: $0.index, count: $0.count) })
        meta.columns = specification.header
        meta.totals = .init(
            points: summary.points, ok: summary.ok, failed: summary.failed, unsettled: summary.unsettled)
        meta.complete = complete
        meta.jobs = execution.jobs
        meta.wallSeconds = summary.seconds
        meta.created = RunMetadata.now()
        return meta.json()
    }
}

extension FileManager {
    /// Atomic rename that replaces `destination` (rename(2)); into a device or FIFO, a copy
    /// (`OutputWriter.isSpecialFile`).
    func moveItemReplacing(at source: String, to destination: String) throws {
        if OutputWriter.isSpecialFile(destination) {
            let contents = try String(contentsOfFile: source, encoding: .utf8)
            try OutputWriter.writeAtomically(contents, to: destination)
            try? removeItem(atPath: source)
            return
        }
        guard rename(source, destination) == 0 else {
            throw SimulationError("cannot rename \(source) to \(destination): \(String(cString: strerror(errno)))")
        }
    }
}

/// Hands out work positions in order and holds back a job that runs too far ahead of the writer.
final class WorkQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var next = 0
    private let count: Int
    private let window: Int
    private var writtenThrough = 0

    init(count: Int, window: Int) {
        self.count = count
        self.window = window
    }

    func claim() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while next < count && next >= writtenThrough + window { condition.wait() }
        guard next < count else { return nil }
        next += 1
        return next - 1
    }

    func finished(_ position: Int, writtenThrough written: Int) {
        condition.lock()
        writtenThrough = max(writtenThrough, written)
        condition.broadcast()
        condition.unlock()
    }
}

/// Writes rows in position order as they arrive, flushing each contiguous run at once.
final class OrderedWriter: @unchecked Sendable {
    private let lock = NSLock()
    private let handle: FileHandle
    private let trajectoryHandle: FileHandle?
    private var pending: [Int: (String, String?, Status)] = [:]
    private(set) var written = 0
    private(set) var counts = (ok: 0, failed: 0, unsettled: 0)

    enum Status { case ok, failed, unsettled }

    init(
        path: String, header: String, append: Bool, trajectoriesPath: String?, trajectoryHeader: String,
        appendTrajectories: Bool
    ) throws {
        handle = try OrderedWriter.open(path, header: header, append: append)
        trajectoryHandle = try trajectoriesPath.map {
            try OrderedWriter.open($0, header: trajectoryHeader, append: appendTrajectories)
        }
    }

    static func open(_ path: String, header: String, append: Bool) throws -> FileHandle {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        if !append || !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: Data(header.utf8)) else {
                throw SimulationError("cannot write \(path).")
            }
        }
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        return handle
    }

    func deliver(position: Int, row: String, trajectory: String?, status: Status) {
        lock.lock()
        defer { lock.unlock() }
        pending[position] = (row, trajectory, status)
        var block = ""
        var trajectoryBlock = ""
        while let (row, trajectory, status) = pending.removeValue(forKey: written) {
            block += row
            if let trajectory { trajectoryBlock += trajectory }
            switch status {
            case .ok: counts.ok += 1
            case .failed: counts.failed += 1
            case .unsettled: counts.unsettled += 1
            }
            written += 1
        }
        if !block.isEmpty { handle.write(Data(block.utf8)) }
        if !trajectoryBlock.isEmpty { trajectoryHandle?.write(Data(trajectoryBlock.utf8)) }
    }

    func close() throws {
        lock.lock()
        defer { lock.unlock() }
        try handle.synchronize()
        try handle.close()
        try trajectoryHandle?.synchronize()
        try trajectoryHandle?.close()
    }
}

/// Progress on standard error when it is a terminal: points done, rate, time left.
final class Progress: @unchecked Sendable {
    private let lock = NSLock()
    private let total: Int
    private var done: Int
    private let startDone: Int
    private let enabled: Bool
    private let start = Date()
    private var lastPrint = Date.distantPast

    init(total: Int, done: Int, enabled: Bool) {
        self.total = total
        self.done = done
        self.startDone = done
        self.enabled = enabled
    }

    func advance() {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        done += 1
        let now = Date()
        guard now.timeIntervalSince(lastPrint) > 0.25 || done == total else { return }
        lastPrint = now
        let elapsed = now.timeIntervalSince(start)
        let rate = Double(done - startDone) / max(elapsed, 1e-9)
        let eta = rate > 0 ? Double(total - done) / rate : 0
        FileHandle.standardError.write(
            Data(String(format: "\r  %d/%d points  %.1f/s  ETA %.0f s   ", done, total, rate, eta).utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
