import ArgumentParser
import Foundation
import ODESolver
import ReactionModel
import SBML
import Simulation

/// `stat3sim run`: one time course (or one per scenario) of a model file, as CSV.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate a model file and write its time course as CSV.",
        discussion: """
            Writes a wide CSV (time, species, observables; numbers that read back bit for bit) and a
            .meta.json sidecar beside it, both written to a temporary name and renamed when complete.
            A summary (peak and time of peak of every observable, solver statistics) goes to standard
            error. A malformed model prints one paragraph naming the file, line and mistake, and
            writes nothing.

            Rows are written as the integration passes their output times, so memory stays flat
            however many rows a run has. An output of more than --max-rows rows (default 100000000),
            or larger than the free space of the destination's folder, is refused before any work
            with its size. A failed or interrupted (Ctrl-C, SIGTERM; exit status 130) run removes its
            temporary file: nothing is left behind.

            Examples:
              stat3sim run Models/classic.toml
              stat3sim run Models/classic.toml --out results/classic.csv
              stat3sim run Models/sobotta2017.toml --scenario ruxolitinib --out - | head
              stat3sim run Models/sobotta2017.toml --scenario all --out all.csv
              stat3sim run Models/classic.toml --set IL6=3.8 --set kf9=0 --t-end 600 --output-interval 5
              stat3sim run Models/cancer.toml --scenario pulse --output-parameters IL6_dose
              stat3sim run Models/classic.toml --sensitivities kf9,k18a,IL6 --normalized
              stat3sim run Models/cancer.toml --scenario socs3_silenced,socs3_silenced+adaptive_ruxolitinib
              stat3sim run Models/classic.toml --t-end 1e6 --output-interval 0.001 --max-rows 1000000001 --out big.csv
            """)

    @Argument(help: "The model file (TOML), SBML (.xml) or BioNetGen network (.net).")
    var model: String

    @Option(
        help: ArgumentHelp(
            "A scenario of the model (several combine with '+'), a comma-separated list of them ('default' is the "
                + "model's own run), or 'all' for the default run and every scenario; several runs go into one file "
                + "with a scenario column.")
    )
    var scenario: ScenarioSelection?

    @Option(help: "Output CSV file; '-' writes CSV to standard output. Default: MODEL-NAME.csv here.")
    var out: String?

    @OptionGroup var options: RunOptions

    @Option(
        help: ArgumentHelp(
            "Also write these parameters as columns after the observables, with the values events give them "
                + "(comma-separated).",
            valueName: "names"))
    var outputParameters: String?

    @Option(
        help: ArgumentHelp(
            "Forward sensitivities by these parameters, compartments (size) or species (initial value), "
                + "comma-separated: a column d(X)/d(P) for every species and observable X and each P, after the "
                + "other columns.",
            valueName: "names"))
    var sensitivities: String?

    @Flag(help: "With --sensitivities: write normalized sensitivities d ln X / d ln P, columns dln(X)/dln(P).")
    var normalized = false

    @OptionGroup var errorControl: SensitivityErrorControl

    @Flag(help: "Print all solver counters in the summary.")
    var stats = false

    func run() throws {
        let started = Date()
        let (definition, source) = try loadModel(model)
        var settings = try options.settings()
        settings.outputParameters = (outputParameters ?? "").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
        if let sensitivities {
            let names = sensitivities.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            settings.sensitivities = SensitivityRequest(
                parameters: names.filter { !$0.isEmpty }, normalized: normalized,
                errorControl: errorControl.sensitivityErrorControl)
        } else if normalized || !errorControl.sensitivityErrorControl {
            throw CLIError("--normalized and --no-sensitivity-error-control go with --sensitivities.")
        }

        let simulator = Simulator(definition)
        let names = (scenario ?? .default).runs(scenarios: definition.scenarios.map(\.name))
        let scenarioColumn = names.count > 1 || scenario == .all
        let destination = out ?? URL(fileURLWithPath: model).deletingPathExtension().lastPathComponent + ".csv"

        // Everything that can be refused is refused before a file exists: each run's settings,
        // then the size of the whole output against the row limit and the free disk.
        var rows = 0
        var columns: [String] = []
        do {
            for name in names {
                let run = try simulator.validate(scenario: name, settings: settings)
                rows += run.rows
                columns = run.columns
            }
            let fields = columns.count + 1 + (scenarioColumn ? 1 : 0)
            let what = names.count > 1 ? "the \(names.count) runs" : "the run"
            try OutputSize.check(
                rows: rows, fields: fields, limit: settings.maxRows, what: what,
                remedy: "give a larger --output-interval (or a shorter --t-end)")
            if destination != "-" {
                try OutputFile.checkSpace(rows: rows, fields: fields, destination: destination, what: what)
            }
        } catch let error as SimulationError {
            throw CLIError("\(model): \(error.message)")
        }

        // Rows go out as the integration passes their times: to standard output, or to a
        // temporary file renamed when complete and removed on failure or interruption.
        let stop = StopFlag()
        let signals = installSignalHandlers(stop)
        defer { _ = signals }
        let file = destination == "-" ? nil : try OutputFile.create(destination)
        let stream = CSVStream(fileDescriptor: file?.descriptor ?? STDOUT_FILENO, path: destination)
        var summaries: [RunSummary] = []
        do {
            try stream.write(OutputWriter.csvHeader(columns: columns, scenarioColumn: scenarioColumn))
            for name in names {
                summaries.append(
                    try simulator.stream(
                        scenario: name, settings: settings, to: stream,
                        scenarioLabel: scenarioColumn ? (name ?? "default") : nil, stop: stop))
            }
            try stream.flush()
            try file?.commit()
        } catch {
            file?.discard()
            switch error {
            case is Interrupted:
                let lost = destination == "-" ? "the CSV on standard output is incomplete" : "nothing was written"
                FileHandle.standardError.write(Data("interrupted: \(lost)\n".utf8))
                throw ExitCode(130)
            case let error as SimulationError: throw CLIError("\(model): \(error.message)")
            default: throw error
            }
        }
        if destination != "-" {
            do {
                let meta = OutputWriter.metadata(
                    definition: definition, source: source, runs: summaries, settings: settings,
                    programVersion: Stat3Sim.version, command: CommandLine.arguments)
                try OutputWriter.writeAtomically(meta, to: metadataPath(for: destination))
            } catch let error as SimulationError {
                throw CLIError(error.message)
            }
        }
        printSummary(definition, summaries, destination: destination, seconds: Date().timeIntervalSince(started))
    }

    func metadataPath(for csv: String) -> String {
        if OutputWriter.isSpecialFile(csv) { return "/dev/null" }
        let url = URL(fileURLWithPath: csv)
        return url.pathExtension == "csv" ? url.deletingPathExtension().path + ".meta.json" : csv + ".meta.json"
    }

    func printSummary(_ d: ModelDefinition, _ courses: [RunSummary], destination: String, seconds: Double) {
        var lines: [String] = []
        let unit = d.timeUnit.map { " \($0)" } ?? ""
        for course in courses {
            lines.append(
                "\(d.name)\(course.scenario.map { " — scenario \($0)" } ?? ""): \(course.rows) rows, t = "
                    + "\(course.firstTime.summaryText)…\(course.lastTime.summaryText)\(unit)"
            )
            if !d.observables.isEmpty {
                let width = max(10, d.observables.map(\.name.count).max()!)
                lines.append(
                    "  " + "observable".padding(toLength: width, withPad: " ", startingAt: 0)
                        + "        peak   at time       final")
                for o in d.observables {
                    guard let peak = course.peak(of: o.name), let final = course.final(of: o.name) else { continue }
                    lines.append(
                        "  " + o.name.padding(toLength: width, withPad: " ", startingAt: 0)
                            + " " + pad(peak.value.summaryText, 11) + " " + pad(peak.time.summaryText, 9) + " "
                            + pad(final.summaryText, 11))
                }
            }
            let s = course.statistics
            if stats {
                lines.append("  solver: \(s)")
            } else {
                lines.append(
                    "  solver: \(s.steps) steps, \(s.rhsEvaluations) f, \(s.jacobianEvaluations) J, "
                        + "\(s.luFactorizations) LU"
                )
            }
            if let sensitivity = course.sensitivityStatistics {
                lines.append(
                    stats
                        ? "  sensitivities: \(sensitivity)"
                        : "  sensitivities: \(sensitivity.parameterDerivativeEvaluations) ∂f/∂p, "
                            + "\(sensitivity.newtonIterations) Newton iterations, "
                            + "\(sensitivity.errorTestFailures) error-test failures")
            }
        }
        lines.append(
            destination == "-"
                ? "CSV written to standard output (\(String(format: "%.3f", seconds)) s)"
                : "wrote \(destination) and \(metadataPath(for: destination)) (\(String(format: "%.3f", seconds)) s)")
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }
}

func pad(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }

/// `name=value` from `--set`.
func parseAssignment(_ text: String) throws -> (name: String, value: Double) {
    let parts = text.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
    guard parts.count == 2, !parts[0].isEmpty else {
        throw CLIError("--set \(excerpt(text, limit: 80)): write name=value, e.g. --set IL6=0.5.")
    }
    guard let value = Double(parts[1]) else {
        throw CLIError("--set \(excerpt(text, limit: 80)): '\(excerpt(parts[1]))' is not a number.")
    }
    return (parts[0], value)
}

/// Loads a model or fails with its paragraph.
/// A file ending in .xml or .sbml is SBML and one ending in .net a BioNetGen network, both imported
/// on the fly; anything else is a model file.
func loadModel(_ path: String) throws -> (ModelDefinition, String) {
    let definition: ModelDefinition
    switch URL(fileURLWithPath: path).pathExtension.lowercased() {
    case "net":
        do { definition = try BioNetGenReader.definition(path: path) } catch let error as ModelError {
            throw CLIError(error.description)
        }
    case "xml", "sbml":
        do {
            let warnings: [String]
            (definition, warnings) = try SBMLReader.imported(path: path)
            for warning in warnings { FileHandle.standardError.write(Data("\(path): warning: \(warning)\n".utf8)) }
        } catch let error as SBMLImportError {
            throw CLIError("\(path): \(error.message)")
        }
    default:
        do { definition = try ModelLoader.load(path: path) } catch let error as ModelError {
            throw CLIError(error.description)
        }
    }
    // The text the sidecars hash.
    return (definition, (try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
}

/// An error printed as its message alone (no "Error:" prefix noise), exit status 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Writes `text`, the model at `model` in another format, to `out` (by default MODEL-NAME.`ext`
/// here; '-' is standard output). Returns the file written, nil for standard output.
func writeConverted(_ text: String, of model: String, to out: String?, ext: String) throws -> String? {
    let destination = out ?? URL(fileURLWithPath: model).deletingPathExtension().lastPathComponent + "." + ext
    if destination == "-" {
        FileHandle.standardOutput.write(Data(text.utf8))
        return nil
    }
    do {
        try OutputWriter.writeAtomically(text, to: destination)
    } catch let error as SimulationError {
        throw CLIError(error.message)
    }
    return destination
}
