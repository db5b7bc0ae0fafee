/// The corrector: modified Newton iteration on G(y) = y − γ f(t_n, y) − a_n = 0 with the matrix
/// M = I − γJ held fixed (and reused across steps), CVODE's rules for when to refactor M and
/// when to re-evaluate J, its convergence-rate test, and the optional non-negativity constraint.
/// On the Krylov path the same iteration is inexact: each linear solve is GMRES on M at the
/// current γ, preconditioned by the ILU(0) of M from the last set-up (CVODE with SPGMR).
extension BDFSolver {
    enum NewtonOutcome: Equatable {
        case converged
        /// Diverged or not converged within `maxNewtonIterations`, with a current Jacobian.
        case notConverged
        /// M = I − γJ is singular.
        case singularMatrix
        /// f returned NaN or ±Inf at an iterate.
        case nonFiniteRHS
        /// J contained NaN or ±Inf.
        case nonFiniteJacobian
        /// The solution violates y ≥ 0 beyond the Newton tolerance; `eta` holds the reduction.
        case constraintViolated
        /// GMRES did not meet its tolerance (Krylov path; CVODE's recoverable `lsolve` failure).
        case linearSolveFailed
    }

    /// Why M is being set up, which decides whether J is re-evaluated (CVODE's `convfail`).
    enum SetupReason {
        case noFailures
        /// The previous attempt at this step failed to converge.
        case previousFailure
        /// Newton just failed with a stale Jacobian in this attempt.
        case badJacobian
    }

    /// Solves the corrector equation for this step attempt, leaving y_n in `y` and y_n − y_n(0) in
    /// `correction`.
    func solveNewton(_ history: AttemptHistory) -> NewtonOutcome {
        let n = dimension
        let previousFailure = history == .previousConvergenceFailure
        var setupReason: SetupReason = previousFailure ? .previousFailure : .noFailures
        var needsSetup =
            history != .firstAttempt
            || stepsSinceReset == 0
            || stepsSinceReset >= stepAtFactorization + options.maxStepsBetweenFactorizations
            || abs(gammaRatio - 1) > options.maxGammaChangeBeforeFactorization

        correction.update(repeating: 0, count: n)
        while true {
            // A non-finite f at the predicted state does not depend on J: no retry.
            if !evaluateResidual() { return .nonFiniteRHS }
            if needsSetup {
                let setup = linearSetup(setupReason)
                if setup != .converged {
                    if let again = retryOrFail(setup, &needsSetup, &setupReason) { return again }
                    continue
                }
            }
            let result = iterate()
            if result == .converged { break }
            if let again = retryOrFail(result, &needsSetup, &setupReason) { return again }
        }

        for i in 0..<n { y[i] = nordsieck[i] + correction[i] }
        if options.nonNegative { return enforceNonNegativity() }
        return .converged
    }

    /// After a recoverable failure: retry once with a fresh Jacobian if the one in use is stale
    /// (returns nil), else report the failure.
    @inline(__always)
    func retryOrFail(
        _ outcome: NewtonOutcome, _ needsSetup: inout Bool,
        _ setupReason: inout SetupReason
    ) -> NewtonOutcome? {
        if jacobianIsCurrent { return outcome }
        needsSetup = true
        setupReason = .badJacobian
        correction.update(repeating: 0, count: dimension)
        return nil
    }

    /// Newton iterations with the factorised M, until the convergence test passes or fails.
    @inline(__always)
    func iterate() -> NewtonOutcome {
        let n = dimension
        let tolerance = tq[4]
        // (GMRES multiplies by M at the current γ: no correction.)
        let gammaScale = gammaRatio != 1 && krylov == nil ? 2 / (1 + gammaRatio) : 1
        var m = 0
        while true {
            statistics.newtonIterations += 1
            for i in 0..<n { delta[i] = -delta[i] }
            if !solveNewtonMatrix(delta, weights: errorWeights, firstIteration: m == 0) { return .linearSolveFailed }
            // M was factorised for an older γ: CVODE's correction for the changed γ.
            if gammaScale != 1 { for i in 0..<n { delta[i] *= gammaScale } }
            for i in 0..<n { correction[i] += delta[i] }

            let updateNorm = weightedNorm(delta)
            if m > 0 { convergenceRate = max(CVODEConstants.crdown * convergenceRate, updateNorm / previousUpdateNorm) }
            if updateNorm * min(1, convergenceRate) <= tolerance {
                correctionNorm = m == 0 ? updateNorm : weightedNorm(correction)
                jacobianIsCurrent = false
                return .converged
            }
            if m >= 1 && updateNorm > CVODEConstants.rdiv * previousUpdateNorm { return .notConverged }
            previousUpdateNorm = updateNorm
            m += 1
            if m >= options.maxNewtonIterations { return .notConverged }
            if !evaluateResidual() { return .nonFiniteRHS }
        }
    }

    /// y = y_n(0) + correction, f(t_n, y) into `fCurrent`, and the residual
    /// `delta = correction + rl1·zn_1 − γ f` (Newton solves M δ = −delta). False if f is not finite.
    @inline(__always)
    func evaluateResidual() -> Bool {
        let n = dimension
        for i in 0..<n { y[i] = nordsieck[i] + correction[i] }
        system.rhs(t: tn, y: y, dydt: fCurrent)
        statistics.rhsEvaluations += 1
        let zn1 = nordsieck + n
        var finite = true
        for i in 0..<n {
            let f = fCurrent[i]
            finite = finite && f.isFinite
            delta[i] = rl1 * zn1[i] + correction[i] - gamma * f
        }
        return finite
    }

    /// Forms and factorises M = I − γJ (on the Krylov path: its ILU(0), the preconditioner),
    /// re-evaluating J when CVODE's rules say so: at the start, every `maxStepsBetweenJacobians`
    /// steps, after a failure with a stale J (unless γ moved a lot, when refactoring alone may
    /// cure it), and after a failure that cut the step.
    func linearSetup(_ reason: SetupReason) -> NewtonOutcome {
        let gammaChange = abs(gamma / gammaAtFactorization - 1)
        let newJacobian =
            stepsSinceReset == 0
            || stepsSinceReset >= stepAtJacobian + options.maxStepsBetweenJacobians
            || (reason == .badJacobian && gammaChange < CVODEConstants.jacobianGammaChange)
            || reason == .previousFailure
        if newJacobian {
            statistics.jacobianEvaluations += 1
            stepAtJacobian = stepsSinceReset
            jacobianIsCurrent = true
            if !evaluateJacobian() {
                gammaAtFactorization = gamma
                return .nonFiniteJacobian
            }
        } else {
            jacobianIsCurrent = false
        }

        statistics.luFactorizations += 1
        return factorizeNewtonMatrix() ? .converged : .singularMatrix
    }

    /// J(t_n, y) at the current iterate into `savedJacobian`, or on the sparse path into
    /// `sparseJacobian` (straight from the system, or gathered from a dense evaluation). False
    /// when an entry is not finite.
    func evaluateJacobian() -> Bool {
        let n = dimension
        if let sparse = jacobianStructure {
            let count = sparse.nonzeroCount
            sparseJacobian.update(repeating: 0, count: count)
            if writesSparseJacobian {
                system.sparseJacobian(
                    t: tn, y: y, dydt: fCurrent, positions: sparseJacobianPositions, values: sparseJacobian)
            } else {
                savedJacobian.update(repeating: 0, count: n * n)
                if system.providesJacobian {
                    system.jacobian(t: tn, y: y, dydt: fCurrent, jacobian: savedJacobian)
                } else {
                    finiteDifferenceJacobian()
                }
                gatherSparseJacobian(from: savedJacobian)
            }
            for k in 0..<count where !sparseJacobian[k].isFinite { return false }
            return true
        }
        savedJacobian.update(repeating: 0, count: n * n)
        if system.providesJacobian {
            system.jacobian(t: tn, y: y, dydt: fCurrent, jacobian: savedJacobian)
        } else {
            finiteDifferenceJacobian()
        }
        for k in 0..<(n * n) where !savedJacobian[k].isFinite { return false }
        return true
    }

    /// `sparseJacobian` from a dense column-major J: the entries of the sparse pattern (the
    /// pattern covers every entry that can be nonzero, so nothing is lost).
    func gatherSparseJacobian(from dense: UnsafePointer<Double>) {
        guard let structure = jacobianStructure else { return }
        let n = dimension
        structure.columnStart.withUnsafeBufferPointer { start in
            structure.rows.withUnsafeBufferPointer { rows in
                for j in 0..<n {
                    let column = dense + j &* n
                    for e in Int(start[j])..<Int(start[j &+ 1]) { sparseJacobian[e] = column[Int(rows[e])] }
                }
            }
        }
    }

    /// Makes a dense column-major J (the sensitivities' J(t_n, y_n)) the one M is formed from.
    func useJacobian(_ dense: UnsafePointer<Double>) {
        if jacobianStructure != nil {
            gatherSparseJacobian(from: dense)
            if !writesSparseJacobian { savedJacobian.update(from: dense, count: dimension * dimension) }
        } else {
            savedJacobian.update(from: dense, count: dimension * dimension)
        }
    }

    /// Overwrites `b` with M⁻¹ b, by whichever LU factorised M, or on the Krylov path with GMRES's
    /// approximation (`krylovSolve`). False only when GMRES failed in a way CVODE treats as a
    /// recoverable linear-solver failure.
    @inline(__always)
    func solveNewtonMatrix(
        _ b: UnsafeMutablePointer<Double>, weights: UnsafePointer<Double>, firstIteration: Bool
    ) -> Bool {
        if let sparse = sparseNewtonMatrix {
            sparse.solve(b)
        } else if krylov != nil {
            return krylovSolve(b, weights: weights, firstIteration: firstIteration)
        } else {
            newtonMatrix.unsafelyUnwrapped.solve(b)
        }
        return true
    }

    /// M x = b by GMRES, x into `b` (CVODE's `cvLsSolve` with SPGMR): M·v = v − γ J v at the
    /// current γ with the stored sparse J, preconditioned by the ILU(0) of M from the last set-up
    /// (possibly for an older γ and J: CVODE's design, the preconditioner need only be close).
    /// The solve stops when the weighted RMS norm of the preconditioned residual is below
    /// `linearToleranceFactor` times the Newton tolerance (√n times that in GMRES's 2-norm). A
    /// right-hand side already below it is the answer as it is on the first iteration and zero
    /// after; a solve that only reduced the residual is accepted on the first iteration only.
    @inline(__always)
    func krylovSolve(_ b: UnsafeMutablePointer<Double>, weights: UnsafePointer<Double>, firstIteration: Bool) -> Bool {
        let n = dimension
        let gmres = krylov.unsafelyUnwrapped
        let ilu = preconditioner.unsafelyUnwrapped
        let tolerance = options.linearToleranceFactor * tq[4]
        var sum = 0.0
        for i in 0..<n {
            let x = b[i] * weights[i]
            sum += x * x
        }
        if (sum / Double(n)).squareRoot() <= tolerance {
            if !firstIteration { b.update(repeating: 0, count: n) }
            return true
        }
        let structure = jacobianStructure.unsafelyUnwrapped
        let jacobian = sparseJacobian
        let g = gamma
        let outcome = structure.columnStart.withUnsafeBufferPointer { start in
            structure.rows.withUnsafeBufferPointer { rows in
                gmres.solve(
                    b, weights: weights, tolerance: tolerance * Double(n).squareRoot(),
                    multiply: { v, z in
                        z.update(from: v, count: n)
                        for j in 0..<n {
                            let gv = g * v[j]
                            if gv == 0 { continue }
                            for e in Int(start[j])..<Int(start[j &+ 1]) { z[Int(rows[e])] -= jacobian[e] * gv }
                        }
                    },
                    precondition: { v in ilu.solve(v) })
            }
        }
        statistics.linearIterations += gmres.iterations
        switch outcome {
        case .converged: return true
        case .residualReduced:
            statistics.linearConvergenceFailures += 1
            return firstIteration
        case .notConverged, .breakdown:
            statistics.linearConvergenceFailures += 1
            return false
        }
    }

    /// Factorises M = I − γJ (the Jacobian last saved) for the current γ; the convergence-rate
    /// estimates and the reuse bookkeeping restart with the new matrix. False when M is singular.
    func factorizeNewtonMatrix() -> Bool {
        let factorized: Bool
        if let sparse = sparseNewtonMatrix {
            let (full, reused) = (sparse.factorizations, sparse.refactorizations)
            factorized = sparse.factorize(identityMinus: gamma, times: sparseJacobian)
            statistics.sparseFactorizations += sparse.factorizations - full
            statistics.sparseRefactorizations += sparse.refactorizations - reused
        } else if let ilu = preconditioner {
            statistics.preconditionerSetups += 1
            factorized = ilu.factorize(identityMinus: gamma, times: sparseJacobian)
        } else {
            factorized = newtonMatrix.unsafelyUnwrapped.factorize(identityMinus: gamma, times: savedJacobian)
        }
        gammaAtFactorization = gamma
        gammaRatio = 1
        stepAtFactorization = stepsSinceReset
        convergenceRate = 1
        sensitivityConvergenceRate = 1
        return factorized
    }

    /// Forward differences column by column, with CVODE's increments
    /// (`cvLsDenseDQJac`): max(√u |y_j|, minInc / W_j), minInc scaled by |h|·n·‖f‖.
    func finiteDifferenceJacobian() {
        let n = dimension
        let srur = CVODEConstants.uround.squareRoot()
        let fnorm = weightedNorm(fCurrent)
        let minIncrement = fnorm != 0 ? 1000 * abs(h) * CVODEConstants.uround * Double(n) * fnorm : 1
        for j in 0..<n {
            let saved = y[j]
            var increment = max(srur * abs(saved), minIncrement / errorWeights[j])
            if options.nonNegative && saved + increment < 0 { increment = -increment }
            y[j] = saved + increment
            system.rhs(t: tn, y: y, dydt: jacobianScratch)
            statistics.rhsEvaluationsForJacobian += 1
            y[j] = saved
            let inverse = 1 / increment
            let column = savedJacobian + j * n
            for i in 0..<n { column[i] = (jacobianScratch[i] - fCurrent[i]) * inverse }
        }
    }

    /// CVODE's constraint handling for y ≥ 0: small violations (within the Newton tolerance) are
    /// projected to zero; larger ones reject the step with η from a linear estimate of where the
    /// first component crosses zero.
    func enforceNonNegativity() -> NewtonOutcome {
        let n = dimension
        var violated = false
        for i in 0..<n where y[i] < 0 {
            violated = true
            break
        }
        if !violated { return .converged }
        for i in 0..<n { scratch[i] = y[i] < 0 ? y[i] : 0 }
        if weightedNorm(scratch) <= tq[4] {
            for i in 0..<n where scratch[i] != 0 {
                correction[i] -= scratch[i]
                y[i] = 0
            }
            return .converged
        }
        var ratio = Double.infinity
        for i in 0..<n where scratch[i] != 0 {
            let drop = nordsieck[i] - y[i]
            if drop != 0 { ratio = min(ratio, nordsieck[i] / drop) }
        }
        eta = max(CVODEConstants.constraintSafety * ratio, CVODEConstants.constraintEtaFloor)
        eta = max(eta, options.minStep / abs(h))
        return .constraintViolated
    }
}
