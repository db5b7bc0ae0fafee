import ArgumentParser
import Calibration
import Foundation
import Simulation

/// `stat3sim fit`: multi-start maximum-likelihood fits of a PEtab problem.
struct Fit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit a PEtab problem by maximum likelihood from many starts, on every core.",
        discussion: """
            Each start is a point of a Latin hypercube over the estimated parameters' bounds on their scales
            (from --seed alone); from it a trust-region Gauss–Newton optimiser (the Fisher information from
            forward sensitivities as Hessian, the bounds kept) minimises NLL + prior. Every start's result is
            a row of OUT as soon as it finishes (start, status, nll, iterations, evaluations, seconds, then the
            estimated parameters on their scales; nll includes the prior): rows go to OUT.partial, renamed when
            all starts are done, and --resume continues an interrupted fit. --shard I/N runs the starts
            k ≡ I (mod N); `stat3sim merge` joins the shards. A start whose simulations fail is a row with the
            reason, never the end of the fit. The best parameters are written as a PEtab parameter table
            (--best), for `petab nll --parameters` and `profile --parameters`.

            Examples:
              stat3sim fit Tests/PEtab/Boehm_JProteomeRes2014/Boehm_JProteomeRes2014.yaml --starts 20 --seed 1 \\
                  --out boehm_fit.csv
              stat3sim fit problem.yaml --starts 1000 --seed 7 --shard auto --out shard.csv
            """)

    @Argument(help: "The PEtab problem (YAML).")
    var problem: String

    @Option(help: "Number of starts.")
    var starts = 100

    @Option(help: "Seed of the Latin hypercube of starts.")
    var seed: UInt64 = 1

    @Option(help: "Parallel starts (default: all cores).")
    var jobs: Int?

    @Option(help: ArgumentHelp("I/N (1-based): run the starts k with k ≡ I (mod N).", valueName: "I/N"))
    var shard: String?

    @Flag(help: "Continue an interrupted fit from OUT.partial without repeating its starts.")
    var resume = false

    @Option(help: "The CSV file of starts (default: the problem's name + _fit.csv).")
    var out: String?

    @Option(
        help: ArgumentHelp(
            "The best parameters as a PEtab parameter table (default: OUT without .csv + _best.tsv).",
            valueName: "file.tsv"))
    var best: String?

    @Option(
        help: ArgumentHelp(
            "A best value known from elsewhere (nll + prior): the summary counts the starts within 0.1 of it.",
            valueName: "nll"))
    var reference: Double?

    @Option(help: "Most optimiser iterations of a start.")
    var maxIterations = 1000

    @Option(
        help:
            "Most solver steps between stops of one simulation (AMICI's default); a start that needs more fails that step."
    )
    var maxSteps = 10_000

    @Flag(
        help:
            "Fit scaling parameters (those that only multiply observables with normal noise) in closed form at every step (hierarchical optimization)."
    )
    var hierarchical = false

    @Option(help: "Relative tolerance of the simulations.")
    var rtol = 1e-8

    @Option(help: "Absolute tolerance of the simulations.")
    var atol = 1e-12

    func run() throws {
        let p = try loadPEtab(problem)
        guard starts >= 1 else { throw CLIError("--starts must be at least 1.") }
        let jobs = self.jobs ?? ProcessInfo.processInfo.activeProcessorCount
        guard jobs >= 1 else { throw CLIError("--jobs must be at least 1.") }
        guard !p.estimated.isEmpty else { throw CLIError("\(problem): the problem estimates no parameter.") }
        let shard = try self.shard.map(SweepExecutionOptions.parseShard)
        let output =
            out ?? (URL(fileURLWithPath: problem).deletingPathExtension().lastPathComponent + "_fit.csv")
        let bestPath = best ?? OutputWriter.companionPath(of: output, suffix: "_best.tsv")
        let ids = p.estimated.map(\.id)
        let description = FitDescription(
            problemSha256: p.sha256, starts: starts, seed: seed, rtol: rtol, atol: atol,
            maxIterations: maxIterations, maxSteps: maxSteps, parameters: ids, hierarchical: hierarchical)
        let header = (["start", "status", "nll", "iterations", "evaluations", "seconds"] + ids).joined(separator: ",")
        let file = try FitOutput(
            path: output, header: header, description: description, problem: p, resume: resume)

        var fitter = PEtabFitter(problem: p, rtol: rtol, atol: atol)
        fitter.optimizer.maxIterations = maxIterations
        fitter.maxSteps = maxSteps
        if hierarchical {
            let analytic: AnalyticScalings
            do {
                analytic = AnalyticScalings(objective: try PEtabObjective(problem: p, rtol: rtol, atol: atol))
            } catch let e as PEtabError { throw CLIError(e.description) }
            fitter.analyticScalings = analytic
            FileHandle.standardError.write(
                Data(
                    ("hierarchical: "
                        + (analytic.scalings.isEmpty
                            ? "no estimated parameter is a scaling; all are the optimiser's"
                            : "\(analytic.scalings.map(\.id).joined(separator: ", ")) in closed form") + "\n").utf8))
        }
        let points = p.latinHypercubeStarts(count: starts, seed: seed)
        let mine = (1...starts).filter { k in shard.map { (k - $0.index) % $0.count == 0 } ?? true }
        let pending = mine.filter { file.done[$0] == nil }
        if file.done.count > 0 {
            FileHandle.standardError.write(
                Data("resuming: \(mine.count - pending.count) of \(mine.count) starts are in \(file.partial)\n".utf8))
        }
        let clock = ContinuousClock.now
        do {
            try fitter.run(starts: pending, points: points, jobs: jobs) { r in
                file.append(Self.row(r))
                let value = r.value.isFinite ? String(format: "%.6f", r.value) : "–"
                FileHandle.standardError.write(
                    Data(
                        (String(
                            format: "start %d/%d: %@, nll %@ after %d iterations (%.2f s)", r.start, starts,
                            r.status.text, value, r.iterations, r.seconds) + "\n").utf8))
            }
        } catch let e as PEtabError { throw CLIError(e.description) }
        let elapsed = ContinuousClock.now - clock
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let rows = try file.finish(starts: mine, shard: shard, jobs: jobs, seconds: seconds, problem: p)
        try summarize(rows, problem: p, bestPath: bestPath, output: output, seconds: seconds)
    }

    static func row(_ r: FitStart) -> String {
        ([
            String(r.start), OutputWriter.csvField(r.status.text), r.value.exactText, String(r.iterations),
            String(r.evaluations), String(format: "%.3f", r.seconds),
        ] + r.parameters.map(\.exactText)).joined(separator: ",")
    }

    /// Prints what the starts reached and writes the best parameters.
    func summarize(_ rows: [FitOutput.Row], problem p: PEtabProblem, bestPath: String, output: String, seconds: Double)
        throws
    {
        let converged = rows.filter { $0.status.hasPrefix("converged") }.count
        let failed = rows.filter { $0.status.hasPrefix("failed") }.count
        var lines = [
            "\(rows.count) starts in \(String(format: "%.1f", seconds)) s: \(converged) met a stopping test, "
                + "\(rows.count - converged - failed) stopped at --max-iterations \(maxIterations), \(failed) failed"
        ]
        if let best = rows.filter({ $0.value.isFinite }).min(by: { $0.value < $1.value }) {
            let near = rows.filter { $0.value <= best.value + 0.1 }.count
            lines.append(
                "best nll + prior \(String(format: "%.6f", best.value)) (start \(best.start)); \(near) of \(rows.count) "
                    + "starts within 0.1 of it")
            if let reference {
                let reached = rows.filter { $0.value <= reference + 0.1 }.count
                lines.append(
                    "\(reached) of \(rows.count) starts within 0.1 of the reference \(reference)"
                        + (best.value < reference - 0.1 ? " (the best is below it)" : ""))
            }
            let values = p.linearValues(scaled: best.parameters)
            do { try OutputWriter.writeAtomically(p.parameterTable(values: values), to: bestPath) } catch let e
                as SimulationError
            { throw CLIError(e.message) }
            lines.append("wrote \(output), \(SweepRunner.metadataPath(output)) and \(bestPath)")
        } else {
            lines.append("no start reached a finite value; wrote \(output)")
        }
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }
}

/// The CSV of a fit's starts: OUT.partial while it runs (one line per finished start, flushed),
/// renamed to OUT with its sidecar when every start is there.
final class FitOutput: @unchecked Sendable {
    struct Row {
        var start: Int
        var status: String
        var value: Double
        var parameters: [Double]
        var line: String
    }

    let path: String
    let partial: String
    let header: String
    let description: FitDescription
    /// Rows kept from an interrupted run, by start.
    private(set) var done: [Int: Row] = [:]
    private let handle: FileHandle
    private let lock = NSLock()

    init(path: String, header: String, description: FitDescription, problem: PEtabProblem, resume: Bool) throws {
        self.path = path
        partial = path + ".partial"
        self.header = header
        self.description = description
        let fm = FileManager.default
        let partialMeta = SweepRunner.metadataPath(partial)
        let partial = self.partial
        var done: [Int: Row] = [:]
        if resume {
            guard fm.fileExists(atPath: partial) else {
                throw CLIError("--resume: \(partial) does not exist (nothing to continue).")
            }
            guard let meta = RunMetadata.read(partialMeta), meta.fit?.fingerprint == description.fingerprint else {
                throw CLIError(
                    "--resume: \(partial) comes from a different fit (problem files, starts, seed or settings differ, "
                        + "or \(partialMeta) is missing).")
            }
            let text = try String(contentsOfFile: partial, encoding: .utf8)
            var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
            guard lines.first == header else { throw CLIError("--resume: \(partial) has other columns.") }
            lines.removeFirst()
            for line in lines {
                // A line cut by an interruption has too few fields: it is dropped and run again.
                guard let row = FitOutput.parse(line, parameters: description.parameters.count) else { continue }
                done[row.start] = row
            }
            // Rewritten without any cut line.
            try OutputWriter.writeAtomically(
                ([header] + done.keys.sorted().map { done[$0]!.line }).joined(separator: "\n") + "\n", to: partial)
        } else {
            if fm.fileExists(atPath: partial) {
                throw CLIError(
                    "\(partial) exists: an earlier fit was interrupted. Continue it with --resume, or delete it.")
            }
            try OutputWriter.writeAtomically(header + "\n", to: partial)
        }
        self.done = done
        var meta = RunMetadata.forFit(description, problem: problem, command: CommandLine.arguments)
        meta.complete = false
        try OutputWriter.writeAtomically(meta.json(), to: partialMeta)
        guard let handle = FileHandle(forWritingAtPath: partial) else { throw CLIError("cannot write \(partial).") }
        handle.seekToEndOfFile()
        self.handle = handle
    }

    static func parse(_ line: String, parameters: Int) -> Row? {
        let f = OutputWriter.splitCSV(line)
        guard f.count == 6 + parameters, let start = Int(f[0]), let value = Double(f[2]) else { return nil }
        let x = f[6...].compactMap(Double.init)
        guard x.count == parameters else { return nil }
        return Row(start: start, status: f[1], value: value, parameters: x, line: line)
    }

    func append(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        handle.write(Data((line + "\n").utf8))
        handle.synchronizeFile()
        if let row = FitOutput.parse(line, parameters: description.parameters.count) { done[row.start] = row }
    }

    /// Writes OUT (the rows in start order) and its sidecar, and removes the partial files.
    func finish(
        starts: [Int], shard: (index: Int, count: Int)?, jobs: Int, seconds: Double, problem: PEtabProblem
    ) throws -> [Row] {
        handle.closeFile()
        let rows = starts.compactMap { done[$0] }
        guard rows.count == starts.count else {
            throw CLIError("\(starts.count - rows.count) starts have no row; continue with --resume.")
        }
        do {
            try OutputWriter.writeAtomically(([header] + rows.map(\.line)).joined(separator: "\n") + "\n", to: path)
            var meta = RunMetadata.forFit(description, problem: problem, command: CommandLine.arguments)
            meta.complete = true
            meta.jobs = jobs
            meta.wallSeconds = seconds
            meta.shard = Nullable(shard.map { RunMetadata.Shard(index: $0.index, count: $0.count) })
            let converged = rows.filter { $0.status.hasPrefix("converged") }.count
            let failed = rows.filter { $0.status.hasPrefix("failed") }.count
            meta.totals = RunMetadata.Totals(
                points: rows.count, ok: converged, failed: failed, unsettled: rows.count - converged - failed)
            try OutputWriter.writeAtomically(meta.json(), to: SweepRunner.metadataPath(path))
        } catch let e as SimulationError { throw CLIError(e.message) }
        try? FileManager.default.removeItem(atPath: partial)
        try? FileManager.default.removeItem(atPath: SweepRunner.metadataPath(partial))
        return rows
    }
}

extension RunMetadata {
    static func forFit(_ description: FitDescription, problem: PEtabProblem, command: [String]) -> RunMetadata {
        var meta = RunMetadata(
            version: Stat3Sim.version, command: command, definition: problem.model,
            sha256: description.problemSha256, units: false)
        meta.fit = description
        return meta
    }
}
