import ODESolver
import StiffProblems
import Testing

/// SplitMix64: the same pseudo-random matrices on every run and platform.
private struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

/// A random n×n matrix with about `density`·n² off-diagonal nonzeros (values in [-1, 1]) and a
/// diagonal of size `diagonal` (dominant or not, so that pivoting is exercised too), as
/// (row, column, value) triples, with some pairs repeated (their values add up).
private func randomSparse(
    n: Int, density: Double, diagonal: Double, seed: UInt64
) -> [(row: Int, column: Int, value: Double)] {
    var random = SplitMix(state: seed)
    var entries: [(row: Int, column: Int, value: Double)] = []
    for j in 0..<n { entries.append((j, j, diagonal * (0.5 + random.uniform()))) }
    let count = Int(density * Double(n * n))
    for _ in 0..<count {
        let i = Int(random.next() % UInt64(n))
        let j = Int(random.next() % UInt64(n))
        entries.append((i, j, 2 * random.uniform() - 1))
    }
    return entries
}

@Suite("Sparse LU (KLU) against a known solution and the dense LU")
struct SparseLUTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let n: Int
        let density: Double
        let diagonal: Double
        let seed: UInt64
        /// Largest error of the solution allowed, relative to max|x|: round-off times the
        /// condition number, larger when the diagonal is weak.
        var tolerance = 1e-9
        var testDescription: String { "n \(n), density \(density), diagonal \(diagonal)" }
    }

    static let cases: [Case] = [
        Case(n: 1, density: 0, diagonal: 2, seed: 1),
        Case(n: 7, density: 0.3, diagonal: 3, seed: 2),
        Case(n: 60, density: 0.05, diagonal: 4, seed: 3),
        Case(n: 300, density: 0.01, diagonal: 3, seed: 4),
        // A weak diagonal: KLU must pivot off it.
        Case(n: 120, density: 0.04, diagonal: 0.01, seed: 5, tolerance: 1e-6),
    ]

    @Test(arguments: cases)
    func solvesRandomSparseSystems(_ c: Case) throws {
        let n = c.n
        let entries = randomSparse(n: n, density: c.density, diagonal: c.diagonal, seed: c.seed)
        let lu = SparseLU(dimension: n, pattern: entries.map { ($0.row, $0.column) })
        let positions = lu.structure.entryPositions
        #expect(positions.count == entries.count)
        lu.values.update(repeating: 0, count: lu.nonzeroCount)
        for (p, e) in entries.enumerated() { lu.values[positions[p]] += e.value }

        // The same matrix dense, and b = A x for a known x.
        let dense = DenseLU(dimension: n, backend: .lapack)
        for e in entries { dense.matrix[e.row + e.column * n] += e.value }
        var random = SplitMix(state: c.seed &+ 100)
        let x = (0..<n).map { _ in 2 * random.uniform() - 1 }
        var b = [Double](repeating: 0, count: n)
        for e in entries { b[e.row] += e.value * x[e.column] }

        #expect(lu.factorize())
        #expect(dense.factorize())
        var sparseSolution = b
        var denseSolution = b
        sparseSolution.withUnsafeMutableBufferPointer { lu.solve($0.baseAddress!) }
        denseSolution.withUnsafeMutableBufferPointer { dense.solve($0.baseAddress!) }
        let scale = x.map(abs).max()!
        for i in 0..<n {
            #expect(abs(sparseSolution[i] - x[i]) <= c.tolerance * scale, "x[\(i)]: \(sparseSolution[i]) vs \(x[i])")
            #expect(abs(sparseSolution[i] - denseSolution[i]) <= c.tolerance * scale)
        }
        // The residual is round-off in norm whatever the conditioning: ‖b − A x̂‖∞ within
        // 1e-12·n·‖A‖∞·‖x̂‖∞ (a threshold-pivoting LU's backward error is u·n·‖A‖·‖x̂‖ times the
        // growth factor; the weak diagonal takes 5e-10 of 1.4e-9 here).
        var residual = b
        var rowSums = [Double](repeating: 0, count: n)
        for e in entries {
            residual[e.row] -= e.value * sparseSolution[e.column]
            rowSums[e.row] += abs(e.value)
        }
        let bound = 1e-12 * Double(n) * rowSums.max()! * sparseSolution.map(abs).max()!
        #expect(residual.map(abs).max()! <= bound)
        #expect(lu.factorizations == 1)
        #expect(lu.refactorizations == 0)
        #expect(lu.factorNonzeros >= n)
    }

    /// A second factorisation with new values on the same pattern reuses the pivots
    /// (`klu_refactor`) and still solves exactly; M = I − γJ is formed from J in CSC order.
    @Test func refactorisesNewValuesWithTheSamePivots() throws {
        let n = 150
        let entries = randomSparse(n: n, density: 0.02, diagonal: 2, seed: 9)
        let lu = SparseLU(dimension: n, pattern: entries.map { ($0.row, $0.column) })
        let positions = lu.structure.entryPositions
        var jacobian = [Double](repeating: 0, count: lu.nonzeroCount)
        for (p, e) in entries.enumerated() { jacobian[positions[p]] += e.value }
        var dense = [Double](repeating: 0, count: n * n)
        for e in entries { dense[e.row + e.column * n] += e.value }
        for gamma in [0.1, 0.12, 0.05] {
            #expect(lu.factorize(identityMinus: gamma, times: jacobian))
            var random = SplitMix(state: UInt64(gamma * 1000))
            let x = (0..<n).map { _ in random.uniform() }
            var b = x
            for j in 0..<n { for i in 0..<n { b[i] -= gamma * dense[i + j * n] * x[j] } }
            b.withUnsafeMutableBufferPointer { lu.solve($0.baseAddress!) }
            for i in 0..<n { #expect(abs(b[i] - x[i]) <= 1e-10, "γ \(gamma), x[\(i)]") }
        }
        #expect(lu.factorizations == 1)
        #expect(lu.refactorizations == 2)
    }

    @Test func reportsASingularMatrix() throws {
        // Column 2 is structurally there (the diagonal) but numerically zero.
        let lu = SparseLU(dimension: 3, pattern: [(0, 1), (1, 0)])
        lu.values.update(repeating: 1, count: lu.nonzeroCount)
        lu.values[lu.structure.diagonal[2]] = 0
        #expect(!lu.factorize())
        lu.values[lu.structure.diagonal[2]] = 5
        lu.values[lu.structure.diagonal[0]] = 2
        #expect(lu.factorize())
    }

    @Test func structureDeduplicatesAndAddsTheDiagonal() {
        let s = SparseLU.Structure(dimension: 3, pattern: [(2, 0), (2, 0), (0, 2), (1, 1)])
        #expect(s.columnStart == [0, 2, 3, 5])
        #expect(s.rows == [0, 2, 1, 0, 2])
        #expect(s.diagonal == [0, 2, 4])
        #expect(s.entryPositions == [1, 1, 3, 2])
    }
}

/// A stiff nonlinear chain of n cells, dy_i/dt = k (y_{i−1} − 2 y_i + y_{i+1}) − c y_i² + s_i,
/// with its tridiagonal pattern, an analytic Jacobian dense and (optionally) sparse: what the
/// sparse path needs from a system, without a reaction network.
struct StiffChain: ODESystem {
    let dimension: Int
    let sparse: Bool
    let k = 400.0
    let c = 1.0

    var providesJacobian: Bool { true }
    var providesSparseJacobian: Bool { sparse }
    var initialState: [Double] { (0..<dimension).map { $0 == 0 ? 1 : 0 } }

    func rhs(t: Double, y: UnsafePointer<Double>, dydt: UnsafeMutablePointer<Double>) {
        let n = dimension
        for i in 0..<n {
            let left = i > 0 ? y[i - 1] : 0
            let right = i < n - 1 ? y[i + 1] : 0
            dydt[i] = k * (left - 2 * y[i] + right) - c * y[i] * y[i] + (i == 0 ? 1 : 0)
        }
    }

    var jacobianPattern: [(row: Int, column: Int)]? {
        var pattern: [(row: Int, column: Int)] = []
        for i in 0..<dimension {
            if i > 0 { pattern.append((i, i - 1)) }
            pattern.append((i, i))
            if i < dimension - 1 { pattern.append((i, i + 1)) }
        }
        return pattern
    }

    func jacobian(
        t: Double, y: UnsafePointer<Double>, dydt: UnsafePointer<Double>, jacobian: UnsafeMutablePointer<Double>
    ) {
        let n = dimension
        for i in 0..<n {
            if i > 0 { jacobian[i + (i - 1) * n] = k }
            jacobian[i + i * n] = -2 * k - 2 * c * y[i]
            if i < n - 1 { jacobian[i + (i + 1) * n] = k }
        }
    }

    func sparseJacobian(
        t: Double, y: UnsafePointer<Double>, dydt: UnsafePointer<Double>, positions: UnsafePointer<Int>,
        values: UnsafeMutablePointer<Double>
    ) {
        var p = 0
        for i in 0..<dimension {
            if i > 0 {
                values[positions[p]] += k
                p += 1
            }
            values[positions[p]] += -2 * k - 2 * c * y[i]
            p += 1
            if i < dimension - 1 {
                values[positions[p]] += k
                p += 1
            }
        }
    }
}

@Suite("BDF with the sparse Newton matrix gives the dense results")
struct SparseBDFTests {
    /// End states of `system` with two linear solvers, at rtol 1e-8.
    static func endStates<S: ODESystem>(
        _ system: S, _ y0: [Double], to tEnd: Double, _ a: BDFOptions.LinearSolver, _ b: BDFOptions.LinearSolver
    ) throws -> (a: [Double], b: [Double], solverA: BDFSolver<S>, solverB: BDFSolver<S>) {
        var options = BDFOptions(relativeTolerance: 1e-8, absoluteTolerance: 1e-12)
        options.linearSolver = a
        let solverA = try BDFSolver(system: system, options: options)
        options.linearSolver = b
        let solverB = try BDFSolver(system: system, options: options)
        let ya = try solverA.solve(from: 0, initialState: y0, outputTimes: [tEnd]).finalState
        let yb = try solverB.solve(from: 0, initialState: y0, outputTimes: [tEnd]).finalState
        return (ya, yb, solverA, solverB)
    }

    static func expectClose(_ a: [Double], _ b: [Double], relative: Double) {
        let scale = b.map(abs).max() ?? 0
        for (i, (x, y)) in zip(a, b).enumerated() {
            #expect(abs(x - y) <= relative * max(abs(y), 1e-6 * scale), "y[\(i)]: \(x) vs \(y)")
        }
    }

    /// ROBER and POLLU (no pattern: the sparse LU gets every entry, the Jacobian is gathered
    /// from the dense one) to their reference end times.
    @Test func robertsonAndPollutionAgreeWithDense() throws {
        let rober = Robertson(endTime: 1e5)
        let r = try Self.endStates(rober, rober.initialState, to: rober.endTime, .sparse, .dense)
        #expect(r.solverA.usesSparseLinearSolver)
        #expect(!r.solverB.usesSparseLinearSolver)
        Self.expectClose(r.a, r.b, relative: 1e-6)
        let s = r.solverA.statistics
        #expect(s.sparseFactorizations >= 1)
        #expect(s.sparseFactorizations + s.sparseRefactorizations == s.luFactorizations)
        #expect(r.solverB.statistics.sparseFactorizations == 0)
        Self.expectClose(r.a, rober.referenceSolution, relative: 1e-5)

        let pollu = Pollution()
        let p = try Self.endStates(pollu, pollu.initialState, to: pollu.endTime, .sparse, .dense)
        #expect(p.solverA.usesSparseLinearSolver)
        Self.expectClose(p.a, p.b, relative: 1e-6)
    }

    /// A system with a pattern of 3n of n² entries: above 80 unknowns `.automatic` picks the sparse
    /// LU, below it the dense; the Jacobian written straight into compressed columns and the one
    /// gathered from the dense evaluation give the dense LU's end state.
    @Test func stiffChainSparseMatchesDenseAndIsChosenAutomatically() throws {
        for sparse in [true, false] {
            let chain = StiffChain(dimension: 200, sparse: sparse)
            let r = try Self.endStates(chain, chain.initialState, to: 5, .automatic, .lapack)
            #expect(r.solverA.usesSparseLinearSolver)
            #expect(r.solverA.sparseNonzeros?.matrix == 3 * 200 - 2)
            #expect(r.solverA.statistics.sparseRefactorizations > 0)
            Self.expectClose(r.a, r.b, relative: 1e-6)
        }
        let small = try BDFSolver(system: StiffChain(dimension: 80, sparse: true))
        #expect(!small.usesSparseLinearSolver)
        let noPattern = try BDFSolver(system: Robertson())
        #expect(!noPattern.usesSparseLinearSolver)
    }

    /// A reused workspace gives every solve the result of a fresh one, bit for bit, whatever it
    /// solved before: each run factorises with its own pivot search (`sparseFactorizations` 1),
    /// as a sweep's identical output for any number of jobs needs.
    @Test func reusedWorkspaceRepeatsAFreshSolveExactly() throws {
        let chain = StiffChain(dimension: 120, sparse: true)
        var options = BDFOptions(relativeTolerance: 1e-6, absoluteTolerance: 1e-10)
        options.linearSolver = .sparse
        let fresh = try BDFSolver(system: chain, options: options)
        let expected = try fresh.solve(from: 0, initialState: chain.initialState, outputTimes: [2]).finalState
        let reused = try BDFSolver(system: chain, options: options)
        let other = (0..<120).map { Double($0 % 7) * 0.1 }
        _ = try reused.solve(from: 0, initialState: other, outputTimes: [5])
        let again = try reused.solve(from: 0, initialState: chain.initialState, outputTimes: [2]).finalState
        #expect(again == expected)
        #expect(reused.statistics.sparseFactorizations == 1)
        #expect(reused.statistics == fresh.statistics)
    }

    /// A random pattern of 3 % density fills in almost completely (no ordering helps a random
    /// graph): the automatic choice sees it in the ordering's flop estimate and stays dense;
    /// `.sparse` still takes KLU when asked.
    @Test func automaticChoiceWeighsThePredictedFill() throws {
        let n = 400
        let entries = randomSparse(n: n, density: 0.03, diagonal: 1, seed: 11)
        let system = LinearSparseSystem(dimension: n, entries: entries)
        let automatic = try BDFSolver(system: system)
        #expect(!automatic.usesSparseLinearSolver)
        let probe = SparseLU(dimension: n, pattern: entries.map { ($0.row, $0.column) })
        #expect(probe.structure.density <= BDFOptions.LinearSolver.sparseDensityLimit)
        #expect(!BDFOptions.LinearSolver.sparseIsCheaper(dimension: n, estimatedFlops: probe.estimatedFlops))
        var options = BDFOptions()
        options.linearSolver = .sparse
        #expect(try BDFSolver(system: system, options: options).usesSparseLinearSolver)
    }
}

/// dy/dt = A y for a sparse A given as (row, column, value) triples, with its pattern.
struct LinearSparseSystem: ODESystem {
    let dimension: Int
    let entries: [(row: Int, column: Int, value: Double)]
    var providesJacobian: Bool { true }
    func rhs(t: Double, y: UnsafePointer<Double>, dydt: UnsafeMutablePointer<Double>) {
        for i in 0..<dimension { dydt[i] = 0 }
        for e in entries { dydt[e.row] += e.value * y[e.column] }
    }
    func jacobian(
        t: Double, y: UnsafePointer<Double>, dydt: UnsafePointer<Double>, jacobian: UnsafeMutablePointer<Double>
    ) {
        for e in entries { jacobian[e.row + e.column * dimension] += e.value }
    }
    var jacobianPattern: [(row: Int, column: Int)]? { entries.map { ($0.row, $0.column) } }
}
