import Foundation
import ODESolver
import ReactionModel
import Simulation
import Testing

@testable import SBML

/// egfr_net (356 species, 3,749 reactions) from Models/bionetgen: the automatic choice takes the
/// sparse LU there, and its end state on the Catalyst protocol is the dense LU's.
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

    @Test func egfrNetChoosesSparseAndMatchesDense() throws {
        let d = try BioNetGenReader.definition(path: Self.path)
        let network = ReactionNetwork(d)
        #expect(network.dimension == 356)
        let solver = try BDFSolver(system: network)
        #expect(solver.usesSparseLinearSolver)
        let nonzeros = try #require(solver.sparseNonzeros).matrix
        #expect(Double(nonzeros) <= BDFOptions.LinearSolver.sparseDensityLimit * 356 * 356)

        let automatic = try Self.endState(d, .automatic)
        let dense = try Self.endState(d, .dense)
        #expect(automatic.statistics.sparseFactorizations >= 1)
        #expect(
            automatic.statistics.sparseFactorizations + automatic.statistics.sparseRefactorizations
                == automatic.statistics.luFactorizations)
        #expect(dense.statistics.sparseFactorizations == 0)
        let scale = dense.state.map(abs).max() ?? 0
        for (k, (x, y)) in zip(automatic.state, dense.state).enumerated() {
            #expect(abs(x - y) <= 1e-6 * max(abs(y), 1e-6 * scale), "column \(k): sparse \(x), dense \(y)")
        }
    }
}
