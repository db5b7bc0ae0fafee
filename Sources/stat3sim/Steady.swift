import ArgumentParser
import Foundation
import ReactionModel
import Simulation

/// `stat3sim steady`: the steady state a model settles to, with its stability.
struct Steady: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find the steady state of a model (or scenario) and its stability.",
        discussion: """
            Damped Newton on the model reduced by its conservation laws (the moiety totals come from the
            initial state); if Newton fails, integration over ever longer times, then Newton again (COPASI's
            strategy). Reports the state, the residual max|dc/dt|, and the eigenvalues of the reduced
            Jacobian (LAPACK dgeev): stable when all have negative real parts. Events are not applied:
            this is where the model settles with the parameters in force.

            Examples:
              stat3sim steady Models/classic_conserved.toml
              stat3sim steady Models/cancer.toml --scenario autocrine_loop --set IL6_dose=0.1 --out ss.csv
            """)

    @Argument(help: "The model file (TOML), SBML (.xml) or BioNetGen network (.net).")
    var model: String

    @Option(help: "A scenario (or several joined by '+').")
    var scenario: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a value (repeatable).", valueName: "name=value"))
    var assignments: [String] = []

    @Option(help: "Also write the steady state as CSV (name,value) to this file.")
    var out: String?

    @Option(
        name: .customLong("linear-solver"),
        help: ArgumentHelp(
            LinearSolverChoice.help.abstract
                + " Used by the integration phases; Newton on the reduced system is always dense.",
            valueName: LinearSolverChoice.help.valueName))
    var linearSolver: LinearSolverChoice = .automatic

    func run() throws {
        let (d, _) = try loadModel(model)
        var settings = RunSettings()
        settings.overrides = try assignments.map(parseAssignment)
        settings.linearSolver = linearSolver.option
        let simulator = Simulator(d)
        let result: SteadyState
        var observables = [Double](repeating: 0, count: d.observables.count)
        do {
            let start = try simulator.initialState(scenario: scenario, settings: settings)
            let solver = try SteadyStateSolver(network: simulator.network, options: simulator.solverOptions(settings))
            result = try solver.solve(from: start, t: d.simulation.tStart)
            result.state.withUnsafeBufferPointer { y in
                observables.withUnsafeMutableBufferPointer {
                    simulator.network.observables(t: d.simulation.tStart, y: y.baseAddress!, into: $0.baseAddress!)
                }
            }
        } catch let e as SimulationError {
            throw CLIError("\(model): \(e.message)")
        }
        var lines: [String] = []
        lines.append(
            "\(d.name)\(scenario.map { " — scenario \($0)" } ?? ""): steady state found by \(result.method) "
                + "(\(result.newtonIterations) Newton iterations)"
        )
        lines.append(
            "  residual max|dc/dt| = \(result.residual.summaryText) \(d.concentrationUnit ?? "")/\(d.timeUnit ?? "time")"
        )
        let top = result.eigenvalues.prefix(4).map {
            $0.imaginary == 0 ? $0.real.summaryText : "\($0.real.summaryText)±\((abs($0.imaginary)).summaryText)i"
        }
        let stability =
            result.stable
            ? "stable"
            : result.marginal ? "neutrally stable (a zero eigenvalue: steady states form a continuum)" : "UNSTABLE"
        lines.append("  \(stability): largest real parts of the eigenvalues \(top.joined(separator: ", "))")
        if simulator.network.hasDelays {
            lines.append(
                "  (the model has delays: this is the stability with every lag zero; a lag can destabilise a "
                    + "steady state, which this does not test)")
        }
        if !d.observables.isEmpty {
            lines.append("  observables:")
            for (o, v) in zip(d.observables, observables) { lines.append("    \(o.name) = \(v.summaryText)") }
        }
        lines.append("  species:")
        for (s, v) in zip(d.species, result.state) { lines.append("    \(s.name) = \(v.summaryText)") }
        print(lines.joined(separator: "\n"))
        if let out {
            var csv = "name,value\n"
            for (s, v) in zip(d.species, result.state) { csv += "\(s.name),\(v.exactText)\n" }
            for (o, v) in zip(d.observables, observables) { csv += "\(o.name),\(v.exactText)\n" }
            csv +=
                "residual,\(result.residual.exactText)\nstable,"
                + "\(result.stable ? 1 : 0)\nlargest_real_eigenvalue,"
                + "\(result.largestRealPart.exactText)\n"
            do { try OutputWriter.writeAtomically(csv, to: out) } catch let e as SimulationError {
                throw CLIError(e.message)
            }
        }
    }
}
