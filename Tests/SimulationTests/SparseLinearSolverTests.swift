import Foundation
import ODESolver
import ReactionModel
import Testing

@testable import Simulation

/// The sparse Newton matrix (KLU) on reaction networks: chosen by size and sparsity, and the same
/// results as the dense LU, with forward sensitivities too.
@Suite("Sparse linear solver on reaction networks")
struct SparseLinearSolverTests {
    static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Models")

    static func classic() throws -> ModelDefinition {
        try ModelLoader.load(path: models.appendingPathComponent("classic.toml").path)
    }

    /// Every column of `a` within `relative` of `b`'s largest value in that column, plus 1e-9
    /// absolutely. Two LUs round differently, and over an events-and-restarts run that moves the
    /// step sequence: LAPACK against the Swift LU differ by up to 2.8e-8 of a column's scale in
    /// species and observables, 1.3e-7 in sensitivities (above the 1e-9 floor; columns of species
    /// that stay near zero hold round-off of 1e-25 and less); KLU against the Swift LU by 3.8e-8
    /// and 1.5e-7.
    static func expectClose(
        _ a: TimeCourse, _ b: TimeCourse, relative: Double, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(a.columns == b.columns, sourceLocation: sourceLocation)
        #expect(a.times == b.times, sourceLocation: sourceLocation)
        for j in 0..<a.columns.count {
            let column = (0..<b.times.count).map { b.value(row: $0, column: j) }
            let scale = column.map(abs).max() ?? 0
            for k in 0..<a.times.count {
                let (x, y) = (a.value(row: k, column: j), b.value(row: k, column: j))
                #expect(
                    abs(x - y) <= relative * scale + 1e-9,
                    "\(a.columns[j]) at t = \(a.times[k]): \(x) vs \(y)", sourceLocation: sourceLocation)
            }
        }
    }

    static func run(
        _ d: ModelDefinition, _ linearSolver: BDFOptions.LinearSolver, sensitivities: [String] = [],
        tEnd: Double? = nil, interval: Double? = nil
    ) throws -> TimeCourse {
        var settings = RunSettings()
        settings.linearSolver = linearSolver
        settings.tEnd = tEnd
        settings.outputInterval = interval
        settings.rtol = 1e-8
        settings.atol = 1e-12
        if !sensitivities.isEmpty { settings.sensitivities = SensitivityRequest(parameters: sensitivities) }
        return try Simulator(d).run(settings: settings)
    }

    @Test func classicStaysDenseUnlessAsked() throws {
        let d = try Self.classic()
        let network = ReactionNetwork(d)
        #expect(network.dimension <= BDFOptions.LinearSolver.automaticCrossover)
        #expect(!(try BDFSolver(system: network)).usesSparseLinearSolver)
        var options = BDFOptions()
        options.linearSolver = .sparse
        #expect(try BDFSolver(system: network, options: options).usesSparseLinearSolver)
    }

    /// The whole time course of the classic model (events included) with `--linear-solver sparse`,
    /// and its forward sensitivities (the staggered corrector's solves with the sparse M and its
    /// retry with the sensitivities' dense J gathered into it).
    @Test func classicSparseMatchesDenseWithSensitivities() throws {
        let d = try Self.classic()
        let dense = try Self.run(d, .dense, sensitivities: ["kf9", "k18a", "IL6"])
        let sparse = try Self.run(d, .sparse, sensitivities: ["kf9", "k18a", "IL6"])
        Self.expectClose(sparse, dense, relative: 1e-6)
        #expect(sparse.statistics.sparseFactorizations >= 1)
        #expect(sparse.statistics.sparseRefactorizations > 0)
        #expect(dense.statistics.sparseFactorizations + dense.statistics.sparseRefactorizations == 0)
    }

    /// The same with `--linear-solver krylov`: GMRES with ILU(0), the staggered corrector's
    /// sensitivity solves by GMRES with the sensitivities' error weights.
    @Test func classicKrylovMatchesDenseWithSensitivities() throws {
        let d = try Self.classic()
        let dense = try Self.run(d, .dense, sensitivities: ["kf9", "k18a", "IL6"])
        let krylov = try Self.run(d, .krylov, sensitivities: ["kf9", "k18a", "IL6"])
        Self.expectClose(krylov, dense, relative: 1e-5)
        #expect(krylov.statistics.preconditionerSetups == krylov.statistics.luFactorizations)
        #expect(krylov.statistics.linearIterations > 0)
        #expect(dense.statistics.linearIterations == 0)
    }

    /// The network's Jacobian written into compressed columns (one position per pattern entry)
    /// holds exactly the dense Jacobian's entries, and the dense one has nothing outside the
    /// pattern; at a state with every species nonzero, so that no term vanishes by accident.
    @Test func sparseJacobianIsTheDenseOne() throws {
        let d = try Self.classic()
        let network = ReactionNetwork(d)
        let n = network.dimension
        let pattern = try #require(network.jacobianPattern)
        let structure = SparseLU.Structure(dimension: n, pattern: pattern)
        let y = (0..<n).map { 0.1 + Double($0 % 5) * 0.37 }
        var f = [Double](repeating: 0, count: n)
        var dense = [Double](repeating: 0, count: n * n)
        var values = [Double](repeating: 0, count: structure.nonzeroCount)
        network.rhs(t: 0, y: y, dydt: &f)
        network.jacobian(t: 0, y: y, dydt: f, jacobian: &dense)
        network.sparseJacobian(t: 0, y: y, dydt: f, positions: structure.entryPositions, values: &values)
        var seen = [Bool](repeating: false, count: n * n)
        for j in 0..<n {
            for e in Int(structure.columnStart[j])..<Int(structure.columnStart[j + 1]) {
                let i = Int(structure.rows[e])
                seen[i + j * n] = true
                #expect(abs(values[e] - dense[i + j * n]) <= 1e-13 * max(1, abs(dense[i + j * n])), "J[\(i), \(j)]")
            }
        }
        for k in 0..<(n * n) where !seen[k] { #expect(dense[k] == 0, "J[\(k % n), \(k / n)] outside the pattern") }
    }
}
