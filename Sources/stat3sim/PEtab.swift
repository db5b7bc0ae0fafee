import ArgumentParser
import Calibration
import Foundation
import Simulation

/// `stat3sim petab`: PEtab v1 problems: what one contains, and its likelihood.
struct PEtab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "petab",
        abstract: "Read PEtab v1 parameter-estimation problems: check them, evaluate their likelihood.",
        discussion: """
            A PEtab problem is a YAML file naming an SBML model and TSV tables of conditions, measurements,
            observables and parameters (docs/calibration.md lists what is read and what is refused).

            Examples:
              stat3sim petab check Tests/PEtab/Boehm_JProteomeRes2014/Boehm_JProteomeRes2014.yaml
              stat3sim petab nll Tests/PEtab/Boehm_JProteomeRes2014/Boehm_JProteomeRes2014.yaml --gradient
            """,
        subcommands: [PEtabCheck.self, PEtabNLL.self])
}

func loadPEtab(_ path: String) throws -> PEtabProblem {
    do { return try PEtabProblem.load(path: path) } catch let e as PEtabError { throw CLIError(e.description) }
}

struct PEtabCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Read a PEtab problem and list what it contains; every mistake is reported with FILE:LINE.")

    @Argument(help: "The PEtab problem (YAML).")
    var problem: String

    func run() throws {
        let p = try loadPEtab(problem)
        let d = p.model
        let estimated = p.estimated
        let preequilibrations = Set(p.measurements.compactMap(\.preequilibrationConditionId))
        let pairs = Set(p.measurements.map { ($0.preequilibrationConditionId ?? "") + "→" + $0.simulationConditionId })
        var lines: [String] = []
        lines.append("\(problem): PEtab v1 problem, model \(p.modelFile) (\(d.name))")
        lines.append(
            "  model: \(d.species.count) species, \(d.parameters.count) parameters, \(d.compartments.count) "
                + "compartments, \(d.reactions.count) reactions, \(p.initialAssignments.count) initial assignments")
        lines.append(
            "  parameters: \(p.parameters.count) in \(p.parameterFile), \(estimated.count) estimated ("
                + ["lin", "log", "log10"].compactMap { s in
                    let n = estimated.filter { $0.scale.rawValue == s }.count
                    return n == 0 ? nil : "\(n) \(s)"
                }.joined(separator: ", ") + ")")
        let priors = estimated.compactMap { $0.prior.map { "\($0.kind.rawValue)" } }
        if !priors.isEmpty {
            let kinds = Dictionary(grouping: priors, by: { $0 }).map { "\($0.value.count) \($0.key)" }.sorted()
            lines.append("  objective priors: \(kinds.joined(separator: ", "))")
        }
        lines.append(
            "  conditions: \(p.conditions.count) in \(p.conditionFile); \(pairs.count) simulations"
                + (preequilibrations.isEmpty
                    ? ""
                    : ", preequilibration in \(preequilibrations.sorted().joined(separator: ", "))"))
        var kinds: [String: Int] = [:]
        for o in p.observables { kinds["\(o.transformation.rawValue)-\(o.distribution.rawValue)", default: 0] += 1 }
        lines.append(
            "  observables: \(p.observables.count) in \(p.observableFile) ("
                + kinds.keys.sorted().map { "\(kinds[$0]!) \($0)" }.joined(separator: ", ") + ")")
        let times = Set(p.measurements.map(\.time))
        lines.append(
            "  measurements: \(p.measurements.count) in \(p.measurementFile), \(times.count) distinct times "
                + "from \(times.min()!.summaryText) to \(times.max()!.summaryText)")
        for note in p.notes { lines.append("  ignored: \(note)") }
        for w in p.importWarnings { lines.append("  SBML import: \(w)") }
        print(lines.joined(separator: "\n"))
    }
}

struct PEtabNLL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nll",
        abstract: "The negative log-likelihood at the nominal (or given) parameters, with the prior term and χ².",
        discussion: """
            The NLL excludes the objective priors, which are printed separately. --gradient adds the derivatives
            of both by every estimated parameter on its scale (lin, log or log10), from forward sensitivities.
            """)

    @Argument(help: "The PEtab problem (YAML).")
    var problem: String

    @Flag(help: "Also the gradient on the parameter scale.")
    var gradient = false

    @Flag(help: "Print one JSON object: nll, prior_nll, chi2 (and gradient, prior_gradient).")
    var json = false

    @Option(
        help: ArgumentHelp(
            "Evaluate at these parameter values (linear scale): a PEtab parameter table (its nominalValue column) "
                + "or a TSV with columns parameterId and value; parameters it leaves out keep their nominal values.",
            valueName: "file.tsv"))
    var parameters: String?

    @Option(
        help: ArgumentHelp(
            "Also write the PEtab simulation table here: the measurement table with a 'simulation' column of the "
                + "simulated observables in place of 'measurement'.",
            valueName: "file.tsv"))
    var simulations: String?

    @Option(help: "Relative tolerance of the simulations.")
    var rtol = 1e-10

    @Option(help: "Absolute tolerance of the simulations.")
    var atol = 1e-12

    func run() throws {
        let p = try loadPEtab(problem)
        let value: PEtabObjectiveValue
        do {
            let objective = try PEtabObjective(problem: p, rtol: rtol, atol: atol)
            let values = try parameters.map(p.parameterValues(file:)) ?? [:]
            value = try objective.evaluate(values: values, gradient: gradient)
        } catch let e as PEtabError { throw CLIError(e.description) }
        if let simulations {
            do { try OutputWriter.writeAtomically(p.simulationTable(value.simulations), to: simulations) } catch let
                error as SimulationError
            {
                throw CLIError(error.message)
            }
        }
        let ids = p.estimated.map(\.id)
        if json {
            var fields = [
                "\"nll\": \(value.nll.exactText)", "\"prior_nll\": \(value.priorNLL.exactText)",
                "\"chi2\": \(value.chi2.exactText)",
            ]
            if let g = value.gradient, let pg = value.priorGradient {
                func object(_ m: [String: Double]) -> String {
                    "{" + ids.map { "\"\($0)\": \((m[$0] ?? 0).exactText)" }.joined(separator: ", ") + "}"
                }
                fields.append("\"gradient\": \(object(g))")
                fields.append("\"prior_gradient\": \(object(pg))")
            }
            print("{" + fields.joined(separator: ", ") + "}")
            return
        }
        var lines = [
            "\(problem): \(value.measurements) measurements, \(ids.count) estimated parameters, rtol \(rtol), atol \(atol)",
            "  nll        \(value.nll.exactText)",
            "  prior nll  \(value.priorNLL.exactText)",
            "  nll+prior  \((value.nll + value.priorNLL).exactText)",
            "  chi2       \(value.chi2.exactText)",
        ]
        if let g = value.gradient, let pg = value.priorGradient {
            let width = max(9, ids.map(\.count).max() ?? 0)
            lines.append("  gradient on the parameter scale:")
            lines.append(
                "    " + "parameter".padding(toLength: width, withPad: " ", startingAt: 0) + "  scale  d nll  d prior")
            for p in p.estimated {
                lines.append(
                    "    " + p.id.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                        + p.scale.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0) + "  "
                        + "\((g[p.id] ?? 0).exactText)  \((pg[p.id] ?? 0).exactText)")
            }
            if value.relaxedSensitivityRuns > 0 {
                lines.append(
                    "  note: \(value.relaxedSensitivityRuns) simulations' sensitivities exhausted the step budget under "
                        + "error control and were computed on the state's steps")
            }
        }
        print(lines.joined(separator: "\n"))
    }
}
