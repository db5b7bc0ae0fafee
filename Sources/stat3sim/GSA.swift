import ArgumentParser
import Foundation
import ReactionModel
import Simulation

/// `stat3sim gsa`: global sensitivity indices of metrics over ranges, computed from a sweep whose
/// points are a Saltelli (Sobol') or Morris design.
struct GSA: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gsa",
        abstract: "Global sensitivity indices (Sobol' or Morris) of metrics over ranges of parameters.",
        discussion: """
            The points are a sweep (on every core, resumable and shardable like `stat3sim sweep`) over a sampling \
            design of the --vary ranges (NAME=LO:HI, or NAME=LO:HI:log to sample the logarithm).

            --method sobol (the default): Saltelli's design on N = --samples base rows of a Sobol' sequence in 2d \
            dimensions (plain, without scrambling; the origin is skipped), N·(d + 2) points for d names (d ≤ 8). \
            First-order indices S1 by Saltelli's 2010 estimator, total indices ST by Jansen's, on the outputs \
            standardised over all points, as SALib's sobol.analyze (calc_second_order=False) computes them. N a \
            power of 2 balances the sequence best.

            --method morris: r = --samples trajectories on a grid of --levels levels (even, default 4), r·(d + 1) \
            points drawn from --seed. Elementary effects in unit steps of each range (of its logarithm for log \
            ranges); mu_star, their mean absolute value, and sigma, their standard deviation, as SALib's \
            morris.analyze computes them.

            Confidence intervals are 95 %: 1.96 × the standard deviation of the index over --bootstrap resamples \
            (default 1000, drawn from --seed) of the base rows or trajectories. The indices file --out (default \
            MODEL_gsa.csv, '-' for standard output) has the columns metric,parameter,S1,S1_conf,ST,ST_conf (sobol) \
            or metric,parameter,mu_star,mu_star_conf,sigma (morris), one row per metric and varied name. \
            --points-out FILE keeps every point's row (the sweep's own file, in the design's order, which is \
            SALib's); without it the points go to OUT.points.csv (OUT without its .csv; gsa.points.csv for '-'), \
            removed once the indices are written.

            The indices need every point: a metric without a value at some point (a failed point, or e.g. a \
            half_life never reached) gets no rows, the points are named on standard error, and the exit status is 3. \
            A metric that does not vary gets indices 0, as in SALib.

            Ctrl-C stops cleanly and --resume continues (with the same flags). --shard I/N computes every N-th point \
            only (give --points-out); merge the shards' point files with `stat3sim merge`, then run the same gsa \
            command with --points-out MERGED.csv --resume, which reads a complete file of the same analysis instead \
            of computing it again.

            Exit status: 0 indices written for every metric, 3 some metrics refused, 130 interrupted, 1 errors in \
            the model or the flags.

            Examples:
              stat3sim gsa Models/classic.toml --vary kf3=0.24:24:log \\
                  --vary k6=10:40 --vary k12=0.05:0.5:log --samples 256 \\
                  --metric peak:pSTAT3_fraction --out classic_gsa.csv
              stat3sim gsa Tests/Fixtures/ishigami.toml --samples 16384 \\
                  --vary x1=-3.141592653589793:3.141592653589793 \\
                  --vary x2=-3.141592653589793:3.141592653589793 \\
                  --vary x3=-3.141592653589793:3.141592653589793 \\
                  --metric final:Y --out ishigami_gsa.csv
              stat3sim gsa Models/classic.toml --vary kf3=0.24:24:log \\
                  --vary k6=10:40 --method morris --samples 50 --levels 6 \\
                  --seed 7 --metric auc:pSTAT3_fraction --points-out points.csv
              # shard 2 of 4; then merge, and --points-out MERGED.csv --resume
              stat3sim gsa Models/classic.toml --vary kf3=0.24:24:log \\
                  --vary k6=10:40 --samples 1024 --shard 2/4 \\
                  --points-out shard_2.csv
            """)

    @Argument(help: "The model file (TOML), SBML (.xml) or BioNetGen network (.net).")
    var model: String

    @Option(
        name: .customLong("vary"),
        help: ArgumentHelp("A range to vary: NAME=LO:HI or NAME=LO:HI:log (repeatable).", valueName: "range"))
    var ranges: [SweepRange] = []

    // ArgumentParser lists the methods (SensitivityMethod.allCases) after the text.
    @Option(help: "Sobol' indices on Saltelli's design, or Morris's elementary effects.")
    var method: SensitivityMethod = .sobol

    @Option(help: "Base samples N (sobol: N·(d + 2) points) or trajectories r (morris: r·(d + 1) points).")
    var samples: Int

    @Option(help: "Levels of Morris's grid (even, ≥ 2).")
    var levels: Int?

    @Option(help: "Seed of the bootstrap resamples and of Morris's trajectories.")
    var seed: UInt64 = 1

    @Option(help: "Bootstrap resamples of the confidence intervals.")
    var bootstrap: Int = 1000

    @Option(
        name: .customLong("metric"),
        help: ArgumentHelp(
            "KIND:TARGET as for sweep (repeatable; default: peak, time_to_peak, auc and final of every "
                + "observable).",
            valueName: "metric"))
    var metrics: [MetricSpec] = []

    @Option(help: "A scenario of the model (several joined by '+' apply in order).")
    var scenario: ScenarioSelection?

    @Option(help: "The indices CSV file ('-': standard output).")
    var out: String?

    @Option(name: .customLong("points-out"), help: "Keep every point's row (the sweep's file) here.")
    var pointsOut: String?

    @OptionGroup var execution: SweepExecutionOptions

    @OptionGroup var options: RunOptions

    func run() throws {
        let (definition, source) = try loadModel(model)
        let specification = try makeSpecification(definition)
        let destination =
            out ?? (URL(fileURLWithPath: model).deletingPathExtension().lastPathComponent + "_gsa.csv")
        let points =
            pointsOut
            ?? (destination == "-" || OutputWriter.isSpecialFile(destination)
                ? "gsa.points.csv" : OutputWriter.companionPath(of: destination, suffix: ".points.csv"))
        if execution.shard != nil && pointsOut == nil {
            throw CLIError("--shard computes only some points, which must be kept: give --points-out FILE.csv.")
        }
        let execution = try self.execution.execution(output: points)
        let runner = SweepRunner(
            definition: definition, source: source, specification: specification, execution: execution)
        switch (execution.resume, runner.completeOutputMatches) {
        case (true, true?):
            FileHandle.standardError.write(Data("\(points) holds every point of this analysis; reading it\n".utf8))
        case (true, false?):
            throw CLIError(
                "--resume: \(points) is complete but comes from a different analysis or model (fingerprint differs); "
                    + "remove it or run without --resume.")
        default:
            _ = try runPoints(
                definition, source: source, specification: specification, execution: execution, model: model)
        }
        if let shard = execution.shard {
            FileHandle.standardError.write(
                Data(
                    ("shard \(shard.index)/\(shard.count): merge the shards' point files with `stat3sim merge … --out "
                        + "MERGED.csv`, then run this command with --points-out MERGED.csv --resume (without "
                        + "--shard) for the indices\n").utf8))
            return
        }
        let refused = try writeIndices(specification, points: points, to: destination)
        if pointsOut == nil {
            try? FileManager.default.removeItem(atPath: points)
            try? FileManager.default.removeItem(atPath: SweepRunner.metadataPath(points))
        }
        if refused { throw ExitCode(3) }
    }

    /// The sweep of the design over the ranges.
    func makeSpecification(_ d: ModelDefinition) throws -> SweepSpecification {
        guard !ranges.isEmpty else { throw CLIError("give at least one --vary NAME=LO:HI[:log].") }
        let dimensions = try sweepDimensions(
            ranges.map { SweepSetting.flag($0, "--vary", model: model) }, grid: false, definition: d)
        guard samples >= 2 else {
            throw CLIError("--samples must be at least 2 (the indices' spread needs two base rows or trajectories).")
        }
        guard bootstrap >= 0 else { throw CLIError("--bootstrap must be 0 (no intervals) or more.") }
        let planMethod: SweepPlan.Method
        switch method {
        case .sobol:
            if levels != nil { throw CLIError("--levels is Morris's; it goes with --method morris.") }
            planMethod = .saltelli(samples: samples)
        case .morris:
            let levels = self.levels ?? 4
            guard levels >= 2, levels % 2 == 0 else {
                throw CLIError("--levels \(levels): Morris's grid needs an even number of levels, at least 2.")
            }
            planMethod = .morris(trajectories: samples, levels: levels, seed: seed)
        }
        let scenarios: [String?]
        switch scenario ?? .default {
        case .default: scenarios = [nil]
        case .one(let name):
            do { _ = try Simulator.scenarios(named: name, in: d) } catch let e as SimulationError {
                throw CLIError("\(model): \(e.message)")
            }
            scenarios = [name]
        case .all, .list:
            throw CLIError("--scenario: gsa takes one scenario (or several joined by '+'), not 'all' or a list.")
        }
        let settings = try options.settings()
        let plan: SweepPlan
        do {
            plan = try SweepPlan(
                dimensions: dimensions, method: planMethod, scenarios: scenarios, maxPoints: settings.maxRows)
        } catch let e as SimulationError {
            throw CLIError("\(model): \(e.message)")
        }
        let metrics = try sweepMetrics(
            self.metrics.map { SweepSetting.flag($0, "--metric", model: model) }, definition: d)
        return SweepSpecification(plan: plan, metrics: metrics, settings: settings)
    }

    /// Reads the points back and writes the indices of every metric that has a value at every
    /// point; says on standard error why any other has none. Returns whether any was refused.
    func writeIndices(_ specification: SweepSpecification, points: String, to destination: String) throws -> Bool {
        let started = Date()
        guard let analysis = SensitivityAnalysis(plan: specification.plan, resamples: bootstrap, seed: seed) else {
            throw CLIError("internal: the plan is not a sensitivity design.")
        }
        let outputs: PointOutputs
        do { outputs = try PointOutputs.read(points, specification: specification) } catch let e as SimulationError {
            throw CLIError(e.message)
        }
        var text = analysis.header.joined(separator: ",") + "\n"
        var refusals: [String] = []
        for (m, metric) in specification.metrics.enumerated() {
            if let refusal = outputs.refusal(metric: m, column: metric.column) {
                refusals.append(refusal)
                continue
            }
            text += analysis.rows(metric: metric.column, outputs: outputs.values[m])
        }
        if destination == "-" {
            FileHandle.standardOutput.write(Data(text.utf8))
        } else {
            do { try OutputWriter.writeAtomically(text, to: destination) } catch let e as SimulationError {
                throw CLIError(e.message)
            }
        }
        var report = refusals.map { "\(model): \($0)\n" }.joined()
        let computed = specification.metrics.count - refusals.count
        report += String(
            format: "%@ indices of %d of %d metrics over %d names in %.2f s%@\n", method.rawValue, computed,
            specification.metrics.count, analysis.names.count, Date().timeIntervalSince(started),
            destination == "-" ? "" : "; wrote \(destination)")
        FileHandle.standardError.write(Data(report.utf8))
        return !refusals.isEmpty
    }
}

/// How `gsa` computes its indices.
enum SensitivityMethod: String, CaseIterable, ExpressibleByArgument {
    case sobol
    case morris

    /// The message for a word that is not a method.
    static func unknown(_ text: String) -> String {
        "choose sobol or morris\(didYouMean(text, among: allCases.map(\.rawValue)))."
    }
}
