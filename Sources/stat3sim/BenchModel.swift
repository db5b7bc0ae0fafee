import ArgumentParser
import Foundation
import ODESolver
import ReactionModel
import Simulation

/// Times repeated end-point solves of a model in one process, for `Scripts/bench-networks` (which
/// runs libRoadRunner beside it). Prints one JSON object.
struct BenchModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-model",
        abstract: "Time repeated end-point solves of a model (prints JSON).",
        discussion: """
            Loads and compiles the model (a model file, SBML or a BioNetGen network) once, then resets
            one solver workspace and integrates from the initial state to --t-end --repeats times, saving
            only the end point, as the Catalyst benchmark (Loman et al. 2023) does. Prints the median and
            minimum time per solve in ms, the load time, which LU the solver used, its statistics and the
            end state by species. Models with events are refused (the solve does not stop for them).

            Example:
              stat3sim bench-model Models/bionetgen/egfr_net.net --t-end 10 --rtol 1e-6 --atol 1e-9 --repeats 5
            """)

    @Argument(help: "The model file (TOML), SBML (.xml) or BioNetGen network (.net).")
    var model: String

    @Option(name: .customLong("t-end"), help: "End time (model time units).")
    var tEnd: Double

    @Option(help: "Relative tolerance.")
    var rtol: Double = 1e-6

    @Option(help: "Absolute tolerance (one value for every species).")
    var atol: Double = 1e-9

    @Option(help: "Number of timed solves.")
    var repeats: Int = 5

    @Option(help: "Most seconds to spend on timed solves: fewer repeats when one solve is slow (at least one).")
    var budget: Double = .infinity

    @Option(name: .customLong("linear-solver"), help: LinearSolverChoice.help)
    var linearSolver: LinearSolverChoice = .automatic

    func run() throws {
        guard repeats > 0 else { throw ValidationError("--repeats must be positive.") }
        let started = Date()
        let (d, _) = try loadModel(model)
        let simulator = Simulator(d)
        let loadMs = Date().timeIntervalSince(started) * 1000
        guard d.events.isEmpty else {
            throw CLIError("\(model): bench-model solves without events; this model has some.")
        }
        var settings = RunSettings()
        settings.rtol = rtol
        settings.atol = atol
        settings.tEnd = tEnd
        settings.linearSolver = linearSolver.option
        let y0 = try simulator.initialState(scenario: nil, settings: settings)
        let t0 = d.simulation.tStart
        let setupStarted = Date()
        let solver = try BDFSolver(system: simulator.network, options: simulator.solverOptions(settings))
        let setupMs = Date().timeIntervalSince(setupStarted) * 1000
        var times: [Double] = []
        var end: [Double] = []
        var total = 0.0
        while times.count < repeats && (times.isEmpty || total < budget) {
            let clock = ContinuousClock.now
            end = try solver.solve(from: t0, initialState: y0, outputTimes: [tEnd]).finalState
            let elapsed = ContinuousClock.now - clock
            let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) * 1e-15
            times.append(ms)
            total += ms / 1000
        }
        times.sort()
        let s = solver.statistics
        var json: [String: Any] = [
            "model": model, "species": d.species.count, "reactions": d.reactions.count, "t_end": tEnd,
            "rtol": rtol, "atol": atol, "linear_solver": linearSolver.rawValue,
            "sparse": solver.usesSparseLinearSolver, "krylov": solver.usesKrylovLinearSolver, "repeats": times.count,
            "median_ms": times[times.count / 2], "min_ms": times[0], "times_ms": times,
            "load_ms": loadMs, "solver_setup_ms": setupMs,
            "steps": s.steps, "rhs_evaluations": s.rhsEvaluations, "jacobian_evaluations": s.jacobianEvaluations,
            "lu_factorizations": s.luFactorizations, "sparse_factorizations": s.sparseFactorizations,
            "sparse_refactorizations": s.sparseRefactorizations, "newton_iterations": s.newtonIterations,
            "linear_iterations": s.linearIterations, "preconditioner_setups": s.preconditionerSetups,
            "linear_convergence_failures": s.linearConvergenceFailures,
            "error_test_failures": s.errorTestFailures, "convergence_failures": s.convergenceFailures,
            "end_state": Dictionary(uniqueKeysWithValues: zip(d.species.map(\.name), end)),
        ]
        if let nonzeros = solver.sparseNonzeros {
            json["matrix_nonzeros"] = nonzeros.matrix
            json["factor_nonzeros"] = nonzeros.factors
            json["flops"] = solver.sparseFlops
            json["estimated_flops"] = solver.sparseEstimatedFlops
        }
        if let updates = solver.preconditionerUpdates {
            json["matrix_nonzeros"] = solver.jacobianNonzeros
            json["preconditioner_updates"] = updates
        }
        let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}
