/// Forward sensitivities s_k = ∂y/∂p_k, integrated with the state as CVODES does with
/// `CV_STAGGERED`: once the state's corrector has converged and passed its error test, the
/// sensitivity equations
///
///     ṡ_k = J(t, y) s_k + ∂f/∂p_k(t, y)
///
/// are solved for the same step by their own Newton iteration, with the state's Newton matrix
/// M = I − γJ and its LU (the equations are linear in s, so M need not be refactored for them).
/// Their history is a second Nordsieck array that every phase of the step (predict, restore,
/// rescale, order change, completion) moves with the state's. With error control
/// (CVODES's `errconS`) the sensitivities also take part in the local error test and in the
/// choice of step size and order; without it the state's steps are exactly those of a run without
/// sensitivities.
///
/// Jumps of s at events are the caller's: after an event it restarts the solver with
/// `reset(time:state:sensitivities:)`.
extension BDFSolver {
    // MARK: Set-up

    /// Integrates the sensitivities of `parameters` (indices into the system's
    /// `0..<parameterCount`) from the next `reset` on. Allocates its buffers here, once; solves
    /// after it allocate nothing.
    ///
    /// - Parameters:
    ///   - parameterScales: p̄_k, the magnitude of each parameter: the absolute tolerance of s_k is
    ///     atol / |p̄_k| (CVODES's `CVodeSensEEtolerances`); default 1.
    ///   - errorControl: include the sensitivities in the error test (CVODES's `errconS`).
    public func enableSensitivities(
        parameters: [Int], parameterScales: [Double]? = nil, errorControl: Bool = false
    ) throws {
        let n = dimension
        let count = system.parameterCount
        for k in parameters where !(0..<count).contains(k) {
            throw inputError("Parameter \(k) has no derivative: the system differentiates by \(count) parameters.")
        }
        let scales = parameterScales ?? Array(repeating: 1, count: parameters.count)
        guard scales.count == parameters.count else {
            throw inputError("\(scales.count) parameter scales were given for \(parameters.count) parameters.")
        }
        for p in scales where !(p.isFinite && p != 0) {
            throw inputError("Parameter scales must be finite and nonzero, not \(p).")
        }
        let width = n * parameters.count
        if width > 0 {
            for i in 0..<n where absoluteTolerances[i] == 0 && options.relativeTolerance == 0 {
                throw inputError("Sensitivities need a positive tolerance for every component.")
            }
        }
        deallocateSensitivityBuffers()
        func vector(_ count: Int) -> UnsafeMutablePointer<Double> {
            let p = UnsafeMutablePointer<Double>.allocate(capacity: count)
            p.initialize(repeating: 0, count: count)
            return p
        }
        sensitivityCount = parameters.count
        sensitivityWidth = width
        sensitivityErrorControl = errorControl && width > 0
        sensitivityParameters = .allocate(capacity: parameters.count)
        sensitivityParameters.initialize(from: parameters, count: parameters.count)
        sensitivityNordsieck = vector((maxOrder + 1) * width)
        sensitivityErrorWeights = vector(width)
        sensitivityAbsoluteTolerances = vector(width)
        sensitivityCorrection = vector(width)
        sensitivityDelta = vector(width)
        parameterDerivatives = vector(width)
        sensitivityScratch = vector(max(width, n))
        sensitivityJacobian = vector(width > 0 ? n * n : 0)
        let pattern = sensitivityJacobianPattern()
        sensitivityPatternStart = .allocate(capacity: n + 1)
        sensitivityPatternStart.initialize(from: pattern.start, count: n + 1)
        sensitivityPatternRow = .allocate(capacity: max(pattern.row.count, 1))
        sensitivityPatternRow.initialize(from: pattern.row, count: pattern.row.count)
        for k in 0..<parameters.count {
            for i in 0..<n { sensitivityAbsoluteTolerances[k * n + i] = absoluteTolerances[i] / abs(scales[k]) }
        }
        sensitivityStatistics = SensitivityStatistics()
    }

    /// Stops integrating sensitivities (buffers are freed).
    public func disableSensitivities() {
        deallocateSensitivityBuffers()
        sensitivityCount = 0
        sensitivityWidth = 0
        sensitivityErrorControl = false
        sensitivityParameters = .allocate(capacity: 0)
        sensitivityNordsieck = .allocate(capacity: 0)
        sensitivityErrorWeights = .allocate(capacity: 0)
        sensitivityAbsoluteTolerances = .allocate(capacity: 0)
        sensitivityCorrection = .allocate(capacity: 0)
        sensitivityDelta = .allocate(capacity: 0)
        parameterDerivatives = .allocate(capacity: 0)
        sensitivityScratch = .allocate(capacity: 0)
        sensitivityJacobian = .allocate(capacity: 0)
        sensitivityPatternStart = .allocate(capacity: 0)
        sensitivityPatternRow = .allocate(capacity: 0)
    }

    var sensitivityBuffers: [UnsafeMutablePointer<Double>] {
        [
            sensitivityNordsieck, sensitivityErrorWeights, sensitivityAbsoluteTolerances, sensitivityCorrection,
            sensitivityDelta, parameterDerivatives, sensitivityScratch, sensitivityJacobian,
        ]
    }

    func deallocateSensitivityBuffers() {
        for p in sensitivityBuffers { p.deallocate() }
        sensitivityParameters.deallocate()
        sensitivityPatternStart.deallocate()
        sensitivityPatternRow.deallocate()
    }

    /// The Jacobian's nonzero rows by column, from the system's pattern (deduplicated, in row
    /// order), or every row of every column when it gives none.
    func sensitivityJacobianPattern() -> (start: [Int], row: [Int]) {
        let n = dimension
        var rows = [[Int]](repeating: [], count: n)
        if let pattern = system.jacobianPattern {
            for (i, j) in pattern where (0..<n).contains(i) && (0..<n).contains(j) { rows[j].append(i) }
            for j in 0..<n { rows[j] = Array(Set(rows[j])).sorted() }
        } else {
            for j in 0..<n { rows[j] = Array(0..<n) }
        }
        var start = [0]
        for j in 0..<n { start.append(start[j] + rows[j].count) }
        return (start, rows.flatMap { $0 })
    }

    /// The number of sensitivities integrated (Ns).
    public var sensitivityDimension: Int { sensitivityCount }

    /// Restarts at `y(t0) = y0` with `s_k(t0)` from `s0[k*n ..< (k+1)*n]` (after an event, the
    /// sensitivities' jump is the caller's to compute).
    public func reset(
        time t0: Double, state y0: UnsafePointer<Double>, sensitivities s0: UnsafePointer<Double>,
        keepStatistics: Bool = false
    ) {
        reset(time: t0, state: y0, keepStatistics: keepStatistics)
        sensitivityNordsieck.update(from: s0, count: sensitivityWidth)
    }

    public func reset(time t0: Double, state y0: [Double], sensitivities s0: [Double], keepStatistics: Bool = false) {
        precondition(y0.count == dimension, "state has \(y0.count) components, the system \(dimension)")
        precondition(s0.count == sensitivityWidth, "\(s0.count) sensitivity values for \(sensitivityWidth)")
        y0.withUnsafeBufferPointer { y in
            s0.withUnsafeBufferPointer { s in
                reset(
                    time: t0, state: y.baseAddress!, sensitivities: s.baseAddress ?? y.baseAddress!,
                    keepStatistics: keepStatistics)
            }
        }
    }

    // MARK: Dense output

    /// Writes s_k(t) for every k into `output[k*n + i]` (n·Ns values), interpolated from the
    /// sensitivities' Nordsieck array; `t` must lie within the last step, as for `interpolate`.
    public func interpolateSensitivities(at t: Double, into output: UnsafeMutablePointer<Double>) throws {
        let width = sensitivityWidth
        if width == 0 { return }
        let fuzz = CVODEConstants.fuzzFactor * CVODEConstants.uround * (abs(tn) + abs(hu))
        guard t >= tn - hu - fuzz, t <= tn + fuzz else {
            throw inputError("Time \(t) is outside the last step [\(tn - hu), \(tn)].")
        }
        if !started || h == 0 {
            output.update(from: sensitivityNordsieck, count: width)
            return
        }
        evaluateHistory(sensitivityNordsieck, width: width, at: (t - tn) / h, into: output)
    }

    // MARK: The sensitivity equations

    /// J(t, y) into `sensitivityJacobian` and ∂f/∂p_k(t, y) into `parameterDerivatives`;
    /// `dydt` must hold f(t, y). False when either is not finite.
    func evaluateSensitivityTerms(t: Double, y: UnsafePointer<Double>, dydt: UnsafePointer<Double>) -> Bool {
        let n = dimension
        sensitivityJacobian.update(repeating: 0, count: n * n)
        if system.providesJacobian {
            system.jacobian(t: t, y: y, dydt: dydt, jacobian: sensitivityJacobian)
        } else {
            sensitivityFiniteDifferenceJacobian(t: t, y: y, dydt: dydt)
        }
        sensitivityStatistics.jacobianEvaluations += 1
        parameterDerivatives.update(repeating: 0, count: sensitivityWidth)
        for k in 0..<sensitivityCount {
            system.parameterDerivative(
                t: t, y: y, dydt: dydt, parameter: sensitivityParameters[k], derivative: parameterDerivatives + k * n)
        }
        sensitivityStatistics.parameterDerivativeEvaluations += sensitivityCount
        for i in 0..<(n * n) where !sensitivityJacobian[i].isFinite { return false }
        for i in 0..<sensitivityWidth where !parameterDerivatives[i].isFinite { return false }
        return true
    }

    /// Forward differences, as the state's, for systems without an analytic Jacobian.
    func sensitivityFiniteDifferenceJacobian(t: Double, y: UnsafePointer<Double>, dydt: UnsafePointer<Double>) {
        let n = dimension
        let srur = CVODEConstants.uround.squareRoot()
        let shifted = sensitivityScratch
        shifted.update(from: y, count: n)
        for j in 0..<n {
            let saved = shifted[j]
            let increment = max(srur * abs(saved), srur / errorWeights[j])
            shifted[j] = saved + increment
            system.rhs(t: t, y: shifted, dydt: jacobianScratch)
            sensitivityStatistics.rhsEvaluations += 1
            shifted[j] = saved
            let column = sensitivityJacobian + j * n
            for i in 0..<n { column[i] = (jacobianScratch[i] - dydt[i]) / increment }
        }
    }

    /// `output_k = J s_k + ∂f/∂p_k` for every k, from the terms last evaluated.
    @inline(__always)
    func sensitivityRHS(_ s: UnsafePointer<Double>, into output: UnsafeMutablePointer<Double>) {
        let n = dimension
        for k in 0..<sensitivityCount {
            let sk = s + k &* n
            let out = output + k &* n
            let fp = parameterDerivatives + k &* n
            for i in 0..<n { out[i] = fp[i] }
            for j in 0..<n {
                let x = sk[j]
                if x == 0 { continue }
                let column = sensitivityJacobian + j &* n
                var e = sensitivityPatternStart[j]
                let end = sensitivityPatternStart[j &+ 1]
                while e < end {
                    let i = sensitivityPatternRow[e]
                    out[i] += column[i] * x
                    e &+= 1
                }
            }
        }
    }

    /// Column 1 of the sensitivity history at the start: h0 · ṡ(t0).
    func initialSensitivityDerivatives(f: UnsafePointer<Double>, stepSize h0: Double) throws {
        guard evaluateSensitivityTerms(t: tn, y: nordsieck, dydt: f) else {
            throw ODESolverError(kind: .nonFiniteValues(source: "sensitivity equations"), t: tn, stepSize: h0)
        }
        let derivative = sensitivityNordsieck + sensitivityWidth
        sensitivityRHS(sensitivityNordsieck, into: derivative)
        for i in 0..<sensitivityWidth { derivative[i] *= h0 }
    }

    /// Column 1 after a restart at order 1 (error-test failures): h · ṡ(t_n), `f` = f(t_n, y_n).
    func restartSensitivityDerivatives(f: UnsafePointer<Double>) throws {
        try initialSensitivityDerivatives(f: f, stepSize: h)
    }

    // MARK: The staggered corrector

    /// Solves the sensitivities' corrector equations for the step whose state `y` has just passed
    /// its error test, leaving s_n − s_n(0) in `sensitivityCorrection` and its norm in
    /// `sensitivityCorrectionNorm`.
    func solveSensitivityNewton() -> NewtonOutcome {
        let n = dimension
        // f, J and ∂f/∂p at the corrected state (the state's last f was at the previous iterate).
        let f = scratch
        system.rhs(t: tn, y: y, dydt: f)
        sensitivityStatistics.rhsEvaluations += 1
        for i in 0..<n where !f[i].isFinite { return .nonFiniteRHS }
        if !evaluateSensitivityTerms(t: tn, y: y, dydt: f) { return .nonFiniteJacobian }

        let first = iterateSensitivities()
        if first == .converged || first == .singularMatrix { return first }
        // With a matrix older than this step, retry once with M = I − γ J(t_n, y_n), as CVODES
        // sets up the linear solver again for a sensitivity failure. The state's later steps
        // then use this matrix too.
        useJacobian(sensitivityJacobian)
        stepAtJacobian = stepsSinceReset
        sensitivityStatistics.linearSetups += 1
        guard factorizeNewtonMatrix() else { return .singularMatrix }
        return iterateSensitivities()
    }

    /// Newton iterations on the sensitivities with the factorised M, from a zero correction.
    func iterateSensitivities() -> NewtonOutcome {
        let n = dimension
        let width = sensitivityWidth
        sensitivityCorrection.update(repeating: 0, count: width)
        let tolerance = tq[4]
        let gammaScale = gammaRatio != 1 && krylov == nil ? 2 / (1 + gammaRatio) : 1
        var previousNorm = 0.0
        var m = 0
        evaluateSensitivityResidual()
        while true {
            sensitivityStatistics.newtonIterations += 1
            for k in 0..<sensitivityCount {
                let d = sensitivityDelta + k &* n
                for i in 0..<n { d[i] = -d[i] }
                let weights = sensitivityErrorWeights + k &* n
                if !solveNewtonMatrix(d, weights: weights, firstIteration: m == 0) { return .linearSolveFailed }
            }
            if gammaScale != 1 { for i in 0..<width { sensitivityDelta[i] *= gammaScale } }
            for i in 0..<width { sensitivityCorrection[i] += sensitivityDelta[i] }

            let updateNorm = sensitivityNorm(sensitivityDelta)
            if m > 0 {
                sensitivityConvergenceRate = max(
                    CVODEConstants.crdown * sensitivityConvergenceRate, updateNorm / previousNorm)
            }
            if updateNorm * min(1, sensitivityConvergenceRate) <= tolerance {
                sensitivityCorrectionNorm = m == 0 ? updateNorm : sensitivityNorm(sensitivityCorrection)
                return .converged
            }
            if m >= 1 && updateNorm > CVODEConstants.rdiv * previousNorm { return .notConverged }
            previousNorm = updateNorm
            m += 1
            if m >= options.maxNewtonIterations { return .notConverged }
            evaluateSensitivityResidual()
        }
    }

    /// `delta_k = rl1·zS_1,k + corr_k − γ (J s_k + ∂f/∂p_k)` at s = zS_0 + corr.
    @inline(__always)
    func evaluateSensitivityResidual() {
        let width = sensitivityWidth
        let s = sensitivityScratch
        for i in 0..<width { s[i] = sensitivityNordsieck[i] + sensitivityCorrection[i] }
        sensitivityRHS(s, into: sensitivityDelta)
        let zs1 = sensitivityNordsieck + width
        for i in 0..<width {
            sensitivityDelta[i] = rl1 * zs1[i] + sensitivityCorrection[i] - gamma * sensitivityDelta[i]
        }
    }

    /// After a successful step: every column takes l_j times the sensitivities' correction.
    @inline(__always)
    func completeSensitivityStep() {
        let width = sensitivityWidth
        for j in 0...q {
            let lj = l[j]
            let column = sensitivityNordsieck + j &* width
            for i in 0..<width { column[i] += lj * sensitivityCorrection[i] }
        }
    }

    // MARK: Norms and weights

    /// `W_ki = 1/(rtol |s_ki| + atol_ki)` from the sensitivities at the start of the step.
    func computeSensitivityErrorWeights() throws {
        let rtol = options.relativeTolerance
        for i in 0..<sensitivityWidth {
            let tol = rtol * abs(sensitivityNordsieck[i]) + sensitivityAbsoluteTolerances[i]
            guard tol > 0 else {
                throw ODESolverError(kind: .invalidErrorWeight, t: tn, stepSize: h)
            }
            sensitivityErrorWeights[i] = 1 / tol
        }
    }

    /// The largest weighted RMS norm over the sensitivities (CVODES's `cvSensNorm`).
    @inline(__always)
    func sensitivityNorm(_ v: UnsafePointer<Double>) -> Double {
        let n = dimension
        var largest = 0.0
        for k in 0..<sensitivityCount {
            var sum = 0.0
            for i in (k &* n)..<((k &+ 1) &* n) {
                let x = v[i] * sensitivityErrorWeights[i]
                sum += x * x
            }
            largest = max(largest, (sum / Double(n)).squareRoot())
        }
        return largest
    }

    /// The norm of Δ_n − cquot·Δ_{n−1} over the sensitivities, for the order-(q+1) estimate.
    func sensitivityHigherOrderNorm(_ cquot: Double) -> Double {
        let width = sensitivityWidth
        let saved = sensitivityNordsieck + maxOrder * width
        for i in 0..<width { sensitivityScratch[i] = sensitivityCorrection[i] - cquot * saved[i] }
        return sensitivityNorm(sensitivityScratch)
    }
}

/// Work counters of the forward sensitivities since the last reset (CVODES's names in brackets).
public struct SensitivityStatistics: Sendable, Equatable, CustomStringConvertible {
    /// Evaluations of f for the sensitivities: at each step's solution, and for finite-difference
    /// Jacobians (`nfeS`).
    public var rhsEvaluations = 0
    /// Evaluations of ∂f/∂p_k, one per parameter (`nfSe`).
    public var parameterDerivativeEvaluations = 0
    /// Jacobians J(t_n, y_n) for the sensitivity equations.
    public var jacobianEvaluations = 0
    /// Newton iterations of the staggered corrector (`nniS`), each one solve per parameter.
    public var newtonIterations = 0
    /// Factorisations of M = I − γJ made for the sensitivities, after their corrector failed with
    /// an older matrix (`nsetupsS`).
    public var linearSetups = 0
    /// Corrector failures that cost a step-size reduction (`ncfnS`).
    public var convergenceFailures = 0
    /// Failed local error tests on the sensitivities, with error control (`netfS`).
    public var errorTestFailures = 0

    public init() {}

    public var description: String {
        "sensitivity f evaluations \(rhsEvaluations), ∂f/∂p evaluations \(parameterDerivativeEvaluations), "
            + "Jacobians \(jacobianEvaluations), LU factorisations \(linearSetups), "
            + "Newton iterations \(newtonIterations), convergence failures \(convergenceFailures), "
            + "error-test failures \(errorTestFailures)"
    }
}
