import ArgumentParser
import Dispatch
import Foundation
import ReactionModel
import Simulation

/// How the commands that run a sweep's points (`sweep`, `gsa`) run them: on how many cores,
/// which shard, whether to resume. Their numbers do not depend on these.
struct SweepExecutionOptions: ParsableArguments {
    @Option(help: "Parallel jobs (default: all cores).")
    var jobs: Int?

    @Option(
        help: ArgumentHelp(
            "I/N (1-based): compute the points p with p ≡ I (mod N); 'auto' reads SLURM_ARRAY_TASK_ID and "
                + "SLURM_ARRAY_TASK_COUNT (or _MIN/_MAX).")
    )
    var shard: String?

    @Flag(
        help: "Continue an interrupted sweep from OUT.partial without recomputing its points (gsa: the points file's)."
    )
    var resume = false

    /// The execution writing the points to `output`.
    func execution(output: String) throws -> SweepExecution {
        var execution = SweepExecution()
        execution.jobs = jobs ?? ProcessInfo.processInfo.activeProcessorCount
        guard execution.jobs >= 1 else { throw CLIError("--jobs must be at least 1.") }
        execution.shard = try shard.map(Self.parseShard)
        execution.output = output
        execution.resume = resume
        execution.progress = isatty(STDERR_FILENO) == 1
        execution.command = CommandLine.arguments
        execution.programVersion = Stat3Sim.version
        return execution
    }

    static func parseShard(_ text: String) throws -> (index: Int, count: Int) {
        if text == "auto" {
            // A SLURM job array: task IDs MIN…MAX, one shard each.
            let env = ProcessInfo.processInfo.environment
            guard let id = env["SLURM_ARRAY_TASK_ID"].flatMap(Int.init) else {
                throw CLIError(
                    "--shard auto: SLURM_ARRAY_TASK_ID is not set (run it inside a SLURM job array, or give --shard "
                        + "I/N)."
                )
            }
            let minimum = env["SLURM_ARRAY_TASK_MIN"].flatMap(Int.init) ?? 1
            guard
                let count = env["SLURM_ARRAY_TASK_COUNT"].flatMap(Int.init)
                    ?? env["SLURM_ARRAY_TASK_MAX"].flatMap(Int.init).map({ $0 - minimum + 1 })
            else {
                throw CLIError(
                    "--shard auto: set SLURM_ARRAY_TASK_COUNT, or SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_MAX.")
            }
            let index = id - minimum + 1
            guard index >= 1, index <= count else {
                throw CLIError(
                    "--shard auto: task \(id) is not one of \(count) consecutive tasks from \(minimum) (use an array "
                        + "without a step, e.g. --array=1-\(count))."
                )
            }
            return (index, count)
        }
        let parts = text.split(separator: "/").map { Int($0) }
        guard parts.count == 2, let i = parts[0], let n = parts[1], n >= 1, i >= 1, i <= n else {
            throw CLIError("--shard \(text): write I/N with 1 ≤ I ≤ N, e.g. --shard 3/10.")
        }
        return (i, n)
    }
}

/// Runs the sweep's points with Ctrl-C and SIGTERM stopping it cleanly, and reports on standard
/// error as `sweep` always has: the counts and the files written, or, when interrupted, where the
/// finished points are (exit status 130). `model` starts the message of an error of the sweep.
func runPoints(
    _ definition: ModelDefinition, source: String, specification: SweepSpecification, execution: SweepExecution,
    model: String
) throws -> SweepSummary {
    let stop = StopFlag()
    let signals = installSignalHandlers(stop)
    defer { _ = signals }
    let summary: SweepSummary
    do {
        summary = try SweepRunner(
            definition: definition, source: source, specification: specification, execution: execution
        ).run(stop: stop)
    } catch let e as SimulationError {
        throw CLIError("\(model): \(e.message)")
    }
    var line = "\(summary.points) points (\(summary.ok) ok, \(summary.unsettled) unsettled, \(summary.failed) failed"
    if summary.skipped > 0 { line += ", \(summary.skipped) kept from the interrupted run" }
    line += String(format: ") in %.2f s", summary.seconds)
    if summary.interrupted {
        FileHandle.standardError.write(
            Data("interrupted: \(line); finished points are in \(summary.output); continue with --resume\n".utf8))
        throw ExitCode(130)
    }
    FileHandle.standardError.write(
        Data("\(line); wrote \(summary.output) and \(SweepRunner.metadataPath(summary.output))\n".utf8))
    return summary
}

/// SIGINT and SIGTERM set the stop flag instead of killing the process, so the sweep can write
/// what is complete. Returns the sources, which must stay alive.
func installSignalHandlers(_ stop: StopFlag) -> [DispatchSourceSignal] {
    [SIGINT, SIGTERM].map { number in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler { stop.set() }
        source.resume()
        return source
    }
}
