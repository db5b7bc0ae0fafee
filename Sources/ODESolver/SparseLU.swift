import CKLU

/// LU factorisation and solves of a sparse n×n matrix whose pattern is fixed when it is created,
/// held in compressed-column form (CSC), by SuiteSparse KLU (Davis & Palamadai Natarajan 2010),
/// the sparse direct solver CVODE and AMICI use for large Newton matrices.
///
/// Why KLU and this split of the work: a reaction network's Newton matrix M = I − γJ keeps its
/// pattern for the whole run, only its values change. So the fill-reducing ordering (block
/// triangular form, then AMD on each block) is computed once (`klu_analyze`, in `init`); the first
/// numeric factorisation chooses pivots (`klu_factor`); later ones reuse those pivots
/// (`klu_refactor`, no allocation, no search), and go back to `klu_factor` only when the pivots have
/// gone bad (the reciprocal condition estimate of U's diagonal below u^(2/3), as SUNDIALS'
/// `SUNLinSol_KLU` does). Every buffer is allocated in `init` (KLU's own in the first `klu_factor`),
/// so factorising and solving again allocate nothing.
public final class SparseLU {
    /// The structure of a CSC matrix made from a list of (row, column) pairs plus the diagonal.
    public struct Structure: Sendable {
        public let dimension: Int
        /// Start of column j's entries in `rows` (n + 1 values; the last is the nonzero count).
        public let columnStart: [Int32]
        /// Row of each entry, increasing within a column, without repeats.
        public let rows: [Int32]
        /// Where in the value array the diagonal entry of each column lives.
        public let diagonal: [Int]
        /// Where in the value array entry p of the pattern it was made from lives (repeated
        /// pairs share a position), so a system can add ∂f_i/∂y_j straight into the values.
        public let entryPositions: [Int]

        public var nonzeroCount: Int { rows.count }
        /// Nonzeros over n².
        public var density: Double { dimension == 0 ? 1 : Double(rows.count) / Double(dimension * dimension) }

        /// The pattern's pairs (out-of-range pairs are ignored, and get position 0: a system never
        /// writes them) and the whole diagonal, which M = I − γJ always has.
        public init(dimension n: Int, pattern: [(row: Int, column: Int)]) {
            dimension = n
            var perColumn = [[Int32]](repeating: [], count: n)
            for j in 0..<n { perColumn[j].append(Int32(j)) }
            for (i, j) in pattern where i >= 0 && i < n && j >= 0 && j < n { perColumn[j].append(Int32(i)) }
            var start: [Int32] = [0]
            start.reserveCapacity(n + 1)
            var rows: [Int32] = []
            for j in 0..<n {
                let sorted = perColumn[j].sorted()
                var last: Int32 = -1
                for i in sorted where i != last {
                    rows.append(i)
                    last = i
                }
                start.append(Int32(rows.count))
            }
            func position(_ i: Int, _ j: Int) -> Int {
                var lo = Int(start[j])
                var hi = Int(start[j + 1])
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if rows[mid] < Int32(i) { lo = mid + 1 } else { hi = mid }
                }
                return lo
            }
            columnStart = start
            self.rows = rows
            diagonal = (0..<n).map { position($0, $0) }
            entryPositions = pattern.map { (i, j) in
                i >= 0 && i < n && j >= 0 && j < n ? position(i, j) : 0
            }
        }
    }

    public let structure: Structure
    public var dimension: Int { structure.dimension }
    public var nonzeroCount: Int { structure.nonzeroCount }
    /// The matrix to factorise, in the order of `structure` (the caller writes it).
    public let values: UnsafeMutablePointer<Double>
    private let columnStart: UnsafeMutablePointer<Int32>
    private let rows: UnsafeMutablePointer<Int32>
    private let diagonal: UnsafeMutablePointer<Int>
    private let common: UnsafeMutablePointer<klu_common>
    private var symbolic: UnsafeMutablePointer<klu_symbolic>?
    private var numeric: UnsafeMutablePointer<klu_numeric>? = nil

    /// Full numeric factorisations with pivot search (`klu_factor`) since creation.
    public private(set) var factorizations = 0
    /// Factorisations that reused the pivots of the last full one (`klu_refactor`).
    public private(set) var refactorizations = 0

    /// Below this estimate of 1/cond(U) after `klu_refactor`, the old pivots are abandoned and
    /// the matrix factorised afresh (SUNDIALS' `SUNLinSol_KLU` threshold, u^(2/3)).
    static let refactorConditionLimit = pow(Double.ulpOfOne, 2.0 / 3.0)

    public init(structure: Structure) {
        precondition(structure.dimension > 0)
        self.structure = structure
        let nnz = structure.nonzeroCount
        values = .allocate(capacity: nnz)
        values.initialize(repeating: 0, count: nnz)
        columnStart = .allocate(capacity: structure.dimension + 1)
        columnStart.initialize(from: structure.columnStart, count: structure.dimension + 1)
        rows = .allocate(capacity: nnz)
        rows.initialize(from: structure.rows, count: nnz)
        diagonal = .allocate(capacity: structure.dimension)
        diagonal.initialize(from: structure.diagonal, count: structure.dimension)
        common = .allocate(capacity: 1)
        common.initialize(to: klu_common())
        klu_defaults(common)
        symbolic = klu_analyze(Int32(structure.dimension), columnStart, rows, common)
        precondition(symbolic != nil, "klu_analyze failed (status \(common.pointee.status))")
    }

    public convenience init(dimension: Int, pattern: [(row: Int, column: Int)]) {
        self.init(structure: Structure(dimension: dimension, pattern: pattern))
    }

    deinit {
        if numeric != nil { klu_free_numeric(&numeric, common) }
        if symbolic != nil { klu_free_symbolic(&symbolic, common) }
        values.deallocate()
        columnStart.deallocate()
        rows.deallocate()
        diagonal.deallocate()
        common.deallocate()
    }

    /// Nonzeros of the factors L + U of the last factorisation (diagonal of U and off-diagonal
    /// blocks included): over `nonzeroCount`, the fill-in. 0 before the first factorisation.
    public var factorNonzeros: Int {
        guard let numeric else { return 0 }
        return Int(numeric.pointee.lnz) + Int(numeric.pointee.unz) + Int(numeric.pointee.nzoff)
    }

    /// Floating-point operations of one factorisation as estimated by the ordering, before any
    /// numeric work (AMD's count for its fill, `est_flops` of `klu_analyze`; pivoting may add a
    /// little). What the automatic choice weighs against a dense LU's 2n³/3.
    public var estimatedFlops: Double { symbolic?.pointee.est_flops ?? 0 }

    /// Floating-point operations of the last numeric factorisation (`klu_flops`): what a
    /// refactorisation costs, against 2n³/3 for a dense LU. 0 before the first factorisation.
    public var flops: Double {
        guard numeric != nil else { return 0 }
        klu_flops(symbolic, numeric, common)
        return common.pointee.flops
    }

    /// Writes `values` = I − γ·`jacobian` (`jacobian` in this structure's order) and factorises.
    /// Returns `false` when the matrix is singular.
    public func factorize(identityMinus gamma: Double, times jacobian: UnsafePointer<Double>) -> Bool {
        let nnz = nonzeroCount
        for k in 0..<nnz { values[k] = -gamma * jacobian[k] }
        for j in 0..<dimension { values[diagonal[j]] += 1 }
        return factorize()
    }

    /// Factorises `values`. Returns `false` when the matrix is singular (`solve` must then not be
    /// called until a factorisation succeeds).
    public func factorize() -> Bool {
        if numeric != nil {
            if klu_refactor(columnStart, rows, values, symbolic, numeric, common) == 1 {
                refactorizations += 1
                if klu_rcond(symbolic, numeric, common) == 1
                    && common.pointee.rcond >= SparseLU.refactorConditionLimit
                {
                    return true
                }
            }
            // Bad or stale pivots: factorise from scratch with a new pivot search.
            klu_free_numeric(&numeric, common)
        }
        numeric = klu_factor(columnStart, rows, values, symbolic, common)
        factorizations += 1
        return numeric != nil
    }

    /// Forgets the pivots, so that the next `factorize()` searches afresh (`klu_factor`): what a
    /// solver does at a restart (CVODE's KLU module does it at every re-initialisation), so that a
    /// solve's result does not depend on the solves before it in the same workspace (a sweep's
    /// output is the same for any number of jobs).
    public func discardFactorization() {
        if numeric != nil { klu_free_numeric(&numeric, common) }
    }

    /// Overwrites `b` with the solution x of A x = b, using the last factorisation.
    @inline(__always)
    public func solve(_ b: UnsafeMutablePointer<Double>) {
        _ = klu_solve(symbolic, numeric, Int32(dimension), 1, b, common)
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
