import ArgumentParser
import Foundation
import ODESolver
import ReactionModel
import Simulation

/// Times a model's run with and without forward sensitivities, for `Scripts/bench-sensitivities`,
/// which runs it beside libRoadRunner and AMICI. Prints one JSON object.
struct BenchSensitivities: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-sensitivities",
        abstract: "Time a model's run with and without forward sensitivities (prints JSON).",
        discussion: """
            Runs the model's default run (or a scenario) --repeats times as a plain solve and \
            --repeats times with forward sensitivities (by default by every parameter with a nonzero value \
            that no event sets or reads), alternating the two on one Simulator, and \
            prints the median µs of each, their ratio, the goal ratio (Np + 1) × 0.5 and the work \
            counters of one solve of each kind. Each timed solve is a whole Simulator.run: values \
            set, solver built, integrated over the output grid with every row kept.

            Example:
              stat3sim bench-sensitivities Models/sobotta2017.toml --repeats 50
            """)

    @Argument(help: "The model file (TOML), or an SBML file (.xml).")
    var model: String

    @Option(help: "A scenario of the model (default: the model's own run).")
    var scenario: String?

    @OptionGroup var selection: ParameterSelection

    @Option(help: "Number of timed solves of each kind.")
    var repeats: Int = 20

    @OptionGroup var errorControl: SensitivityErrorControl

    @Flag(help: "Also print every column's value at the end time (\"end\"), for cross-checks.")
    var endValues = false

    @OptionGroup var options: RunOptions

    func run() throws {
        guard repeats > 0 else { throw ValidationError("--repeats must be positive.") }
        let (definition, _) = try loadModel(model)
        let simulator = Simulator(definition)
        let plain = try options.settings()
        let names = try parameterNames(simulator, settings: plain)
        var sensitive = plain
        sensitive.sensitivities = SensitivityRequest(
            parameters: names, normalized: false, errorControl: errorControl.sensitivityErrorControl)

        do {
            // Untimed first solves: they compile the derivative programs and give the counters.
            let plainCourse = try simulator.run(scenario: scenario, settings: plain)
            let course = try simulator.run(scenario: scenario, settings: sensitive)
            var plainTimes: [Double] = []
            var sensitiveTimes: [Double] = []
            for _ in 0..<repeats {
                plainTimes.append(
                    try Timing.microseconds { _ = try simulator.run(scenario: scenario, settings: plain) })
                sensitiveTimes.append(
                    try Timing.microseconds { _ = try simulator.run(scenario: scenario, settings: sensitive) })
            }
            plainTimes.sort()
            sensitiveTimes.sort()
            let plainMedian = Timing.median(plainTimes)
            let sensitiveMedian = Timing.median(sensitiveTimes)
            let s = course.statistics
            let p = plainCourse.statistics
            let ss = course.sensitivityStatistics ?? SensitivityStatistics()
            var json: [String: Any] = [
                "model": definition.name, "file": model, "scenario": scenario ?? "default",
                "rtol": plain.rtol ?? definition.simulation.rtol, "atol": plain.atol ?? definition.simulation.atol,
                "t_end": course.times.last!, "output_times": course.times.count,
                "species": definition.species.count, "observables": definition.observables.count,
                "parameters": names.count, "parameter_names": names,
                "error_control": errorControl.sensitivityErrorControl,
                "repeats": repeats,
                "plain_median_us": plainMedian, "plain_min_us": plainTimes[0],
                "sensitivity_median_us": sensitiveMedian, "sensitivity_min_us": sensitiveTimes[0],
                "ratio": sensitiveMedian / plainMedian, "goal_ratio": Double(names.count + 1) * 0.5,
                "plain_steps": p.steps, "plain_rhs_evaluations": p.rhsEvaluations,
                "plain_jacobian_evaluations": p.jacobianEvaluations, "plain_lu_factorizations": p.luFactorizations,
                "steps": s.steps, "rhs_evaluations": s.rhsEvaluations, "jacobian_evaluations": s.jacobianEvaluations,
                "lu_factorizations": s.luFactorizations, "newton_iterations": s.newtonIterations,
                "error_test_failures": s.errorTestFailures, "convergence_failures": s.convergenceFailures,
                "sensitivity_statistics": [
                    "rhs_evaluations": ss.rhsEvaluations,
                    "parameter_derivative_evaluations": ss.parameterDerivativeEvaluations,
                    "jacobian_evaluations": ss.jacobianEvaluations, "newton_iterations": ss.newtonIterations,
                    "linear_setups": ss.linearSetups, "convergence_failures": ss.convergenceFailures,
                    "error_test_failures": ss.errorTestFailures,
                ],
            ]
            if endValues {
                let last = course.times.count - 1
                var end: [String: Double] = [:]
                for (c, name) in course.columns.enumerated() { end[name] = course.value(row: last, column: c) }
                json["end"] = end
            }
            let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } catch let error as SimulationError {
            throw CLIError("\(model): \(error.message)")
        }
    }

    /// --parameters, or every parameter with a nonzero value in the run that no event of the run
    /// sets or reads when it sets a parameter (sensitivities by those are refused).
    func parameterNames(_ simulator: Simulator, settings: RunSettings) throws -> [String] {
        if let names = selection.names { return names }
        do {
            _ = try simulator.initialState(scenario: scenario, settings: settings)
            let ranked = try simulator.rankableParameters(scenario: scenario).ranked
            let d = simulator.definition
            return ranked.filter { name in
                simulator.network.parameterValue(d.parameters.firstIndex { $0.name == name }!) != 0
            }
        } catch let error as SimulationError {
            throw CLIError("\(model): \(error.message)")
        }
    }
}
