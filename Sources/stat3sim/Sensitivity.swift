import ArgumentParser
import Foundation
import ReactionModel
import Simulation

/// `stat3sim sensitivity`: every parameter ranked by the normalized local sensitivity of each
/// metric, from one forward-sensitivity run per scenario.
struct Sensitivity: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rank parameters by the normalized local sensitivities of metrics (forward sensitivities).",
        discussion: """
            One run per scenario integrates the model with the forward sensitivities of every \
            parameter (or of --parameters: parameters, compartment sizes, species' initial values). \
            Each metric's derivative by each parameter comes from that run: peak and min at the \
            extremum located on the dense output, time_to_peak by the extremum's own sensitivity \
            (−ṡ/Ẍ), auc and mean by the trapezoid rule of the sensitivities, final and value_at at \
            their times, steady_state through the steady-state Jacobian (J s* = −∂f/∂p with the \
            conservation laws). The normalized sensitivity is d ln M / d ln p = (p/M) dM/dp: +1 \
            means the metric grows in proportion to the parameter.

            Parameters that events set, or read when they set a parameter, are not ranked (the \
            sensitivities through them are not supported); the summary names them.

            The CSV (default MODEL_sensitivity.csv, '-' for standard output) has the columns \
            [scenario,]metric,parameter,parameter_value,metric_value,sensitivity,normalized,rank, \
            rows sorted by metric and rank (rank 1: the largest |normalized|). A table of the \
            --top parameters of every metric goes to standard error.

            Examples:
              stat3sim sensitivity Models/classic.toml --metric peak:pSTAT3_fraction
              stat3sim sensitivity Models/cancer.toml --scenario normal,socs3_silenced,gp130_Y759F \\
                  --metric peak:pSTAT3_nuclear --metric value_at@1440:pSTAT3_nuclear --t-end 1440
              stat3sim sensitivity Models/sobotta2017.toml --metric steady_state:pSTAT3_fraction \\
                  --t-end 20000
            """)

    @Argument(help: "The model file (TOML), SBML (.xml) or BioNetGen network (.net).")
    var model: String

    @Option(
        help: ArgumentHelp(
            "A scenario (several combine with '+'), a comma-separated list of them ('default' is the model's own "
                + "run), or 'all'; several go into one file with a scenario column."))
    var scenario: ScenarioSelection?

    @Option(
        name: .customLong("metric"),
        help: ArgumentHelp(
            "KIND:TARGET as for sweep (repeatable; default: peak, time_to_peak, auc and final of every observable); "
                + "half_life and regime have no local sensitivity.",
            valueName: "metric"))
    var metrics: [MetricSpec] = []

    @OptionGroup var selection: ParameterSelection

    @Option(help: "Rows of the table printed for each metric.")
    var top: Int = 10

    @Option(help: "The CSV file ('-': standard output).")
    var out: String?

    @OptionGroup var options: RunOptions

    func run() throws {
        let (definition, _) = try loadModel(model)
        guard top >= 1 else { throw CLIError("--top must be at least 1.") }
        let settings = try options.settings()
        let metrics = try sweepMetrics(
            self.metrics.map { SweepSetting.flag($0, "--metric", model: model) }, definition: definition)
        let simulator = Simulator(definition)
        let names = (scenario ?? .default).runs(scenarios: definition.scenarios.map(\.name))
        let scenarioColumn = names.count > 1 || scenario == .all
        let destination =
            out ?? (URL(fileURLWithPath: model).deletingPathExtension().lastPathComponent + "_sensitivity.csv")

        var csv =
            (scenarioColumn ? "scenario," : "")
            + "metric,parameter,parameter_value,metric_value,sensitivity,normalized,rank\n"
        var table: [String] = []
        do {
            for name in names {
                let chosen: [String]
                if let names = selection.names {
                    chosen = names
                } else {
                    let (ranked, left) = try simulator.rankableParameters(scenario: name)
                    chosen = ranked
                    if !left.isEmpty {
                        table.append(
                            "\(label(name)): not ranked, set or read by events: \(left.joined(separator: ", "))")
                    }
                }
                let result = try simulator.metricSensitivities(
                    scenario: name, settings: settings, metrics: metrics, parameters: chosen)
                for (m, metric) in metrics.enumerated() {
                    let order = ranking(result, metric: m)
                    table.append(
                        "\(label(name)) — \(metric.column) = \(result.metricValues[m].summaryText)")
                    let width = max(20, result.parameters.map(\.count).max() ?? 0)
                    table.append(
                        "  rank  " + "parameter".padding(toLength: width, withPad: " ", startingAt: 0)
                            + "  normalized    sensitivity")
                    for (rank, k) in order.enumerated() {
                        let normalized = result.normalized(metric: m, parameter: k)
                        let derivative = result.derivative(metric: m, parameter: k)
                        csv +=
                            (scenarioColumn ? OutputWriter.csvField(name ?? "default") + "," : "")
                            + [
                                metric.column, result.parameters[k], result.parameterValues[k].exactText,
                                result.metricValues[m].exactText, derivative.exactText, normalized.exactText,
                                String(rank + 1),
                            ].map(OutputWriter.csvField).joined(separator: ",") + "\n"
                        if rank < top {
                            table.append(
                                "  " + pad(String(rank + 1), 4) + "  "
                                    + result.parameters[k].padding(toLength: width, withPad: " ", startingAt: 0)
                                    + " " + pad(normalized.summaryText, 11) + "  " + pad(derivative.summaryText, 13))
                        }
                    }
                }
            }
        } catch let error as SimulationError {
            throw CLIError("\(model): \(error.message)")
        }
        if destination == "-" {
            FileHandle.standardOutput.write(Data(csv.utf8))
        } else {
            do { try OutputWriter.writeAtomically(csv, to: destination) } catch let error as SimulationError {
                throw CLIError(error.message)
            }
            table.append("wrote \(destination)")
        }
        FileHandle.standardError.write(Data((table.joined(separator: "\n") + "\n").utf8))
    }

    func label(_ scenario: String?) -> String {
        scenario.map { "scenario \($0)" } ?? "default run"
    }

    /// Parameter indices by decreasing |normalized sensitivity| (NaN last; ties in model order).
    func ranking(_ result: MetricSensitivities, metric m: Int) -> [Int] {
        result.parameters.indices.sorted { a, b in
            let x = abs(result.normalized(metric: m, parameter: a))
            let y = abs(result.normalized(metric: m, parameter: b))
            if x.isNaN != y.isNaN { return y.isNaN }
            if x != y { return x > y }
            return a < b
        }
    }
}
