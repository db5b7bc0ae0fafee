/// Incomplete LU factorisation without fill, ILU(0), of a sparse n×n matrix on a fixed pattern in
/// compressed columns (the `SparseLU.Structure` of the Newton matrix): the preconditioner of the
/// Krylov path (`BDFOptions.LinearSolver.krylov`).
///
/// Why ILU(0): the factors keep exactly M's pattern, so a set-up costs about the nonzeros of M
/// times the entries per column, not the fill a complete LU pays (KLU's factors of fceri_gamma2's M
/// hold 34× its nonzeros), and the factors live in one preallocated array of M's size. It is the
/// incomplete LU of the published CVODE + GMRES figures for BCR and fceri_gamma2 (Loman et al.
/// 2023), without their drop tolerance. No pivoting: M = I − γJ of a reaction network has a
/// dominant diagonal for the step sizes Newton converges at; a zero pivot makes the set-up fail,
/// and the solver then treats it as a singular Newton matrix.
///
/// Left-looking, column by column: column j of A is scattered into the pattern, updated by each
/// earlier column k < j of L whose U(k, j) is in the pattern (entries outside the pattern dropped),
/// and split into U(·, j) and L(·, j) = w / U(j, j). Which updates land in the pattern depends on
/// the pattern only, so `init` lists them once (the symbolic phase: for each U(k, j), the pairs of
/// an L(i, k) and the entry (i, j) it updates) and a factorisation is one pass over that list, not
/// a search of every column k for rows in column j's pattern. Every buffer is allocated in `init`.
public final class IncompleteLU {
    public let structure: SparseLU.Structure
    public var dimension: Int { structure.dimension }
    /// L (unit diagonal, not stored) below and U on and above the diagonal, in `structure`'s order.
    public let factors: UnsafeMutablePointer<Double>
    private let columnStart: UnsafeMutablePointer<Int>
    private let rows: UnsafeMutablePointer<Int>
    private let diagonal: UnsafeMutablePointer<Int>
    /// The updates of entry e = U(k, j) (k < j): `updateSource[u]`, `updateTarget[u]` for u in
    /// `updateStart[e] ..< updateStart[e + 1]` mean factors[target] −= factors[source] · U(k, j).
    private let updateStart: UnsafeMutablePointer<Int>
    private let updateSource: UnsafeMutablePointer<Int32>
    private let updateTarget: UnsafeMutablePointer<Int32>
    /// Updates per factorisation (the flops are twice this plus the divisions).
    public let updateCount: Int

    public init(structure: SparseLU.Structure) {
        self.structure = structure
        let n = structure.dimension
        let nnz = structure.nonzeroCount
        factors = .allocate(capacity: max(nnz, 1))
        factors.initialize(repeating: 0, count: max(nnz, 1))
        columnStart = .allocate(capacity: n + 1)
        for j in 0...n { columnStart[j] = Int(structure.columnStart[j]) }
        rows = .allocate(capacity: max(nnz, 1))
        for e in 0..<nnz { rows[e] = Int(structure.rows[e]) }
        diagonal = .allocate(capacity: max(n, 1))
        for j in 0..<n { diagonal[j] = structure.diagonal[j] }
        // Symbolic phase: where row i of column j lives (−1: not in the pattern), column by column.
        var slot = [Int](repeating: -1, count: n)
        var start = [Int](repeating: 0, count: nnz + 1)
        var sources: [Int32] = []
        var targets: [Int32] = []
        for j in 0..<n {
            let (first, end) = (columnStart[j], columnStart[j + 1])
            for e in first..<end { slot[rows[e]] = e }
            for e in first..<end {
                start[e] = sources.count
                let k = rows[e]
                if k < j {
                    for p in (diagonal[k] + 1)..<columnStart[k + 1] where slot[rows[p]] >= 0 {
                        sources.append(Int32(p))
                        targets.append(Int32(slot[rows[p]]))
                    }
                }
            }
            for e in first..<end { slot[rows[e]] = -1 }
        }
        start[nnz] = sources.count
        updateCount = sources.count
        updateStart = .allocate(capacity: nnz + 1)
        updateStart.initialize(from: start, count: nnz + 1)
        updateSource = .allocate(capacity: max(sources.count, 1))
        updateSource.initialize(from: sources, count: sources.count)
        updateTarget = .allocate(capacity: max(targets.count, 1))
        updateTarget.initialize(from: targets, count: targets.count)
    }

    deinit {
        factors.deallocate()
        columnStart.deallocate()
        rows.deallocate()
        diagonal.deallocate()
        updateStart.deallocate()
        updateSource.deallocate()
        updateTarget.deallocate()
    }

    /// Factorises I − γ·`jacobian` (`jacobian` in `structure`'s order) incompletely. Returns `false`
    /// when a pivot is zero or not finite (`solve` must then not be called).
    public func factorize(identityMinus gamma: Double, times jacobian: UnsafePointer<Double>) -> Bool {
        let nnz = structure.nonzeroCount
        for e in 0..<nnz { factors[e] = -gamma * jacobian[e] }
        for j in 0..<dimension { factors[diagonal[j]] += 1 }
        return factorize()
    }

    /// Factorises the matrix held in `factors` in place.
    public func factorize() -> Bool {
        for j in 0..<dimension {
            let end = columnStart[j &+ 1]
            // Entries above the diagonal, in increasing row order: each U(k, j) is final when reached.
            for e in columnStart[j]..<diagonal[j] {
                let ukj = factors[e]
                if ukj == 0 { continue }
                for u in updateStart[e]..<updateStart[e &+ 1] {
                    factors[Int(updateTarget[u])] -= factors[Int(updateSource[u])] * ukj
                }
            }
            let pivot = factors[diagonal[j]]
            guard pivot != 0, pivot.isFinite else { return false }
            let inverse = 1 / pivot
            for p in (diagonal[j] &+ 1)..<end { factors[p] *= inverse }
        }
        return true
    }

    /// Overwrites `b` with (LU)⁻¹ b: forward substitution with the unit lower L, then backward
    /// with U, both by columns.
    @inline(__always)
    public func solve(_ b: UnsafeMutablePointer<Double>) {
        let n = dimension
        for j in 0..<n {
            let x = b[j]
            if x != 0 { for p in (diagonal[j] &+ 1)..<columnStart[j &+ 1] { b[rows[p]] -= factors[p] * x } }
        }
        var j = n &- 1
        while j >= 0 {
            let x = b[j] / factors[diagonal[j]]
            b[j] = x
            if x != 0 { for p in columnStart[j]..<diagonal[j] { b[rows[p]] -= factors[p] * x } }
            j &-= 1
        }
    }
}

/// Restarted GMRES with left preconditioning and modified Gram–Schmidt, as SUNDIALS'
/// `SUNLinSol_SPGMR` runs it under CVODE: solves A x = b from x = 0 until the scaled preconditioned
/// residual ‖W P⁻¹(b − A x)‖₂ ≤ `tolerance`, with W the solver's error weights (so the test is the
/// weighted RMS norm the Newton test uses, times √n), at most `maxDimension` Arnoldi vectors per
/// cycle and `maxRestarts` restarts.
///
/// The basis (maxl + 1 vectors of n), the Hessenberg matrix, the Givens rotations and a work vector
/// are allocated in `init`; a solve allocates nothing (A and P⁻¹ come as non-escaping closures).
public final class GMRES {
    public enum Outcome: Equatable {
        /// The residual test passed.
        case converged
        /// Not converged, but the residual is smaller than at x = 0 (SPGMR's `SUNLS_RES_REDUCED`).
        case residualReduced
        /// Not converged, residual not reduced.
        case notConverged
        /// The Hessenberg matrix became singular (SPGMR's `SUNLS_QRFACT_FAIL`).
        case breakdown
    }

    public let dimension: Int
    /// Largest Krylov dimension per cycle (SPGMR's `maxl`).
    public let maxDimension: Int
    /// Restarts after the first cycle (SPGMR's `max_restarts`).
    public let maxRestarts: Int
    /// maxl + 1 basis vectors of n, vector i at `basis + i·n`.
    let basis: UnsafeMutablePointer<Double>
    /// Hessenberg matrix, (maxl + 1) × maxl column-major, holding R of its QR factorisation.
    let hessenberg: UnsafeMutablePointer<Double>
    /// Cosines and sines of the Givens rotations of the QR factorisation.
    let rotations: UnsafeMutablePointer<Double>
    /// The rotated right-hand side β e₁, then the coefficients y of the update.
    let projection: UnsafeMutablePointer<Double>
    /// The iterate x.
    let work: UnsafeMutablePointer<Double>
    /// W⁻¹ V_k, the basis vector scaled back to y-space before it is multiplied by A.
    let product: UnsafeMutablePointer<Double>

    /// Arnoldi iterations of the last solve (CVODE's `nli` increment).
    public private(set) var iterations = 0
    /// Scaled residual norm at the end of the last solve.
    public private(set) var residualNorm = 0.0

    public init(dimension n: Int, maxDimension maxl: Int = 5, maxRestarts: Int = 0) {
        precondition(n > 0 && maxl > 0 && maxRestarts >= 0)
        dimension = n
        maxDimension = maxl
        self.maxRestarts = maxRestarts
        func vector(_ count: Int) -> UnsafeMutablePointer<Double> {
            let p = UnsafeMutablePointer<Double>.allocate(capacity: count)
            p.initialize(repeating: 0, count: count)
            return p
        }
        basis = vector((maxl + 1) * n)
        hessenberg = vector((maxl + 1) * maxl)
        rotations = vector(2 * maxl)
        projection = vector(maxl + 1)
        work = vector(n)
        product = vector(n)
    }

    deinit {
        for p in [basis, hessenberg, rotations, projection, work, product] { p.deallocate() }
    }

    /// Overwrites `b` with the approximate solution x of A x = b (P⁻¹ b when that already passes the
    /// test; the last iterate when not converged but reduced; 0 when not reduced). `multiply(v, z)` writes
    /// z = A v; `precondition(v)` overwrites v with P⁻¹ v.
    public func solve(
        _ b: UnsafeMutablePointer<Double>, weights: UnsafePointer<Double>, tolerance: Double,
        multiply: (UnsafePointer<Double>, UnsafeMutablePointer<Double>) -> Void,
        precondition: (UnsafeMutablePointer<Double>) -> Void
    ) -> Outcome {
        let n = dimension
        let maxl = maxDimension
        let rows = maxl &+ 1
        iterations = 0
        // x accumulates in `work`; b is kept until the end for the restarts' residuals.
        let x = work
        x.update(repeating: 0, count: n)
        var initialNorm = 0.0
        var rho = 0.0
        var converged = false
        var cycle = 0
        while true {
            // V₀ = W P⁻¹ (b − A x).
            let v0 = basis
            if cycle == 0 {
                v0.update(from: b, count: n)
            } else {
                multiply(x, v0)
                for i in 0..<n { v0[i] = b[i] - v0[i] }
            }
            precondition(v0)
            for i in 0..<n { v0[i] *= weights[i] }
            let beta = norm(v0)
            if cycle == 0 {
                initialNorm = beta
                if beta <= tolerance {
                    // No iteration needed: the answer is the preconditioned residual P⁻¹ b itself
                    // (CVODE copies SPGMR's unscaled `vtemp` when it took no iteration).
                    residualNorm = beta
                    for i in 0..<n { b[i] = v0[i] / weights[i] }
                    return .converged
                }
            }
            if beta == 0 {
                converged = true
                break
            }
            for i in 0..<n { v0[i] /= beta }
            projection.update(repeating: 0, count: rows)
            projection[0] = beta
            rho = beta
            var k = 0
            while k < maxl {
                iterations &+= 1
                let vk = basis + k &* n
                let next = basis + (k &+ 1) &* n
                // V_{k+1} = W P⁻¹ A W⁻¹ V_k: scaled back to y-space, multiplied, preconditioned.
                for i in 0..<n { product[i] = vk[i] / weights[i] }
                multiply(product, next)
                precondition(next)
                for i in 0..<n { next[i] *= weights[i] }
                let column = hessenberg + k &* rows
                let subdiagonal = orthogonalize(next, against: k &+ 1, into: column)
                column[k &+ 1] = subdiagonal
                guard givensUpdate(column: k) else {
                    residualNorm = rho
                    b.update(repeating: 0, count: n)
                    return .breakdown
                }
                rho = abs(projection[k &+ 1])
                k &+= 1
                if rho <= tolerance {
                    converged = true
                    break
                }
                if subdiagonal == 0 { break }
                for i in 0..<n { next[i] /= subdiagonal }
            }
            // y from R y = g (k × k upper triangular), then x += W⁻¹ V y.
            var i = k &- 1
            while i >= 0 {
                var s = projection[i]
                for j in (i &+ 1)..<k { s -= hessenberg[i &+ j &* rows] * projection[j] }
                projection[i] = s / hessenberg[i &+ i &* rows]
                i &-= 1
            }
            for j in 0..<k {
                let vj = basis + j &* n
                let yj = projection[j]
                for i in 0..<n { x[i] += yj * vj[i] / weights[i] }
            }
            if converged || cycle >= maxRestarts { break }
            cycle &+= 1
        }
        residualNorm = rho
        if converged {
            b.update(from: x, count: n)
            return .converged
        }
        if rho < initialNorm {
            b.update(from: x, count: n)
            return .residualReduced
        }
        b.update(repeating: 0, count: n)
        return .notConverged
    }

    @inline(__always)
    private func norm(_ v: UnsafePointer<Double>) -> Double {
        var sum = 0.0
        for i in 0..<dimension { sum += v[i] * v[i] }
        return sum.squareRoot()
    }

    @inline(__always)
    private func dot(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>) -> Double {
        var sum = 0.0
        for i in 0..<dimension { sum += a[i] * b[i] }
        return sum
    }

    /// Modified Gram–Schmidt of `v` against the first `count` basis vectors, coefficients into
    /// `column`; returns the norm of what is left. Reorthogonalises once when the norm dropped by
    /// more than a factor 1000 (SUNDIALS' `SUNModifiedGS`: cancellation left mostly round-off).
    @inline(__always)
    private func orthogonalize(
        _ v: UnsafeMutablePointer<Double>, against count: Int, into column: UnsafeMutablePointer<Double>
    ) -> Double {
        let n = dimension
        let before = norm(v)
        for i in 0..<count {
            let vi = basis + i &* n
            let c = dot(vi, v)
            column[i] = c
            for r in 0..<n { v[r] -= c * vi[r] }
        }
        var after = norm(v)
        if before + 1000 * after != before { return after }
        for i in 0..<count {
            let vi = basis + i &* n
            let c = dot(vi, v)
            if c == 0 { continue }
            column[i] += c
            for r in 0..<n { v[r] -= c * vi[r] }
        }
        after = norm(v)
        return after
    }

    /// Applies the earlier Givens rotations to Hessenberg column k, computes the one that zeroes
    /// its subdiagonal, and rotates the projected right-hand side. False when R is singular.
    @inline(__always)
    private func givensUpdate(column k: Int) -> Bool {
        let column = hessenberg + k &* (maxDimension &+ 1)
        for i in 0..<k {
            let c = rotations[2 &* i]
            let s = rotations[2 &* i &+ 1]
            let a = column[i]
            let b = column[i &+ 1]
            column[i] = c * a - s * b
            column[i &+ 1] = s * a + c * b
        }
        let a = column[k]
        let b = column[k &+ 1]
        let c: Double
        let s: Double
        if b == 0 {
            c = 1
            s = 0
        } else if abs(b) > abs(a) {
            let t = a / b
            s = -1 / (1 + t * t).squareRoot()
            c = -s * t
        } else {
            let t = b / a
            c = 1 / (1 + t * t).squareRoot()
            s = -c * t
        }
        rotations[2 &* k] = c
        rotations[2 &* k &+ 1] = s
        column[k] = c * a - s * b
        column[k &+ 1] = 0
        let g = projection[k]
        projection[k] = c * g
        projection[k &+ 1] = s * g
        return column[k] != 0
    }
}
