import ArgumentParser
import Foundation
import ODESolver

/// Times repeated solves of a reference problem, for `Scripts/bench-solvers`, which runs it beside
/// libRoadRunner and SciPy. Prints one JSON object.
struct BenchSolver: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-solver",
        abstract: "Time repeated solves of a stiff reference problem (prints JSON).",
        discussion: """
            Each repeat resets the solver (reusing its workspace) and integrates to the problem's end
            time, as a sweep does. Prints the median, minimum and all per-solve times in µs, the
            end-time errors and the statistics of one solve.

            Example:
              stat3sim bench-solver pollu --rtol 1e-8 --atol 1e-12 --repeats 2000
            """)

    @Argument(help: "Problem: \(ProblemCatalog.names.joined(separator: ", ")).")
    var problem: String

    @Option(help: "Relative tolerance.")
    var rtol: Double = 1e-6

    @Option(help: "Absolute tolerance.")
    var atol: Double = 1e-10

    @Option(help: "Number of timed solves.")
    var repeats: Int = 1000

    @Option(help: LinearSolverChoice.help)
    var linearSolver: LinearSolverChoice = .automatic

    func run() throws {
        let chosen = try ProblemCatalog.chosen(problem)
        guard repeats > 0 else { throw ValidationError("--repeats must be positive.") }
        let report = try chosen.solveOnce(rtol, atol, linearSolver.option)
        let times = try chosen.timeSolves(rtol, atol, linearSolver.option, repeats).sorted()
        let s = report.statistics
        let json: [String: Any] = [
            "problem": problem, "linear_solver": "\(linearSolver)", "rtol": rtol, "atol": atol, "repeats": repeats,
            "median_us": times[times.count / 2], "min_us": times[0],
            "max_abs_error": report.maxAbsoluteError, "max_rel_error": report.maxRelativeError,
            "steps": s.steps, "rhs_evaluations": s.rhsEvaluations, "jacobian_evaluations": s.jacobianEvaluations,
            "lu_factorizations": s.luFactorizations, "newton_iterations": s.newtonIterations,
            "error_test_failures": s.errorTestFailures, "convergence_failures": s.convergenceFailures,
        ]
        let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}

/// The `--linear-solver` option: which LU factorises the Newton matrix (`BDFOptions.LinearSolver`).
enum LinearSolverChoice: String, ExpressibleByArgument, CaseIterable {
    case automatic, dense, lapack, native, sparse, krylov

    /// The option's help, naming the choices and the automatic rule.
    static let help = ArgumentHelp(
        "LU of the Newton matrix: automatic (the dense Swift LU up to \(BDFOptions.LinearSolver.automaticCrossover) "
            + "species, above that the sparse LU (KLU) when at most "
            + "\(Int(BDFOptions.LinearSolver.sparseDensityLimit * 100)) % of the Jacobian can be nonzero, krylov instead "
            + "where KLU's ordering predicts heavy fill-in, LAPACK otherwise), dense (Swift LU or LAPACK by size), lapack, native (Swift LU), sparse (KLU) or krylov "
            + "(GMRES preconditioned by the incomplete LU of the Newton matrix, as CVODE's SPGMR).",
        valueName: "automatic|dense|lapack|native|sparse|krylov")

    var option: BDFOptions.LinearSolver {
        switch self {
        case .automatic: return .automatic
        case .lapack: return .lapack
        case .native: return .native
        case .dense: return .dense
        case .sparse: return .sparse
        case .krylov: return .krylov
        }
    }
}
