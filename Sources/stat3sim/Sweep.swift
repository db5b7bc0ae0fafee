import ArgumentParser
import Dispatch
import Foundation
import ReactionModel
import Simulation

/// `stat3sim sweep`: many simulations of one model, one CSV row of metrics per point.
struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a model over a grid or a sample of parameter values; one CSV row of metrics per point.",
        discussion: """
            Points are a Cartesian grid of --vary ranges, a sample (--samples with --method lhs, sobol or
            random and a --seed), or the rows of a --points CSV; --scenario all adds the model's scenarios as
            one more dimension. Rows are written in point order whatever the number of --jobs, so the file is
            identical for any J. Ctrl-C (or SIGTERM) stops cleanly: OUT.partial holds every finished point,
            and --resume continues it. --shard I/N computes every N-th point for a cluster job array; merge
            the shards with `stat3sim merge`. A sweep of more than --max-rows points (default 100000000), or
            whose --trajectories would have more rows, or a --follow of more than --max-rows steady states
            (default 1000000, kept in memory), is refused before any work with its size. Files a model's
            [sweep] table names (points, out) must lie inside the model's folder (relative, without '..')
            and are read relative to it. Exit status: 0 all points ok (or unsettled), 3 some points
            failed, 130 interrupted, 1 errors in the model or the flags.

            Examples:
              stat3sim sweep Models/classic.toml --vary IL6=0.01:10:20:log --vary kf9=0:0.12:5 --out grid.csv
              stat3sim sweep Models/sobotta2017.toml --vary IL6=0.1:100:log --samples 1000 --method sobol \\
                  --metric peak:pSTAT3_fraction --metric half_life:pSTAT3_fraction --out sobol.csv
              stat3sim sweep Models/classic.toml --points my_points.csv --scenario all --jobs 2 --out p.csv
              stat3sim sweep Models/classic.toml --vary IL6=0.01:10:200:log --shard auto --out shard.csv
            """)

    @Argument(help: "The model file (TOML), SBML (.xml) or BioNetGen network (.net).")
    var model: String

    @Option(
        name: .customLong("vary"),
        help: ArgumentHelp(
            "A range to vary: NAME=LO:HI:N[:log] on a grid, NAME=LO:HI[:log] with --samples (repeatable).",
            valueName: "range"))
    var ranges: [SweepRange] = []

    @Option(help: "Number of sampled points (with --method).")
    var samples: Int?

    // ArgumentParser lists the methods (SamplingMethod.allCases) after the text.
    @Option(help: "Sampling method: a Latin hypercube (the default), a Sobol' sequence or uniform random.")
    var method: SamplingMethod?

    @Option(help: "Seed of the random and lhs methods.")
    var seed: UInt64?

    @Option(help: "A CSV file of points: a header of names, one row per point.")
    var points: String?

    @Option(help: "A scenario of the model, or 'all' for the default and every scenario as one more dimension.")
    var scenario: ScenarioSelection?

    @Option(
        name: .customLong("metric"),
        help: ArgumentHelp(
            "KIND:TARGET with KIND \(MetricKind.allCases.dropLast().map(\.syntax).joined(separator: ", ")) or "
                + "\(MetricKind.allCases.last!.syntax) (repeatable; default: peak, time_to_peak, auc and final of "
                + "every observable).",
            valueName: "metric"))
    var metrics: [MetricSpec] = []

    @Option(help: "Output CSV file.")
    var out: String?

    @Option(help: "Also write every point's time course here, in long form (point, time, species, observables).")
    var trajectories: String?

    @OptionGroup var execution: SweepExecutionOptions

    @Option(
        help: ArgumentHelp(
            "Continuation: walk NAME up from LO to HI and back down (N values each way), each steady state starting "
                + "from the previous one; writes both branches and reports where they differ (bistability).",
            valueName: "NAME=LO:HI:N[:log]"))
    var follow: SweepRange?

    @OptionGroup var options: RunOptions

    func run() throws {
        let (definition, source) = try loadModel(model)
        if let follow { return try runContinuation(definition, source: source, follow: follow) }
        let (specification, execution) = try makeSweep(definition)
        let summary = try runPoints(
            definition, source: source, specification: specification, execution: execution, model: model)
        if summary.failed > 0 { throw ExitCode(3) }
    }

    /// The sweep from the model's [sweep] table, with command-line flags taking precedence.
    func makeSweep(_ d: ModelDefinition) throws -> (SweepSpecification, SweepExecution) {
        let table = SweepTable(table: d.sweep, model: model)
        let samples = self.samples ?? d.sweep.samples
        let seed = self.seed ?? d.sweep.seed ?? 1
        // A model file names files only inside its own folder; the command line names any.
        let pointsFile =
            try points ?? d.sweep.points.map { try modelRelativePath($0, key: "points", flag: "--points") }
        var settings = try options.settings()
        settings.tEnd = options.tEnd ?? d.sweep.tEnd
        let scenarios = try sweepScenarios(d, scenario ?? d.sweep.scenario)
        let plan: SweepPlan
        if let pointsFile {
            guard ranges.isEmpty, d.sweep.vary.isEmpty, samples == nil else {
                throw CLIError("--points replaces --vary and --samples; give one or the other.")
            }
            do {
                plan = try SweepPlan.fromPointsFile(pointsFile, definition: d, scenarios: scenarios)
            } catch let e as SimulationError {
                throw CLIError("\(model): \(e.message)")
            }
        } else {
            plan = try rangePlan(
                d, table: table, samples: samples, seed: seed, scenarios: scenarios, settings: settings)
        }
        let metrics = try sweepMetrics(
            self.metrics.isEmpty ? table.metrics : self.metrics.map { SweepSetting.flag($0, "--metric", model: model) },
            definition: d)
        let execution = try makeExecution(d.sweep)
        return (SweepSpecification(plan: plan, metrics: metrics, settings: settings), execution)
    }

    /// The runs of each parameter set: the default run, one scenario, or all of them.
    func sweepScenarios(_ d: ModelDefinition, _ selection: ScenarioSelection?) throws -> [String?] {
        switch selection ?? .default {
        case .default: return [nil]
        case .all: return [nil] + d.scenarios.map(\.name)
        case .one(let name):
            do { _ = try Simulator.scenarios(named: name, in: d) } catch let e as SimulationError {
                throw CLIError("\(model): \(e.message)")
            }
            return [name]
        case .list(let runs):
            let text = excerpt(ScenarioSelection.list(runs).description, limit: 80)
            throw CLIError(
                "--scenario \(text): sweep takes one scenario (or several joined by '+') or 'all'; a comma-separated "
                    + "list is for run.")
        }
    }

    /// A grid or a sample over the --vary ranges (or the [sweep] table's).
    func rangePlan(
        _ d: ModelDefinition, table: SweepTable, samples: Int?, seed: UInt64, scenarios: [String?],
        settings: RunSettings
    ) throws -> SweepPlan {
        let grid = samples == nil
        let ranges =
            self.ranges.isEmpty ? table.ranges : self.ranges.map { SweepSetting.flag($0, "--vary", model: model) }
        guard !ranges.isEmpty else {
            throw CLIError(
                "give at least one --vary NAME=LO:HI:N[:log] (or --points FILE.csv), or a [sweep] table in the "
                    + "model."
            )
        }
        if grid, method != nil || d.sweep.method != nil { throw CLIError("--method needs --samples N.") }
        let dimensions = try sweepDimensions(ranges, grid: grid, definition: d)
        let method: SweepPlan.Method
        if let samples {
            guard samples >= 1 else { throw CLIError("--samples must be at least 1.") }
            switch self.method ?? d.sweep.method ?? .lhs {
            case .lhs: method = .latinHypercube(samples: samples, seed: seed)
            case .sobol: method = .sobol(samples: samples)
            case .random: method = .random(samples: samples, seed: seed)
            }
        } else {
            method = .grid
        }
        do {
            return try SweepPlan(
                dimensions: dimensions, method: method, scenarios: scenarios, maxPoints: settings.maxRows)
        } catch let e as SimulationError {
            throw CLIError("\(model): \(e.message)")
        }
    }

    /// Jobs, shard, output files and progress.
    func makeExecution(_ table: ModelDefinition.Sweep) throws -> SweepExecution {
        let output =
            try out ?? table.out.map { try modelRelativePath($0, key: "out", flag: "--out") }
            ?? (URL(fileURLWithPath: model).deletingPathExtension().lastPathComponent + "_sweep.csv")
        if output == "-" {
            // Rows are written to OUT.partial and renamed when complete (and resumable): a file.
            throw CLIError(
                "sweep writes a file (rows go to OUT.partial, renamed when the sweep is complete, so that --resume can "
                    + "continue it); give --out FILE.csv instead of '-'."
            )
        }
        var execution = try self.execution.execution(output: output)
        execution.trajectories = trajectories
        return execution
    }

    /// `--follow`: steady states along a parameter, up then down.
    func runContinuation(_ d: ModelDefinition, source: String, follow: SweepRange) throws {
        guard ranges.isEmpty, samples == nil, points == nil else {
            throw CLIError("--follow replaces --vary, --samples and --points.")
        }
        let scenario: String?
        switch self.scenario ?? .default {
        case .default: scenario = nil
        case .one(let name): scenario = name
        case .all: throw CLIError("--follow takes one scenario (or several joined by '+'), not 'all'.")
        case .list: throw CLIError("--follow takes one scenario (or several joined by '+'), not a list.")
        }
        let settings = try options.settings()
        let started = Date()
        let points: [Continuation.Point]
        let dimension: SweepDimension
        do {
            do { dimension = try SweepDimension(follow, grid: true, definition: d) } catch let e as SimulationError {
                throw SimulationError("--follow \(excerpt(follow.description, limit: 80)): \(e.message)")
            }
            points = try Continuation(
                simulator: Simulator(d), dimension: dimension, scenario: scenario, settings: settings
            ).run()
        } catch let e as SimulationError {
            throw CLIError("\(model): \(e.message)")
        }
        let header =
            [
                "point", "direction", dimension.name, "status", "message", "stable", "largest_real_eigenvalue",
                "residual",
            ] + d.observables.map(\.name)
        var csv = header.joined(separator: ",") + "\n"
        for (k, p) in points.enumerated() {
            var row = "\(k + 1),\(p.direction),\(p.value.exactText)"
            if let steady = p.steady {
                row +=
                    ",ok,," + (steady.stable ? "1" : "0") + "," + steady.largestRealPart.exactText + ","
                    + steady.residual.exactText
                for v in p.observables { row += "," + v.exactText }
            } else {
                row +=
                    ",failed," + OutputWriter.csvField(p.failure ?? "") + ",,,"
                    + String(repeating: ",", count: d.observables.count)
            }
            csv += row + "\n"
        }
        let destination = out ?? (URL(fileURLWithPath: model).deletingPathExtension().lastPathComponent + "_follow.csv")
        var summary: [String] = []
        var meta = RunMetadata(
            version: Stat3Sim.version, command: CommandLine.arguments, definition: d, sha256: SHA256Hex.of(source),
            units: false)
        meta.follow = .init(
            name: dimension.name, low: dimension.low, high: dimension.high, count: dimension.count ?? 0,
            log: dimension.logarithmic)
        meta.scenario = scenario ?? "default"
        meta.wallSeconds = Date().timeIntervalSince(started)
        var intervals: [String: RunMetadata.Bistable] = [:]
        for (o, observable) in d.observables.enumerated() {
            guard let interval = Continuation.bistableInterval(points, observable: o) else { continue }
            // A switch lies at a branch's largest jump, unless the branches still differ at the
            // end of the range: then that branch does not switch within it.
            let lowest = dimension.gridValue(0)
            let highest = dimension.gridValue((dimension.count ?? 1) - 1)
            let up = interval.high < highest ? Continuation.largestJump(points, direction: "up", observable: o) : nil
            let down = interval.low > lowest ? Continuation.largestJump(points, direction: "down", observable: o) : nil
            intervals[observable.name] = .init(
                low: interval.low, high: interval.high,
                switchUpBetween: up.map { [$0.from, $0.to] } ?? [],
                switchDownBetween: down.map { [$0.to, $0.from] } ?? [])
            summary.append(
                "  \(observable.name): the branches differ for \(dimension.name) in [\(interval.low.summaryText), "
                    + "\(interval.high.summaryText)]"
                    + (up.map { "; the up branch switches between \($0.from.summaryText) and \($0.to.summaryText)" }
                        ?? "; the up branch does not switch in range")
                    + (down.map { ", the down branch between \($0.to.summaryText) and \($0.from.summaryText)" }
                        ?? ", the down branch does not switch back in range"))
        }
        meta.bistable = intervals
        let failed = points.filter { $0.steady == nil }.count
        do {
            try OutputWriter.writeAtomically(csv, to: destination)
            try OutputWriter.writeAtomically(meta.json(), to: SweepRunner.metadataPath(destination))
        } catch let e as SimulationError { throw CLIError(e.message) }
        var text =
            "\(points.count) steady states (\(failed) failed) along \(dimension.name), up and down; wrote "
            + "\(destination)\n"
        text +=
            summary.isEmpty
            ? "  the up and down branches agree: no bistability found in this range\n"
            : "bistable:\n" + summary.joined(separator: "\n") + "\n"
        FileHandle.standardError.write(Data(text.utf8))
        if failed > 0 { throw ExitCode(3) }
    }

    /// A path from the model's [sweep] table, resolved against the model's folder: it must be
    /// relative and stay inside that folder, so that a model file cannot read or write
    /// elsewhere (the command line can).
    func modelRelativePath(_ path: String, key: String, flag: String) throws -> String {
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, !path.hasPrefix("/"), !path.hasPrefix("~"), !components.contains("..") else {
            throw CLIError(
                "\(model): [sweep] \(key) = \(quoted(path)): a model file may name files only inside its own folder (a "
                    + "relative path without '..'); give \(flag) on the command line for any other path."
            )
        }
        let folder = (model as NSString).deletingLastPathComponent
        return folder.isEmpty ? path : folder + "/" + path
    }
}
