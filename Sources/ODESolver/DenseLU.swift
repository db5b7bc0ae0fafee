import CLAPACK

/// LU factorisation and solves of a dense n×n column-major matrix by LAPACK's Fortran routines
/// `dgetrf`/`dgetrs`, called directly: LAPACKE's row-major entry points would transpose into a
/// scratch copy and scan for NaNs on every call, which costs more than the solve at our sizes.
///
/// Owns its buffers; the matrix is factorised in place.
public final class DenseLU {
    public let dimension: Int
    /// The matrix before `factorize()`, its LU factors after (column-major, leading dimension n).
    public let matrix: UnsafeMutablePointer<Double>
    private let pivots: UnsafeMutablePointer<Int32>

    public init(dimension: Int) {
        precondition(dimension > 0)
        LinearAlgebra.configure()
        self.dimension = dimension
        matrix = .allocate(capacity: dimension * dimension)
        matrix.initialize(repeating: 0, count: dimension * dimension)
        pivots = .allocate(capacity: dimension)
        pivots.initialize(repeating: 0, count: dimension)
    }

    deinit {
        matrix.deallocate()
        pivots.deallocate()
    }

    /// Factorises `matrix` = P·L·U in place. Returns `false` when U has an exact zero on its
    /// diagonal (the matrix is singular and `solve` must not be called).
    @inline(__always)
    public func factorize() -> Bool {
        var n = Int32(dimension), lda = Int32(dimension), info: Int32 = 0
        dgetrf_(&n, &n, matrix, &lda, pivots, &info)
        return info == 0
    }

    /// Overwrites `b` with the solution x of A x = b, using the factors of the last `factorize()`.
    @inline(__always)
    public func solve(_ b: UnsafeMutablePointer<Double>) {
        var trans = CChar(UInt8(ascii: "N")), n = Int32(dimension), nrhs: Int32 = 1
        var lda = Int32(dimension), ldb = Int32(dimension), info: Int32 = 0
        dgetrs_(&trans, &n, &nrhs, matrix, &lda, pivots, b, &ldb, &info, 1)
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
