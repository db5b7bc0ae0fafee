import Foundation
import ODESolver
import ReactionModel
import Simulation
import Testing

@testable import SBML

/// egfr_net (356 species, 3,749 reactions) from Models/bionetgen: its KLU factors would hold 4.5×
/// the nonzeros of M, so the automatic choice takes the Krylov path; the sparse LU's end state on
/// the Catalyst protocol is the dense LU's to round-off, the Krylov path's to the tolerance.
@Suite struct BioNetGenSparseTests {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Models/bionetgen/egfr_net.net").path

    /// The end state at t = 10 (rtol 1e-6, atol 1e-9, as in Loman et al. 2023) and the statistics.
    static func endState(_ d: ModelDefinition, _ linearSolver: BDFOptions.LinearSolver) throws -> (
        state: [Double], statistics: SolverStatistics
    ) {
        var settings = RunSettings()
        settings.tEnd = 10
        settings.outputInterval = 10
        settings.rtol = 1e-6
        settings.atol = 1e-9
        settings.linearSolver = linearSolver
        let course = try Simulator(d).run(settings: settings)
        let last = course.times.count - 1
        return ((0..<course.columns.count).map { course.value(row: last, column: $0) }, course.statistics)
    }

    @Test func egfrNetChoosesKrylovAndMatchesDense() throws {
        let d = try BioNetGenReader.definition(path: Self.path)
        let network = ReactionNetwork(d)
        #expect(network.dimension == 356)
        let solver = try BDFSolver(system: network)
        #expect(solver.usesKrylovLinearSolver)
        #expect(!solver.usesSparseLinearSolver)
        let nonzeros = try #require(solver.jacobianNonzeros)
        #expect(Double(nonzeros) <= BDFOptions.LinearSolver.sparseDensityLimit * 356 * 356)

        let automatic = try Self.endState(d, .automatic)
        let sparse = try Self.endState(d, .sparse)
        let dense = try Self.endState(d, .dense)
        #expect(automatic.statistics.preconditionerSetups == automatic.statistics.luFactorizations)
        #expect(automatic.statistics.linearIterations > 0)
        #expect(automatic.statistics.sparseFactorizations == 0)
        #expect(sparse.statistics.sparseFactorizations >= 1)
        #expect(
            sparse.statistics.sparseFactorizations + sparse.statistics.sparseRefactorizations
                == sparse.statistics.luFactorizations)
        #expect(dense.statistics.sparseFactorizations + dense.statistics.preconditionerSetups == 0)
        let scale = dense.state.map(abs).max() ?? 0
        for (k, (x, y)) in zip(sparse.state, dense.state).enumerated() {
            #expect(abs(x - y) <= 1e-6 * max(abs(y), 1e-6 * scale), "column \(k): sparse \(x), dense \(y)")
        }
        // GMRES stops at 0.05 of the Newton tolerance, so the two end states are two solutions
        // within the tolerances, not one to round-off: measured 3.7 × (rtol |y| + atol) apart.
        for (k, (x, y)) in zip(automatic.state, dense.state).enumerated() {
            #expect(abs(x - y) <= 10 * (1e-6 * abs(y) + 1e-9), "column \(k): krylov \(x), dense \(y)")
        }
    }
}
