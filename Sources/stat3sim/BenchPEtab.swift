import ArgumentParser
import Calibration
import Foundation
import Simulation

/// Times a PEtab problem's objective and gradient, for `Scripts/bench-fit`, which runs it beside
/// AMICI. Prints one JSON object.
struct BenchPEtab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-petab",
        abstract: "Time a PEtab problem's NLL and its gradient on one thread (prints JSON).",
        discussion: """
            Evaluates the NLL --repeats times, and the NLL with its gradient by forward sensitivities \
            --repeats times, alternating the two on one objective with the conditions run one after \
            another on one thread, and prints the median ms of each with the values. Each timed \
            evaluation simulates every condition (preequilibration included) and evaluates every datum.

            Example:
              stat3sim bench-petab Tests/PEtab/Boehm_JProteomeRes2014/Boehm_JProteomeRes2014.yaml --repeats 20
            """)

    @Argument(help: "The PEtab problem (YAML).")
    var problem: String

    @Option(help: "Number of timed evaluations of each kind.")
    var repeats: Int = 20

    @Option(
        help: ArgumentHelp(
            "Evaluate at these parameter values (a PEtab parameter table or parameterId/value TSV).",
            valueName: "file.tsv"))
    var parameters: String?

    @Option(help: "Relative tolerance of the simulations.")
    var rtol = 1e-8

    @Option(help: "Absolute tolerance of the simulations.")
    var atol = 1e-12

    func run() throws {
        guard repeats > 0 else { throw ValidationError("--repeats must be positive.") }
        let p = try loadPEtab(problem)
        do {
            let objective = try PEtabObjective(problem: p, rtol: rtol, atol: atol)
            objective.parallelConditions = false
            let values = try parameters.map(p.parameterValues(file:)) ?? [:]
            // Untimed first evaluations: they compile the derivative programs.
            let plain = try objective.evaluate(values: values)
            let withGradient = try objective.evaluate(values: values, gradient: true)
            var plainTimes: [Double] = []
            var gradientTimes: [Double] = []
            for _ in 0..<repeats {
                plainTimes.append(try Timing.microseconds { _ = try objective.evaluate(values: values) })
                gradientTimes.append(
                    try Timing.microseconds { _ = try objective.evaluate(values: values, gradient: true) })
            }
            let gradient = withGradient.gradient!
            let json: [String: Any] = [
                "problem": problem, "rtol": rtol, "atol": atol, "repeats": repeats,
                "measurements": p.measurements.count, "estimated": p.estimated.count,
                "simulations": objective.simulationCount,
                "nll": plain.nll, "prior_nll": plain.priorNLL,
                "nll_median_ms": Timing.median(plainTimes) * 1e-3, "nll_min_ms": plainTimes.min()! * 1e-3,
                "gradient_median_ms": Timing.median(gradientTimes) * 1e-3,
                "gradient_min_ms": gradientTimes.min()! * 1e-3,
                "gradient": Dictionary(uniqueKeysWithValues: p.estimated.map { ($0.id, gradient[$0.id] ?? 0) }),
            ]
            let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } catch let e as PEtabError { throw CLIError(e.description) }
    }
}
