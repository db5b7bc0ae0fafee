/// Compares a system's analytic Jacobian with central finite differences, entry by entry.
///
/// Use it whenever a Jacobian is written or generated: a wrong Jacobian does not make the BDF
/// solution wrong (Newton still converges on the residual) but it slows the solver or makes it
/// fail, so such bugs hide. An entry is flagged when
/// `|analytic − fd| > relativeTolerance · max(|analytic|, |fd|) + absoluteTolerance · rowScale`,
/// where rowScale is the largest |fd| in that row (so tiny entries beside large ones are judged
/// on the row's scale, as their effect on the Newton step is), plus the central difference's own
/// round-off, 4ε·max(|f(y+h)|, |f(y−h)|)/h: a rate far larger than the change it differences
/// (−10 nM/min from STAT3 beside 0.05·pSTAT3 at pSTAT3 = 0) leaves that much noise in the quotient.
public struct JacobianCheck: Sendable {
    public struct Mismatch: Sendable, Equatable {
        public var row: Int
        public var column: Int
        public var analytic: Double
        public var finiteDifference: Double
    }

    /// Entries that fail the test, worst first.
    public var mismatches: [Mismatch]
    /// Largest |analytic − fd| / (its allowed error); ≤ 1 means the Jacobian passes.
    public var worstRatio: Double
    public var passed: Bool { mismatches.isEmpty }

    /// Checks `system.jacobian` at `(t, y)`. Central differences with step
    /// ∛u · max(|y_j|, scale), scale = 1e-6 · max|y| (or 1 when y = 0): small enough for
    /// components far below the largest (a drug at pM beside a protein at µM), error ~1e-10 relative.
    public init<S: ODESystem>(
        system: S, t: Double, y: [Double],
        relativeTolerance: Double = 1e-5, absoluteTolerance: Double = 1e-8
    ) {
        let n = system.dimension
        precondition(y.count == n && system.providesJacobian)
        var state = y
        var f0 = [Double](repeating: 0, count: n)
        var fPlus = f0
        var fMinus = f0
        var analytic = [Double](repeating: 0, count: n * n)
        var numeric = analytic
        var roundOff = analytic
        state.withUnsafeBufferPointer { ys in
            f0.withUnsafeMutableBufferPointer { system.rhs(t: t, y: ys.baseAddress!, dydt: $0.baseAddress!) }
            f0.withUnsafeBufferPointer { fs in
                analytic.withUnsafeMutableBufferPointer {
                    system.jacobian(t: t, y: ys.baseAddress!, dydt: fs.baseAddress!, jacobian: $0.baseAddress!)
                }
            }
        }
        let yMax = y.map(abs).max() ?? 0
        let scale = yMax > 0 ? 1e-6 * yMax : 1
        let step = pow(Double.ulpOfOne, 1.0 / 3.0)
        for j in 0..<n {
            let saved = state[j]
            let increment = step * max(abs(saved), scale)
            state[j] = saved + increment
            state.withUnsafeBufferPointer { ys in
                fPlus.withUnsafeMutableBufferPointer { system.rhs(t: t, y: ys.baseAddress!, dydt: $0.baseAddress!) }
            }
            state[j] = saved - increment
            state.withUnsafeBufferPointer { ys in
                fMinus.withUnsafeMutableBufferPointer { system.rhs(t: t, y: ys.baseAddress!, dydt: $0.baseAddress!) }
            }
            state[j] = saved
            for i in 0..<n {
                numeric[i + j * n] = (fPlus[i] - fMinus[i]) / (2 * increment)
                roundOff[i + j * n] = 4 * Double.ulpOfOne * max(abs(fPlus[i]), abs(fMinus[i])) / increment
            }
        }
        var found: [(Mismatch, Double)] = []
        var worst = 0.0
        for i in 0..<n {
            var rowScale = 0.0
            for j in 0..<n { rowScale = max(rowScale, abs(numeric[i + j * n])) }
            for j in 0..<n {
                let a = analytic[i + j * n]
                let d = numeric[i + j * n]
                let allowed =
                    relativeTolerance * max(abs(a), abs(d)) + absoluteTolerance * rowScale + roundOff[i + j * n]
                    + Double.leastNormalMagnitude
                let ratio = a.isFinite ? abs(a - d) / allowed : .infinity
                worst = max(worst, ratio)
                if ratio > 1 { found.append((Mismatch(row: i, column: j, analytic: a, finiteDifference: d), ratio)) }
            }
        }
        mismatches = found.sorted { $0.1 > $1.1 }.map(\.0)
        worstRatio = worst
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
