import CLAPACK
import Glibc

/// LU factorisation with partial pivoting, P·A = L·U, and solves of a dense n×n column-major
/// matrix, for the Newton matrix M = I − γJ. Owns its buffers; the matrix is factorised in place.
///
/// Two back-ends compute the same factorisation (same pivoting rule, same elimination order):
/// - `.lapack`: LAPACK's Fortran `dgetrf`/`dgetrs` from OpenBLAS, called directly (LAPACKE's
///   row-major entry points would transpose into a scratch copy and scan for NaNs on every call).
/// - `.native`: the same right-looking elimination in Swift, skipping zero multipliers, which
///   Jacobians of reaction networks are full of. At the sizes of signalling models the LAPACK
///   call overhead (argument checks, buffer allocation under a lock, one BLAS-1 call per column)
///   costs more than the arithmetic: see `BDFOptions.LinearSolver` for the measured crossover.
public final class DenseLU {
    public enum Backend: Sendable, Equatable { case lapack, native }

    public let dimension: Int
    public let backend: Backend
    /// The matrix to factorise (column-major, leading dimension n). LAPACK overwrites it with the
    /// factors; the native back-end leaves it and factorises a (reordered) copy.
    public let matrix: UnsafeMutablePointer<Double>

    /// The factors L (unit lower, below the diagonal) and U of the last `factorize()`, in the
    /// native back-end's symmetric order when it uses one.
    public var factorization: UnsafePointer<Double> { UnsafePointer(factors) }
    /// Row interchanges, 1-based as LAPACK's `ipiv`: row k was swapped with row pivots[k].
    private let pivots: UnsafeMutablePointer<Int32>

    // The native back-end keeps the nonzeros of L and U column by column after factorising
    // (compressed sparse columns): a Newton matrix is factorised once and solved with about ten
    // times, and reaction-network Jacobians are mostly zeros, so solves touch only nonzeros.
    /// Start of column k's strictly-lower entries of L in `lowerRows`/`lowerValues`; n+1 entries.
    private let lowerStart: UnsafeMutablePointer<Int>
    private let lowerRows: UnsafeMutablePointer<Int>
    private let lowerValues: UnsafeMutablePointer<Double>
    /// Start of row k's strictly-upper entries of U (their column indices in `upperRows`); n+1 entries.
    private let upperStart: UnsafeMutablePointer<Int>
    private let upperRows: UnsafeMutablePointer<Int>
    private let upperValues: UnsafeMutablePointer<Double>
    /// U's diagonal.
    private let diagonal: UnsafeMutablePointer<Double>
    /// Scratch: rows with a nonzero multiplier in the current column.
    private let nonzeroRows: UnsafeMutablePointer<Int>
    /// Native back-end only: a symmetric permutation P applied before factorising (P·A·Pᵀ = LU),
    /// chosen to reduce fill-in; `order[k]` is the original index of position k. The factors
    /// live in `factors`, and `matrix` keeps the caller's order.
    private var order: UnsafeMutablePointer<Int>? = nil
    private let factors: UnsafeMutablePointer<Double>
    private let permuted: UnsafeMutablePointer<Double>

    public init(dimension: Int, backend: Backend = .lapack) {
        precondition(dimension > 0)
        LinearAlgebra.configure()
        self.dimension = dimension
        self.backend = backend
        matrix = .allocate(capacity: dimension * dimension)
        matrix.initialize(repeating: 0, count: dimension * dimension)
        pivots = .allocate(capacity: dimension)
        pivots.initialize(repeating: 0, count: dimension)
        let triangle = backend == .native ? dimension * (dimension - 1) / 2 : 0
        lowerStart = .allocate(capacity: dimension + 1)
        upperStart = .allocate(capacity: dimension + 1)
        lowerRows = .allocate(capacity: triangle)
        upperRows = .allocate(capacity: triangle)
        lowerValues = .allocate(capacity: triangle)
        upperValues = .allocate(capacity: triangle)
        diagonal = .allocate(capacity: dimension)
        nonzeroRows = .allocate(capacity: dimension)
        factors = backend == .native ? .allocate(capacity: dimension * dimension) : matrix
        permuted = .allocate(capacity: dimension)
    }

    /// Uses a fill-reducing symmetric ordering for the native back-end: the minimum-degree order
    /// of the graph of `pattern` (row, column pairs of possible nonzeros). LAPACK ignores it.
    public func useOrdering(forPattern pattern: [(row: Int, column: Int)]) {
        guard backend == .native else { return }
        let ordering = DenseLU.minimumDegreeOrder(dimension: dimension, pattern: pattern)
        if order == nil { order = .allocate(capacity: dimension) }
        for k in 0..<dimension { order![k] = ordering[k] }
    }

    /// Greedy minimum degree on the symmetrised graph: eliminate the vertex of fewest neighbours
    /// (lowest index on ties), then join its neighbours into a clique; repeat.
    static func minimumDegreeOrder(dimension n: Int, pattern: [(row: Int, column: Int)]) -> [Int] {
        var neighbours = [Set<Int>](repeating: [], count: n)
        for (i, j) in pattern where i != j && i < n && j < n {
            neighbours[i].insert(j)
            neighbours[j].insert(i)
        }
        var eliminated = [Bool](repeating: false, count: n)
        var result: [Int] = []
        for _ in 0..<n {
            var best = -1
            for v in 0..<n where !eliminated[v] && (best < 0 || neighbours[v].count < neighbours[best].count) {
                best = v
            }
            result.append(best)
            eliminated[best] = true
            let clique = Array(neighbours[best])
            for a in clique {
                neighbours[a].remove(best)
                for b in clique where b != a { neighbours[a].insert(b) }
            }
            neighbours[best] = []
        }
        return result
    }

    deinit {
        matrix.deallocate()
        pivots.deallocate()
        lowerStart.deallocate()
        upperStart.deallocate()
        lowerRows.deallocate()
        upperRows.deallocate()
        lowerValues.deallocate()
        upperValues.deallocate()
        diagonal.deallocate()
        nonzeroRows.deallocate()
        if backend == .native { factors.deallocate() }
        permuted.deallocate()
        order?.deallocate()
    }

    /// Factorises `matrix` in place. Returns `false` when U has an exact zero on its diagonal
    /// (the matrix is singular and `solve` must not be called).
    @inline(__always)
    public func factorize() -> Bool {
        switch backend {
        case .lapack:
            var n = Int32(dimension)
            var lda = Int32(dimension)
            var info: Int32 = 0
            dgetrf_(&n, &n, matrix, &lda, pivots, &info)
            return info == 0
        case .native:
            return factorizeNative()
        }
    }

    /// Forms A = I − γJ and factorises it, in one pass over J (in the native back-end's order).
    /// Returns `false` when A is singular.
    public func factorize(identityMinus gamma: Double, times jacobian: UnsafePointer<Double>) -> Bool {
        let n = dimension
        if backend == .native, let order {
            let a = factors
            for j in 0..<n {
                let source = jacobian + order[j] &* n
                let target = a + j &* n
                for i in 0..<n { target[i] = -gamma * source[order[i]] }
                target[j] += 1
            }
            return eliminateNative()
        }
        for k in 0..<(n * n) { matrix[k] = -gamma * jacobian[k] }
        for i in 0..<n { matrix[i * n + i] += 1 }
        return factorize()
    }

    /// Overwrites `b` with the solution x of A x = b, using the factors of the last `factorize()`.
    @inline(__always)
    public func solve(_ b: UnsafeMutablePointer<Double>) {
        switch backend {
        case .lapack:
            var trans = CChar(UInt8(ascii: "N"))
            var n = Int32(dimension)
            var nrhs: Int32 = 1
            var lda = Int32(dimension)
            var ldb = Int32(dimension)
            var info: Int32 = 0
            dgetrs_(&trans, &n, &nrhs, matrix, &lda, pivots, b, &ldb, &info, 1)
        case .native:
            solveNative(b)
        }
    }

    /// Right-looking Gaussian elimination with partial pivoting (LAPACK's `dgetf2` order), then
    /// the nonzeros of L and U gathered for `solveNative`.
    private func factorizeNative() -> Bool {
        let n = dimension
        let a = factors
        if let order {
            for j in 0..<n {
                let source = matrix + order[j] &* n
                let target = a + j &* n
                for i in 0..<n { target[i] = source[order[i]] }
            }
        } else {
            a.update(from: matrix, count: n * n)
        }
        return eliminateNative()
    }

    /// Eliminates `factors` in place, gathering L by columns and U by rows.
    private func eliminateNative() -> Bool {
        let n = dimension
        let a = factors
        var nonsingular = true
        var lowerCount = 0
        var upperCount = 0
        var k = 0
        while k < n {
            let columnK = a + k &* n
            var pivotRow = k
            var largest = abs(columnK[k])
            var i = k &+ 1
            while i < n {
                let v = abs(columnK[i])
                if v > largest {
                    largest = v
                    pivotRow = i
                }
                i &+= 1
            }
            pivots[k] = Int32(pivotRow &+ 1)
            if largest == 0 {
                nonsingular = false
                break
            }
            if pivotRow != k {
                var j = 0
                while j < n {
                    let column = a + j &* n
                    let t = column[k]
                    column[k] = column[pivotRow]
                    column[pivotRow] = t
                    j &+= 1
                }
                // The swap moves rows of L's earlier columns too: rename them in the lists.
                var e = 0
                while e < lowerCount {
                    if lowerRows[e] == k {
                        lowerRows[e] = pivotRow
                    } else if lowerRows[e] == pivotRow {
                        lowerRows[e] = k
                    }
                    e &+= 1
                }
            }
            // Multipliers, and the rows where they are nonzero: a reaction network's Newton
            // matrix has few per column, so the update below touches only those rows. They are
            // L's column k; row k of U is final now and is gathered in the same pass.
            diagonal[k] = columnK[k]
            let inverse = 1 / columnK[k]
            var nonzeroCount = 0
            lowerStart[k] = lowerCount
            i = k &+ 1
            while i < n {
                let l = columnK[i] * inverse
                columnK[i] = l
                if l != 0 {
                    nonzeroRows[nonzeroCount] = i
                    nonzeroCount &+= 1
                    lowerRows[lowerCount] = i
                    lowerValues[lowerCount] = l
                    lowerCount &+= 1
                }
                i &+= 1
            }
            upperStart[k] = upperCount
            var j = k &+ 1
            while j < n {
                let column = a + j &* n
                let ukj = column[k]
                if ukj != 0 {
                    upperRows[upperCount] = j
                    upperValues[upperCount] = ukj
                    upperCount &+= 1
                    var r = 0
                    while r < nonzeroCount {
                        let row = nonzeroRows[r]
                        column[row] -= columnK[row] * ukj
                        r &+= 1
                    }
                }
                j &+= 1
            }
            k &+= 1
        }
        lowerStart[n] = lowerCount
        upperStart[n] = upperCount
        return nonsingular
    }

    /// Row interchanges, then L y = P b (unit lower), then U x = y, column by column over the
    /// nonzeros only.
    private func solveNative(_ rhs: UnsafeMutablePointer<Double>) {
        let n = dimension
        // With an ordering, solve (P A Pᵀ)(P x) = P b in `permuted`.
        let b: UnsafeMutablePointer<Double>
        if let order {
            for k in 0..<n { permuted[k] = rhs[order[k]] }
            b = permuted
        } else {
            b = rhs
        }
        defer {
            if let order { for k in 0..<n { rhs[order[k]] = permuted[k] } }
        }
        var k = 0
        while k < n {
            let p = Int(pivots[k]) &- 1
            if p != k {
                let t = b[k]
                b[k] = b[p]
                b[p] = t
            }
            k &+= 1
        }
        k = 0
        while k < n {
            let bk = b[k]
            if bk != 0 {
                var e = lowerStart[k]
                let end = lowerStart[k &+ 1]
                while e < end {
                    b[lowerRows[e]] -= lowerValues[e] * bk
                    e &+= 1
                }
            }
            k &+= 1
        }
        k = n &- 1
        while k >= 0 {
            // Row k of U: x_k = (y_k − Σ_{j>k} u_kj x_j) / u_kk.
            var sum = b[k]
            var e = upperStart[k]
            let end = upperStart[k &+ 1]
            while e < end {
                sum -= upperValues[e] * b[upperRows[e]]
                e &+= 1
            }
            b[k] = sum / diagonal[k]
            k &-= 1
        }
    }
}

/// Process-wide set-up of the BLAS library.
public enum LinearAlgebra {
    /// Makes OpenBLAS single-threaded, once per process. Our matrices are small: OpenBLAS threads
    /// only add overhead (measured 16× slower at n = 100 with the other core busy), and
    /// parallelism belongs to sweeps, one simulation per core.
    ///
    /// The threads OpenBLAS started when it was loaded are stopped too: they spin in
    /// `sched_yield` for its thread timeout after start-up whatever the thread count, which cost
    /// a 1000-point POLLU sweep 0.11 s of CPU on the other core, and with `--jobs 2` 22 % of its
    /// wall time (0.214 → 0.167 s). `blas_thread_shutdown_` is looked up, not linked: OpenBLAS
    /// builds without threads (Debian's `libopenblas0-serial`) do not have it.
    public static func configure() { _ = configured }

    private static let configured: Bool = {
        openblas_set_num_threads(1)
        if let shutdown = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "blas_thread_shutdown_") {
            _ = unsafeBitCast(shutdown, to: (@convention(c) () -> Int32).self)()
        }
        return true
    }()
}
