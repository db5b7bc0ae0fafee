import CLAPACK

/// Eigenvalues of a dense real matrix by LAPACK's `dgeev` (no eigenvectors), for the stability of
/// steady states: a steady state is asymptotically stable when every eigenvalue of the (reduced)
/// Jacobian has a negative real part.
public enum Eigenvalues {
    /// The eigenvalues of the n×n column-major `matrix`, sorted by decreasing real part.
    /// Returns nil when LAPACK reports that the QR algorithm did not converge.
    public static func of(_ matrix: [Double], dimension n: Int) -> [(real: Double, imaginary: Double)]? {
        precondition(matrix.count == n * n)
        guard n > 0 else { return [] }
        LinearAlgebra.configure()
        var a = matrix
        var wr = [Double](repeating: 0, count: n)
        var wi = wr
        var jobvl = CChar(UInt8(ascii: "N"))
        var jobvr = CChar(UInt8(ascii: "N"))
        var size = Int32(n)
        var lda = Int32(n)
        var one: Int32 = 1
        var info: Int32 = 0
        var vl = [Double](repeating: 0, count: 1)
        var vr = vl
        // Workspace query, then the computation.
        var lwork: Int32 = -1
        var query = [Double](repeating: 0, count: 1)
        dgeev_(&jobvl, &jobvr, &size, &a, &lda, &wr, &wi, &vl, &one, &vr, &one, &query, &lwork, &info, 1, 1)
        lwork = Int32(max(query[0], Double(4 * n)))
        var work = [Double](repeating: 0, count: Int(lwork))
        dgeev_(&jobvl, &jobvr, &size, &a, &lda, &wr, &wi, &vl, &one, &vr, &one, &work, &lwork, &info, 1, 1)
        guard info == 0 else { return nil }
        return zip(wr, wi).map { ($0, $1) }.sorted { $0.0 > $1.0 }
    }
}
