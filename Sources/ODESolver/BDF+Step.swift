#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One BDF step: predict, correct (Newton), test the local error, and on success update the
/// history and choose the next step size and order. Follows CVODE's `cvStep` phase by phase.
extension BDFSolver {
    /// How the previous attempt at the current step ended (CVODE's `nflag` on entry to cvNls).
    enum AttemptHistory {
        case firstAttempt
        case previousConvergenceFailure
        case previousErrorTestFailure
    }

    /// Takes one successful step, retrying with smaller steps or lower order after failures.
    func takeStep() throws {
        let savedT = tn
        var convergenceFailuresHere = 0
        var errorTestFailuresHere = 0
        var history = AttemptHistory.firstAttempt
        if stepsSinceReset > 0 && (hprime != h || qprime != q) { adjustParameters() }

        var dsm = 0.0
        var errorTestFailedOnSensitivities = false
        while true {
            predict()
            setCoefficients()
            let outcome = solveNewton(history)

            if outcome != .converged {
                // Newton failed: undo the prediction and retry with a smaller step.
                statistics.convergenceFailures += 1
                if outcome == .nonFiniteRHS { rememberNonFinite() }
                restore(savedT)
                convergenceFailuresHere += 1
                etamax = 1
                if abs(h) <= options.minStep * (1 + CVODEConstants.uround)
                    || convergenceFailuresHere == options.maxConvergenceFailures
                {
                    throw newtonFailure(outcome, count: convergenceFailuresHere)
                }
                if outcome != .constraintViolated {
                    eta = max(CVODEConstants.etaConvergenceFailure, options.minStep / abs(h))
                }
                history = .previousConvergenceFailure
                rescale()
                if tn + h == tn { throw stepSizeFailure(culpritsFrom: delta) }
                continue
            }

            // Local error test on the weighted norm of acor, scaled by the error constant.
            dsm = correctionNorm * tq[2]
            if dsm <= 1 {
                guard sensitivityCount > 0 else { break }
                // Staggered corrector: the sensitivities once the state has passed its test.
                let sensitivityOutcome = solveSensitivityNewton()
                if sensitivityOutcome != .converged {
                    sensitivityStatistics.convergenceFailures += 1
                    restore(savedT)
                    convergenceFailuresHere += 1
                    etamax = 1
                    if abs(h) <= options.minStep * (1 + CVODEConstants.uround)
                        || convergenceFailuresHere == options.maxConvergenceFailures
                    {
                        throw failure(.repeatedConvergenceFailures(convergenceFailuresHere), culpritsFrom: nil)
                    }
                    eta = max(CVODEConstants.etaConvergenceFailure, options.minStep / abs(h))
                    history = .previousConvergenceFailure
                    rescale()
                    if tn + h == tn { throw stepSizeFailure(culpritsFrom: nil) }
                    continue
                }
                if !sensitivityErrorControl { break }
                let dsmS = sensitivityCorrectionNorm * tq[2]
                if dsmS <= 1 {
                    dsm = max(dsm, dsmS)
                    break
                }
                dsm = dsmS
                errorTestFailedOnSensitivities = true
            }
            try handleErrorTestFailure(
                dsm: dsm, count: &errorTestFailuresHere, savedT: savedT, onSensitivities: errorTestFailedOnSensitivities
            )
            errorTestFailedOnSensitivities = false
            history = .previousErrorTestFailure
        }

        completeStep()
        prepareNextStep(dsm: dsm)
        etamax =
            stepsSinceReset <= CVODEConstants.smallStepCount
            ? CVODEConstants.etaMaxEarlySteps : CVODEConstants.etaMaxGeneral
    }

    /// After a failed error test: shrink h (first three failures), then drop the order, then
    /// restart at order 1 from f (CVODE's `cvDoErrorTest`).
    func handleErrorTestFailure(dsm: Double, count: inout Int, savedT: Double, onSensitivities: Bool = false) throws {
        count += 1
        if onSensitivities {
            sensitivityStatistics.errorTestFailures += 1
        } else {
            statistics.errorTestFailures += 1
        }
        // The culprits must be read before the history is restored.
        let culprits = count == options.maxErrorTestFailures || abs(h) <= options.minStep * (1 + CVODEConstants.uround)
        let error = culprits ? failure(.repeatedErrorTestFailures(count), culpritsFrom: correction) : nil
        restore(savedT)
        if let error { throw error }

        etamax = 1
        let hminRatio = options.minStep / abs(h)
        if count <= CVODEConstants.errorFailuresBeforeOrderOne {
            eta = 1 / (root(CVODEConstants.bias2 * dsm, L) + CVODEConstants.addon)
            eta = max(CVODEConstants.etaMin, max(eta, hminRatio))
            if count >= CVODEConstants.smallErrorFailures {
                eta = min(eta, CVODEConstants.etaMaxAfterErrorFailures)
            }
            rescale()
        } else if q > 1 {
            eta = max(CVODEConstants.etaMin, hminRatio)
            adjustOrder(by: -1)
            L = q
            q -= 1
            qwait = L
            rescale()
        } else {
            // Already at order 1: restart the history from f at the last good point.
            eta = max(CVODEConstants.etaMin, hminRatio)
            h *= eta
            hscale = h
            qwait = CVODEConstants.longWait
            nscon = 0
            let n = dimension
            system.rhs(t: tn, y: nordsieck, dydt: scratch)
            statistics.rhsEvaluations += 1
            if firstNonFinite(scratch) != nil {
                throw nonFiniteFailure(source: "right-hand side", at: tn, values: scratch)
            }
            for i in 0..<n { nordsieck[n + i] = h * scratch[i] }
            if sensitivityCount > 0 { try restartSensitivityDerivatives(f: scratch) }
        }
        if tn + h == tn { throw stepSizeFailure(culpritsFrom: nil) }
    }

    /// Records where and in which components f was not finite (rare: allocation is fine here).
    func rememberNonFinite() {
        lastNonFiniteTime = tn
        lastNonFiniteCulprits = []
        for i in 0..<dimension where !fCurrent[i].isFinite && lastNonFiniteCulprits.count < 3 {
            lastNonFiniteCulprits.append(culprit(i, value: fCurrent[i], weighted: .nan))
        }
    }

    func newtonFailure(_ outcome: NewtonOutcome, count: Int) -> ODESolverError {
        switch outcome {
        case .nonFiniteRHS:
            return nonFiniteFailure(source: "right-hand side", at: tn + h, values: fCurrent)
        case .nonFiniteJacobian:
            return ODESolverError(kind: .nonFiniteValues(source: "Jacobian"), t: tn, stepSize: h)
        default:
            return failure(.repeatedConvergenceFailures(count), culpritsFrom: delta)
        }
    }

    // MARK: Predictor

    /// Advances t by h and the Nordsieck array by the Pascal-triangle product: the prediction
    /// y_n(0) = Σ zn_j lands in column 0. The sensitivities' history moves with it.
    @inline(__always)
    func predict() {
        if let ts = stopTime, tn + h > ts {
            h = (ts - tn) * (1 - 4 * CVODEConstants.uround)
        }
        tn += h
        pascalProduct(nordsieck, width: dimension, sign: 1)
        if sensitivityCount > 0 { pascalProduct(sensitivityNordsieck, width: sensitivityWidth, sign: 1) }
    }

    /// Undoes `predict` after a failed attempt.
    @inline(__always)
    func restore(_ savedT: Double) {
        tn = savedT
        pascalProduct(nordsieck, width: dimension, sign: -1)
        if sensitivityCount > 0 { pascalProduct(sensitivityNordsieck, width: sensitivityWidth, sign: -1) }
    }

    /// Multiplies a Nordsieck array (columns of `width`) by the Pascal triangle (`sign` 1) or
    /// its inverse (`sign` −1).
    @inline(__always)
    func pascalProduct(_ z: UnsafeMutablePointer<Double>, width: Int, sign: Double) {
        for k in 1...q {
            for j in stride(from: q, through: k, by: -1) {
                let lower = z + (j - 1) * width
                let upper = z + j * width
                if sign > 0 {
                    for i in 0..<width { lower[i] += upper[i] }
                } else {
                    for i in 0..<width { lower[i] -= upper[i] }
                }
            }
        }
    }

    /// Scales column j of the history by η^j for the new step h·η.
    @inline(__always)
    func rescale() {
        scaleColumns(nordsieck, width: dimension)
        if sensitivityCount > 0 { scaleColumns(sensitivityNordsieck, width: sensitivityWidth) }
        h = hscale * eta
        hscale = h
        nscon = 0
    }

    @inline(__always)
    func scaleColumns(_ z: UnsafeMutablePointer<Double>, width: Int) {
        var factor = eta
        for j in 1...q {
            let column = z + j * width
            for i in 0..<width { column[i] *= factor }
            factor *= eta
        }
    }

    /// Applies the order and step chosen after the previous step.
    func adjustParameters() {
        if qprime != q {
            adjustOrder(by: qprime - q)
            q = qprime
            L = q + 1
            qwait = L
        }
        eta = hprime / h
        rescale()
    }

    // MARK: After a successful step

    /// Updates step history and the Nordsieck array with the converged correction.
    func completeStep() {
        let n = dimension
        stepsSinceReset += 1
        statistics.steps += 1
        nscon += 1
        hu = h
        qu = q
        statistics.lastOrder = q
        statistics.lastStep = h
        if q >= 2 {
            for i in stride(from: q, through: 2, by: -1) { tau[i] = tau[i - 1] }
        }
        if q == 1 && stepsSinceReset > 1 { tau[2] = tau[1] }
        tau[1] = h
        for j in 0...q {
            let lj = l[j]
            let column = nordsieck + j * n
            for i in 0..<n { column[i] += lj * correction[i] }
        }
        if sensitivityCount > 0 { completeSensitivityStep() }
        qwait -= 1
        if qwait == 1 && q != maxOrder {
            // Keep this correction: the order-(q+1) error estimate at the next step needs it.
            saveCorrectionForOrderIncrease()
            savedTq5 = tq[5]
        }
    }

    /// Column qmax keeps Δ_n, the correction of this step, for the order-(q+1) estimate.
    @inline(__always)
    func saveCorrectionForOrderIncrease() {
        (nordsieck + maxOrder * dimension).update(from: correction, count: dimension)
        if sensitivityCount > 0 {
            (sensitivityNordsieck + maxOrder * sensitivityWidth).update(
                from: sensitivityCorrection, count: sensitivityWidth)
        }
    }

    /// Chooses h and q for the next step from the error estimates at orders q−1, q, q+1.
    func prepareNextStep(dsm: Double) {
        if etamax == 1 {
            // A failure occurred in this step: no growth and no order change yet.
            qwait = max(qwait, 2)
            qprime = q
            hprime = h
            eta = 1
            return
        }
        let etaq = 1 / (root(CVODEConstants.bias2 * dsm, L) + CVODEConstants.addon)
        if qwait != 0 {
            eta = etaq
            qprime = q
            setEta()
            return
        }
        qwait = 2
        let etaqm1 = etaLowerOrder()
        let etaqp1 = etaHigherOrder()
        chooseEta(etaqm1: etaqm1, etaq: etaq, etaqp1: etaqp1)
        setEta()
    }

    /// η at order q−1, from the last Nordsieck column (which is h^q/q! y^(q)).
    func etaLowerOrder() -> Double {
        guard q > 1 else { return 0 }
        var ddn = weightedNorm(nordsieck + q * dimension) * tq[1]
        if sensitivityErrorControl {
            ddn = max(ddn, sensitivityNorm(sensitivityNordsieck + q * sensitivityWidth) * tq[1])
        }
        return 1 / (root(CVODEConstants.bias1 * ddn, q) + CVODEConstants.addon)
    }

    /// η at order q+1, from the difference of this and the saved correction.
    func etaHigherOrder() -> Double {
        guard q != maxOrder, savedTq5 != 0 else { return 0 }
        let n = dimension
        let cquot = (tq[5] / savedTq5) * pow(h / tau[2], Double(L))
        let saved = nordsieck + maxOrder * n
        for i in 0..<n { scratch[i] = correction[i] - cquot * saved[i] }
        var dup = weightedNorm(scratch) * tq[3]
        if sensitivityErrorControl { dup = max(dup, sensitivityHigherOrderNorm(cquot) * tq[3]) }
        return 1 / (root(CVODEConstants.bias3 * dup, L + 1) + CVODEConstants.addon)
    }

    /// Picks the largest η; ties keep the order, then lower it.
    func chooseEta(etaqm1: Double, etaq: Double, etaqp1: Double) {
        let etam = max(etaqm1, etaq, etaqp1)
        if etam < CVODEConstants.etaFixedUpper {
            eta = 1
            qprime = q
            return
        }
        if etam == etaq {
            eta = etaq
            qprime = q
        } else if etam == etaqm1 {
            eta = etaqm1
            qprime = q - 1
        } else {
            eta = etaqp1
            qprime = q + 1
            // The order increase needs Δ_n of this step in column qmax.
            saveCorrectionForOrderIncrease()
        }
    }

    /// Limits η and sets the next step: small changes are not made at all.
    func setEta() {
        if eta > CVODEConstants.etaFixedLower && eta < CVODEConstants.etaFixedUpper {
            eta = 1
            hprime = h
        } else {
            if eta >= CVODEConstants.etaFixedUpper {
                eta = min(eta, etamax)
                eta /= max(1, abs(h) * eta / options.maxStep)
            } else {
                eta = max(eta, CVODEConstants.etaMin)
                eta = max(eta, options.minStep / abs(h))
            }
            hprime = h * eta
            if qprime < q { nscon = 0 }
        }
    }
}

/// x^(1/k) for the step-size ratios, with square roots where they apply (pow is the single most
/// expensive call of a step on small systems).
@inline(__always)
func root(_ x: Double, _ k: Int) -> Double {
    switch k {
    case 1: return x
    case 2: return x.squareRoot()
    case 4: return x.squareRoot().squareRoot()
    default: return pow(x, 1 / Double(k))
    }
}
