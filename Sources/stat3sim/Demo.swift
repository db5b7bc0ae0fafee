import ArgumentParser
import Foundation
import ODESolver
import StiffProblems

/// A built-in solve of a classic stiff problem, printed with its error against the published
/// reference and the solver's statistics. The smoke test of a fresh install (`make demo`).
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Solve a classic stiff test problem and print the result, its error and the solver statistics.",
        discussion: """
            Problems: rober (Robertson to t = 1e5), rober40, hires, pollu, orego, vdp (μ = 1000), linear.
            Reference values are the Bari test set's (see docs/stiff-problems.md).

            Examples:
              stat3sim demo
              stat3sim demo pollu --rtol 1e-8 --atol 1e-12
            """)

    @Argument(help: "Problem to solve.")
    var problem: String = "rober"

    @Option(help: "Relative tolerance.")
    var rtol: Double = 1e-6

    @Option(help: "Absolute tolerance.")
    var atol: Double = 1e-10

    @Option(help: LinearSolverChoice.help)
    var linearSolver: LinearSolverChoice = .automatic

    func run() throws {
        let chosen = try ProblemCatalog.chosen(problem)
        let report = try chosen.solveOnce(rtol, atol, linearSolver.option)
        print(report.text)
    }
}

/// The stiff reference problems by name, each solvable to its end time with a report.
enum ProblemCatalog {
    static let names = ["rober", "rober40", "hires", "pollu", "orego", "vdp", "linear"]

    struct Entry {
        let solveOnce: (_ rtol: Double, _ atol: Double, _ linearSolver: BDFOptions.LinearSolver) throws -> Report
        let timeSolves:
            (_ rtol: Double, _ atol: Double, _ linearSolver: BDFOptions.LinearSolver, _ repeats: Int) throws -> [Double]
    }

    struct Report {
        let text: String
        let statistics: SolverStatistics
        let maxAbsoluteError: Double
        let maxRelativeError: Double
    }

    static func named(_ name: String) -> Entry? {
        switch name {
        case "rober": return entry(Robertson(endTime: 1e5))
        case "rober40": return entry(Robertson(endTime: 40))
        case "hires": return entry(Hires())
        case "pollu": return entry(Pollution())
        case "orego": return entry(Oregonator())
        case "vdp": return entry(VanDerPol())
        case "linear": return entry(LinearStiff())
        default: return nil
        }
    }

    /// The entry named `name`; an unknown name is a refusal that lists the choices.
    static func chosen(_ name: String) throws -> Entry {
        guard let entry = named(name) else {
            throw ValidationError(
                "Unknown problem '\(name)'; choose one of \(names.joined(separator: ", ")).")
        }
        return entry
    }

    static func options(_ rtol: Double, _ atol: Double, _ linearSolver: BDFOptions.LinearSolver) -> BDFOptions {
        var options = BDFOptions(relativeTolerance: rtol, absoluteTolerance: atol)
        options.linearSolver = linearSolver
        return options
    }

    static func entry<P: ReferenceProblem>(_ problem: P) -> Entry {
        Entry(
            solveOnce: { rtol, atol, linearSolver in
                let solver = try BDFSolver(system: problem, options: options(rtol, atol, linearSolver))
                let y = try solver.solve(
                    from: problem.startTime, initialState: problem.initialState,
                    outputTimes: [problem.endTime]
                ).finalState
                let (absolute, relative) = errors(of: y, against: problem.referenceSolution)
                var lines = ["\(problem.name): t = \(problem.endTime), rtol = \(rtol), atol = \(atol)"]
                for i in 0..<problem.dimension {
                    lines.append(
                        String(format: "  y[%d] = %- .16e   reference % .16e", i, y[i], problem.referenceSolution[i]))
                }
                lines.append(String(format: "  max abs error %.2e, max rel error %.2e", absolute, relative))
                lines.append("  " + solver.statistics.description)
                return Report(
                    text: lines.joined(separator: "\n"), statistics: solver.statistics,
                    maxAbsoluteError: absolute, maxRelativeError: relative)
            },
            timeSolves: { rtol, atol, linearSolver, repeats in
                let solver = try BDFSolver(system: problem, options: options(rtol, atol, linearSolver))
                var y = [Double](repeating: 0, count: problem.dimension)
                let y0 = problem.initialState
                var times: [Double] = []
                for _ in 0..<repeats {
                    let start = DispatchTime.now().uptimeNanoseconds
                    solver.reset(time: problem.startTime, state: y0)
                    try y.withUnsafeMutableBufferPointer {
                        _ = try solver.advance(to: problem.endTime, stopTime: problem.endTime, into: $0.baseAddress!)
                    }
                    times.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-3)
                }
                return times
            })
    }
}
