/// Root finding on the dense output, for state events (CVODE's `cvRcheck3`): the solver steps
/// on without looking, and after each step the caller checks its event functions at the step's
/// end; when one has changed, the moment it changed is located inside the step on the
/// interpolating polynomial, without extra right-hand-side evaluations.
extension BDFSolver {
    /// The time resolution of root finding in the current step, CVODE's
    /// `ttol = 100 · uround · (|t_n| + |h|)`.
    public var rootTolerance: Double {
        CVODEConstants.fuzzFactor * CVODEConstants.uround * (abs(tn) + abs(hu))
    }

    /// Locates where an event function crosses inside `[tLow, tHigh]` (a part of the last step):
    /// `evaluate(t)` returns the function's value `g` and whether the event has happened by `t`
    /// (`crossed`), which must be false at `tLow` and true at `tHigh`. The trial points are
    /// CVODE's: Illinois' modified regula falsi on `g` (the weight of an end point that stays
    /// twice in a row is halved, so that the secant cannot creep toward the other end), moved
    /// inward by a tenth to a half of the interval when they fall within half the tolerance of
    /// an end. The bracket itself is kept by `crossed`, so that relations such as `g >= 0` that
    /// hold at `g = 0` are located on the right side. Returns the earliest time found with
    /// `crossed` true, within `rootTolerance` of the crossing.
    public func locateCrossing(
        from tLow: Double, value gLow: Double, to tHigh: Double, value gHigh: Double,
        evaluate: (Double) throws -> (g: Double, crossed: Bool)
    ) rethrows -> Double {
        var lo = tLow
        var glo = gLow
        var hi = tHigh
        var ghi = gHigh
        let tolerance = rootTolerance
        var alpha = 1.0
        // CVODE's sides: 1 when the last trial replaced `hi`, 2 when it replaced `lo`.
        var side = 0
        var previousSide = 0
        var iterations = 0
        while hi - lo > tolerance && iterations < 200 {
            iterations += 1
            if side != 0 && side == previousSide {
                alpha = side == 2 ? alpha * 2 : alpha * 0.5
            } else {
                alpha = 1
            }
            var tm = hi - (hi - lo) * ghi / (ghi - alpha * glo)
            if !tm.isFinite || tm <= lo || tm >= hi { tm = 0.5 * (lo + hi) }
            let width = hi - lo
            if tm - lo < 0.5 * tolerance {
                let fractions = width / tolerance
                tm = lo + (fractions > 5 ? 0.1 : 0.5 / fractions) * width
            }
            if hi - tm < 0.5 * tolerance {
                let fractions = width / tolerance
                tm = hi - (fractions > 5 ? 0.1 : 0.5 / fractions) * width
            }
            let (g, crossed) = try evaluate(tm)
            // An exact zero on the crossed side is the crossing (CVODE's `zroot`).
            if crossed && g == 0 { return tm }
            previousSide = side
            if crossed {
                hi = tm
                ghi = g
                side = 1
            } else {
                lo = tm
                glo = g
                side = 2
            }
        }
        return hi
    }
}
