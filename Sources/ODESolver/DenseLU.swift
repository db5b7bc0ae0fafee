import CLAPACK

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
    /// The matrix before `factorize()`, its LU factors after (column-major, leading dimension n).
    public let matrix: UnsafeMutablePointer<Double>
    /// Row interchanges, 1-based as LAPACK's `ipiv`: row k was swapped with row pivots[k].
    private let pivots: UnsafeMutablePointer<Int32>

    // The native back-end keeps the nonzeros of L and U column by column after factorising
    // (compressed sparse columns): a Newton matrix is factorised once and solved with about ten
    // times, and reaction-network Jacobians are mostly zeros, so solves touch only nonzeros.
    /// Start of column k's strictly-lower entries of L in `lowerRows`/`lowerValues`; n+1 entries.
    private let lowerStart: UnsafeMutablePointer<Int>
    private let lowerRows: UnsafeMutablePointer<Int>
    private let lowerValues: UnsafeMutablePointer<Double>
    /// Start of column k's strictly-upper entries of U; n+1 entries.
    private let upperStart: UnsafeMutablePointer<Int>
    private let upperRows: UnsafeMutablePointer<Int>
    private let upperValues: UnsafeMutablePointer<Double>
    /// U's diagonal.
    private let diagonal: UnsafeMutablePointer<Double>

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
    }

    deinit {
        matrix.deallocate()
        pivots.deallocate()
        lowerStart.deallocate(); upperStart.deallocate()
        lowerRows.deallocate(); upperRows.deallocate()
        lowerValues.deallocate(); upperValues.deallocate()
        diagonal.deallocate()
    }

    /// Factorises `matrix` in place. Returns `false` when U has an exact zero on its diagonal
    /// (the matrix is singular and `solve` must not be called).
    @inline(__always)
    public func factorize() -> Bool {
        switch backend {
        case .lapack:
            var n = Int32(dimension), lda = Int32(dimension), info: Int32 = 0
            dgetrf_(&n, &n, matrix, &lda, pivots, &info)
            return info == 0
        case .native:
            return factorizeNative()
        }
    }

    /// Overwrites `b` with the solution x of A x = b, using the factors of the last `factorize()`.
    @inline(__always)
    public func solve(_ b: UnsafeMutablePointer<Double>) {
        switch backend {
        case .lapack:
            var trans = CChar(UInt8(ascii: "N")), n = Int32(dimension), nrhs: Int32 = 1
            var lda = Int32(dimension), ldb = Int32(dimension), info: Int32 = 0
            dgetrs_(&trans, &n, &nrhs, matrix, &lda, pivots, b, &ldb, &info, 1)
        case .native:
            solveNative(b)
        }
    }

    /// Right-looking Gaussian elimination with partial pivoting (LAPACK's `dgetf2` order), then
    /// the nonzeros of L and U gathered for `solveNative`.
    private func factorizeNative() -> Bool {
        let n = dimension, a = matrix
        var nonsingular = true
        var k = 0
        while k < n {
            let columnK = a + k &* n
            var pivotRow = k
            var largest = abs(columnK[k])
            var i = k &+ 1
            while i < n {
                let v = abs(columnK[i])
                if v > largest { largest = v; pivotRow = i }
                i &+= 1
            }
            pivots[k] = Int32(pivotRow &+ 1)
            if largest == 0 {
                nonsingular = false
                k &+= 1
                continue
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
            }
            let inverse = 1 / columnK[k]
            i = k &+ 1
            while i < n { columnK[i] *= inverse; i &+= 1 }
            var j = k &+ 1
            while j < n {
                let column = a + j &* n
                let ukj = column[k]
                if ukj != 0 {
                    i = k &+ 1
                    while i < n { column[i] -= columnK[i] * ukj; i &+= 1 }
                }
                j &+= 1
            }
            k &+= 1
        }
        if nonsingular { compressFactors() }
        return nonsingular
    }

    /// Gathers the nonzeros of the strictly lower (L) and strictly upper (U) parts by column.
    private func compressFactors() {
        let n = dimension, a = matrix
        var lowerCount = 0, upperCount = 0
        var k = 0
        while k < n {
            let column = a + k &* n
            lowerStart[k] = lowerCount
            upperStart[k] = upperCount
            var i = 0
            while i < k {
                let v = column[i]
                if v != 0 { upperRows[upperCount] = i; upperValues[upperCount] = v; upperCount &+= 1 }
                i &+= 1
            }
            diagonal[k] = column[k]
            i = k &+ 1
            while i < n {
                let v = column[i]
                if v != 0 { lowerRows[lowerCount] = i; lowerValues[lowerCount] = v; lowerCount &+= 1 }
                i &+= 1
            }
            k &+= 1
        }
        lowerStart[n] = lowerCount
        upperStart[n] = upperCount
    }

    /// Row interchanges, then L y = P b (unit lower), then U x = y, column by column over the
    /// nonzeros only.
    private func solveNative(_ b: UnsafeMutablePointer<Double>) {
        let n = dimension
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
                while e < end { b[lowerRows[e]] -= lowerValues[e] * bk; e &+= 1 }
            }
            k &+= 1
        }
        k = n &- 1
        while k >= 0 {
            let bk = b[k] / diagonal[k]
            b[k] = bk
            if bk != 0 {
                var e = upperStart[k]
                let end = upperStart[k &+ 1]
                while e < end { b[upperRows[e]] -= upperValues[e] * bk; e &+= 1 }
            }
            k &-= 1
        }
    }
}

/// Process-wide set-up of the BLAS library.
public enum LinearAlgebra {
    /// Makes OpenBLAS single-threaded, once per process. Our matrices are small: OpenBLAS threads
    /// only add overhead (16× slower at n = 100 with a busy core, see swift-notes), and
    /// parallelism belongs to sweeps, one simulation per core.
    public static func configure() { _ = configured }

    private static let configured: Bool = {
        openblas_set_num_threads(1)
        return true
    }()
}
