/// The first step size (CVODE's `cvHin`): the largest h whose estimated local error of an
/// explicit Euler step, ½h²‖y''‖, is at the tolerance, with ‖y''‖ from a difference quotient of f.
extension BDFSolver {
    /// Expects f(t0, y0) (unscaled) in Nordsieck column 1 and error weights from y0.
    func initialStepSize(tout: Double) throws -> Double {
        let n = dimension
        let distance = tout - tn
        let roundoff = CVODEConstants.uround * max(abs(tn), abs(tout))
        guard distance >= 2 * roundoff else {
            throw inputError("The output time \(tout) is too close to the start time \(tn).")
        }
        let lowerBound = CVODEConstants.hinLowerBoundFactor * roundoff
        let upperBound = initialStepUpperBound(distance: distance)
        var guess = (lowerBound * upperBound).squareRoot()
        if upperBound < lowerBound { return guess }

        let f0 = nordsieck + n
        var proposal = guess
        for iteration in 1...CVODEConstants.hinMaxIterations {
            // ‖y''‖ ≈ ‖f(t0 + h, y0 + h f0) − f0‖ / h; shrink h if f is not finite there.
            var secondDerivativeNorm = Double.nan
            for _ in 1...CVODEConstants.hinMaxIterations {
                for i in 0..<n { y[i] = nordsieck[i] + guess * f0[i] }
                system.rhs(t: tn + guess, y: y, dydt: scratch)
                statistics.rhsEvaluations += 1
                if firstNonFinite(scratch) == nil {
                    for i in 0..<n { scratch[i] = (scratch[i] - f0[i]) / guess }
                    secondDerivativeNorm = weightedNorm(scratch)
                    break
                }
                guess *= 0.2
            }
            guard secondDerivativeNorm.isFinite else {
                throw nonFiniteFailure(source: "right-hand side", at: tn + guess, values: scratch)
            }
            proposal =
                secondDerivativeNorm * upperBound * upperBound > 2
                ? (2 / secondDerivativeNorm).squareRoot()
                : (guess * upperBound).squareRoot()
            if iteration == CVODEConstants.hinMaxIterations { break }
            let ratio = proposal / guess
            if ratio > 0.5 && ratio < 2 { break }
            if iteration > 1 && ratio > 2 {
                proposal = guess
                break
            }
            guess = proposal
        }
        return min(max(CVODEConstants.hinBias * proposal, lowerBound), upperBound)
    }

    /// At most a tenth of the interval, and small enough that an Euler step changes no
    /// component by more than 10 % of its size (plus its tolerance).
    func initialStepUpperBound(distance: Double) -> Double {
        let n = dimension
        let f0 = nordsieck + n
        var inverseBound = 0.0
        for i in 0..<n {
            let allowed = CVODEConstants.hinUpperBoundFactor * abs(nordsieck[i]) + 1 / errorWeights[i]
            inverseBound = max(inverseBound, abs(f0[i]) / allowed)
        }
        var bound = CVODEConstants.hinUpperBoundFactor * distance
        if bound * inverseBound > 1 { bound = 1 / inverseBound }
        return bound
    }
}
