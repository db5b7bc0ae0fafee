import Foundation
import ODESolver
import StiffProblems
import Testing

/// The dense solution of A x = b for A given as (row, column, value) triples (repeats add up).
private func denseSolution(_ n: Int, _ entries: [(row: Int, column: Int, value: Double)], _ b: [Double]) -> [Double] {
    let dense = DenseLU(dimension: n, backend: .lapack)
    dense.matrix.update(repeating: 0, count: n * n)
    for e in entries { dense.matrix[e.row + e.column * n] += e.value }
    #expect(dense.factorize())
    var x = b
    x.withUnsafeMutableBufferPointer { dense.solve($0.baseAddress!) }
    return x
}

@Suite("Incomplete LU and GMRES against dense solves")
struct KrylovLinearAlgebraTests {
    /// A tridiagonal matrix has no fill, so ILU(0) is its exact LU: one solve with it is the dense
    /// LU's solution to round-off.
    @Test func incompleteLUOfATridiagonalMatrixIsExact() throws {
        let n = 40
        var entries: [(row: Int, column: Int, value: Double)] = []
        for i in 0..<n {
            if i > 0 { entries.append((i, i - 1, -1.0 - 0.01 * Double(i))) }
            entries.append((i, i, 2.5 + 0.1 * Double(i % 3)))
            if i < n - 1 { entries.append((i, i + 1, -0.7)) }
        }
        let structure = SparseLU.Structure(dimension: n, pattern: entries.map { ($0.row, $0.column) })
        let ilu = IncompleteLU(structure: structure)
        // Write A as I − γJ with γ = 1: J = I − A.
        var jacobian = [Double](repeating: 0, count: structure.nonzeroCount)
        for (p, e) in entries.enumerated() { jacobian[structure.entryPositions[p]] -= e.value }
        for j in 0..<n { jacobian[structure.diagonal[j]] += 1 }
        #expect(ilu.factorize(identityMinus: 1, times: jacobian))
        let b = (0..<n).map { Double($0 % 5) - 1.5 }
        let expected = denseSolution(n, entries, b)
        var x = b
        x.withUnsafeMutableBufferPointer { ilu.solve($0.baseAddress!) }
        let scale = expected.map(abs).max()!
        for i in 0..<n { #expect(abs(x[i] - expected[i]) <= 1e-13 * scale, "x[\(i)]: \(x[i]) vs \(expected[i])") }
        #expect(ilu.updateCount == n - 1)
    }

    /// A zero pivot fails the set-up instead of producing infinities.
    @Test func incompleteLUReportsAZeroPivot() throws {
        let structure = SparseLU.Structure(dimension: 2, pattern: [(0, 1), (1, 0)])
        let ilu = IncompleteLU(structure: structure)
        ilu.factors.update(repeating: 0, count: structure.nonzeroCount)
        ilu.factors[structure.entryPositions[0]] = 1
        ilu.factors[structure.entryPositions[1]] = 1
        #expect(!ilu.factorize())
    }

    /// A nonsymmetric, not diagonally dominant 12×12 system: GMRES with as many vectors as unknowns
    /// solves it exactly (unpreconditioned, unit weights); with 3 vectors and restarts it converges
    /// to its tolerance; with 3 vectors and no restart it reports a reduced residual, not success.
    @Test func gmresSolvesANonsymmetricSystem() throws {
        let n = 12
        var entries: [(row: Int, column: Int, value: Double)] = []
        for i in 0..<n {
            entries.append((i, i, 3 + Double(i % 4)))
            entries.append((i, (i + 1) % n, 1.5))
            entries.append(((i + 3) % n, i, -2.0 + 0.1 * Double(i)))
        }
        let b = (0..<n).map { sin(Double($0) + 1) }
        let expected = denseSolution(n, entries, b)
        let weights = [Double](repeating: 1, count: n)
        func multiply(_ v: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>) {
            for i in 0..<n { z[i] = 0 }
            for e in entries { z[e.row] += e.value * v[e.column] }
        }
        let scale = expected.map(abs).max()!

        let full = GMRES(dimension: n, maxDimension: n)
        var x = b
        let outcome = x.withUnsafeMutableBufferPointer { x in
            weights.withUnsafeBufferPointer { w in
                full.solve(
                    x.baseAddress!, weights: w.baseAddress!, tolerance: 1e-13, multiply: multiply,
                    precondition: { _ in })
            }
        }
        #expect(outcome == .converged)
        for i in 0..<n { #expect(abs(x[i] - expected[i]) <= 1e-11 * scale, "x[\(i)]: \(x[i]) vs \(expected[i])") }

        let restarted = GMRES(dimension: n, maxDimension: 3, maxRestarts: 200)
        x = b
        let again = x.withUnsafeMutableBufferPointer { x in
            weights.withUnsafeBufferPointer { w in
                restarted.solve(
                    x.baseAddress!, weights: w.baseAddress!, tolerance: 1e-10, multiply: multiply,
                    precondition: { _ in })
            }
        }
        #expect(again == .converged)
        #expect(restarted.iterations > 3)
        for i in 0..<n { #expect(abs(x[i] - expected[i]) <= 1e-8 * scale, "x[\(i)]: \(x[i]) vs \(expected[i])") }

        let short = GMRES(dimension: n, maxDimension: 3)
        x = b
        let partial = x.withUnsafeMutableBufferPointer { x in
            weights.withUnsafeBufferPointer { w in
                short.solve(
                    x.baseAddress!, weights: w.baseAddress!, tolerance: 1e-10, multiply: multiply,
                    precondition: { _ in })
            }
        }
        #expect(partial == .residualReduced)
        #expect(short.iterations == 3)
    }

    /// With the ILU(0) of the same matrix as preconditioner GMRES converges in fewer iterations, to
    /// the dense solution; the weights scale the residual test as the solver's error weights do.
    @Test func gmresWithIncompleteLUPreconditioner() throws {
        let n = 60
        var entries: [(row: Int, column: Int, value: Double)] = []
        for i in 0..<n {
            entries.append((i, i, 4 + Double(i % 3)))
            if i > 0 { entries.append((i, i - 1, -1.2)) }
            if i < n - 1 { entries.append((i, i + 1, 0.8)) }
            entries.append(((i * 7 + 3) % n, i, 0.9))
        }
        let structure = SparseLU.Structure(dimension: n, pattern: entries.map { ($0.row, $0.column) })
        let ilu = IncompleteLU(structure: structure)
        ilu.factors.update(repeating: 0, count: structure.nonzeroCount)
        for (p, e) in entries.enumerated() { ilu.factors[structure.entryPositions[p]] += e.value }
        #expect(ilu.factorize())
        let b = (0..<n).map { cos(0.3 * Double($0)) }
        let expected = denseSolution(n, entries, b)
        let weights = (0..<n).map { 1 + Double($0 % 4) }
        func multiply(_ v: UnsafePointer<Double>, _ z: UnsafeMutablePointer<Double>) {
            for i in 0..<n { z[i] = 0 }
            for e in entries { z[e.row] += e.value * v[e.column] }
        }
        let gmres = GMRES(dimension: n, maxDimension: 10, maxRestarts: 5)
        var x = b
        let outcome = x.withUnsafeMutableBufferPointer { x in
            weights.withUnsafeBufferPointer { w in
                gmres.solve(
                    x.baseAddress!, weights: w.baseAddress!, tolerance: 1e-12, multiply: multiply,
                    precondition: { ilu.solve($0) })
            }
        }
        #expect(outcome == .converged)
        let scale = expected.map(abs).max()!
        for i in 0..<n { #expect(abs(x[i] - expected[i]) <= 1e-10 * scale, "x[\(i)]: \(x[i]) vs \(expected[i])") }
    }
}

@Suite("BDF with the Krylov linear solver")
struct KrylovBDFTests {
    /// The stiff test set with `.krylov` (no pattern: ILU(0) on every entry), to the same multiples
    /// of the tolerance as `ReferenceProblemTests`.
    @Test(arguments: ReferenceProblemTests.cases)
    func endTimeErrorIsASmallMultipleOfTheTolerance(_ c: ReferenceProblemTests.Case) throws {
        let run = ProblemRun(c.run.problem, rtol: c.run.rtol, atol: c.run.atol, linearSolver: .krylov)
        guard let (ratio, statistics) = try run.endTimeError() else {
            Issue.record("unknown problem")
            return
        }
        print("\(c.testDescription) krylov: error = \(ratio) × tolerance")
        #expect(ratio <= c.multiple)
        #expect(statistics.preconditionerSetups == statistics.luFactorizations)
        #expect(statistics.linearIterations > 0)
        #expect(statistics.sparseFactorizations == 0)
    }

    /// A 200-unknown chain with a pattern, the Jacobian written straight into compressed columns or
    /// gathered from the dense one: GMRES with ILU(0) (exact here, as the pattern is tridiagonal)
    /// gives the dense LU's end state; a reused workspace repeats a fresh solve exactly.
    @Test func stiffChainMatchesDenseAndRepeatsExactly() throws {
        for sparse in [true, false] {
            let chain = StiffChain(dimension: 200, sparse: sparse)
            let r = try SparseBDFTests.endStates(chain, chain.initialState, to: 5, .krylov, .lapack)
            #expect(r.solverA.usesKrylovLinearSolver)
            #expect(!r.solverA.usesSparseLinearSolver)
            #expect(!r.solverB.usesKrylovLinearSolver)
            #expect(r.solverA.jacobianNonzeros == 3 * 200 - 2)
            SparseBDFTests.expectClose(r.a, r.b, relative: 1e-6)
            let again = try r.solverA.solve(from: 0, initialState: chain.initialState, outputTimes: [5]).finalState
            #expect(again == r.a)
        }
    }

    /// Stiff diffusion on a 12 × 12 grid (the five-point Laplacian, a classic case where ILU(0)
    /// drops fill and is only an approximate inverse): with one Krylov vector GMRES misses its
    /// tolerance often. Those are CVODE's recoverable linear-solver failures (a reduced residual
    /// accepted on a first Newton iteration, otherwise the iteration restarted with a fresh J and
    /// preconditioner, or a convergence failure), and the end state still agrees with the dense
    /// LU's to the tolerance.
    @Test func linearSolverFailuresAreRecoverable() throws {
        let side = 12
        let n = side * side
        let k = 1000.0
        var entries: [(row: Int, column: Int, value: Double)] = []
        for r in 0..<side {
            for c in 0..<side {
                let i = r * side + c
                entries.append((i, i, -4 * k - 1))
                if r > 0 { entries.append((i, i - side, k)) }
                if r < side - 1 { entries.append((i, i + side, k)) }
                if c > 0 { entries.append((i, i - 1, k)) }
                if c < side - 1 { entries.append((i, i + 1, k)) }
            }
        }
        let system = LinearSparseSystem(dimension: n, entries: entries)
        let y0 = (0..<n).map { 1 + Double($0 % 5) }
        let rtol = 1e-6
        let atol = 1e-10
        func endState(_ linearSolver: BDFOptions.LinearSolver, vectors: Int) throws -> ([Double], SolverStatistics) {
            var options = BDFOptions(relativeTolerance: rtol, absoluteTolerance: atol)
            options.linearSolver = linearSolver
            options.krylovDimension = vectors
            let solver = try BDFSolver(system: system, options: options)
            let y = try solver.solve(from: 0, initialState: y0, outputTimes: [2]).finalState
            return (y, solver.statistics)
        }
        let (dense, _) = try endState(.lapack, vectors: 5)
        for vectors in [1, 5] {
            let (krylov, statistics) = try endState(.krylov, vectors: vectors)
            var ratio = 0.0
            for (a, b) in zip(krylov, dense) { ratio = max(ratio, abs(a - b) / (rtol * abs(b) + atol)) }
            print("grid diffusion, \(vectors) Krylov vectors: \(ratio) × tolerance from dense, \(statistics)")
            if vectors == 1 { #expect(statistics.linearConvergenceFailures > 0) }
            #expect(ratio <= 10)
        }
    }

    /// Options the Krylov path cannot use are refused.
    @Test func refusesInvalidKrylovOptions() throws {
        var options = BDFOptions()
        options.linearSolver = .krylov
        options.krylovDimension = 0
        #expect(throws: ODESolverError.self) { try BDFSolver(system: Robertson(), options: options) }
        options.krylovDimension = 5
        options.linearToleranceFactor = 0
        #expect(throws: ODESolverError.self) { try BDFSolver(system: Robertson(), options: options) }
    }
}
