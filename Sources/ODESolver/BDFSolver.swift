/// Variable-order (1–5), variable-step BDF integrator for stiff systems, in CVODE's
/// fixed-leading-coefficient Nordsieck form (Byrne & Hindmarsh 1975; SUNDIALS CVODE).
///
/// One instance is a workspace: every buffer is allocated once, in `init`, and reused by every
/// step and by every solve after `reset`, so a sweep allocates nothing per point.
///
/// The phases of a step are separate routines, as in CVODE: `predict`, `setCoefficients`,
/// `solveNewton` (with `linearSetup`), the error test in `takeStep`, `completeStep` and
/// `prepareNextStep` (step and order selection). Dense output comes from the Nordsieck array,
/// so output times never force steps; `stopTime` gives exact stops for events.
public final class BDFSolver<System: ODESystem> {
    /// The system, boxed: a stored property of generic type would give every other stored
    /// property a layout known only at run time, and every access in unspecialised code would
    /// load its offset from the type's metadata.
    private let systemBox: Box
    final class Box {
        let system: System
        init(_ system: System) { self.system = system }
    }
    public var system: System { systemBox.system }
    public let options: BDFOptions
    /// Number of state variables n.
    public let dimension: Int
    /// Highest order `qmax`.
    let maxOrder: Int

    // MARK: Buffers (allocated once)

    /// Nordsieck history: column j (`zn + j*n`) holds `h^j/j! · y^(j)(t_n)`, j = 0...qmax.
    /// Column qmax also keeps the saved correction used to estimate the error at order q+1
    /// while q < qmax (CVODE's `zn[qmax]`, `indx_acor`).
    let nordsieck: UnsafeMutablePointer<Double>
    /// `W_i = 1/(rtol |y_i| + atol_i)` from the state at the start of the step.
    let errorWeights: UnsafeMutablePointer<Double>
    /// Absolute tolerance per component.
    let absoluteTolerances: UnsafeMutablePointer<Double>
    /// Current Newton iterate y_n(m), and the solution after a successful step.
    let y: UnsafeMutablePointer<Double>
    /// Accumulated correction `y_n − y_n(0)` (CVODE's `acor`, Newton's `ycor`).
    let correction: UnsafeMutablePointer<Double>
    /// Newton residual, then the Newton update δ (solved in place).
    let delta: UnsafeMutablePointer<Double>
    /// f at the current iterate.
    let fCurrent: UnsafeMutablePointer<Double>
    /// Scratch vector for norms and the order-increase estimate.
    let scratch: UnsafeMutablePointer<Double>
    /// Scratch vector for the finite-difference Jacobian.
    let jacobianScratch: UnsafeMutablePointer<Double>
    /// The last Jacobian evaluated (column-major), kept so M can be refactored for a new γ
    /// without a new Jacobian. Empty (capacity 0) on the sparse path when the system writes its
    /// Jacobian straight into `sparseJacobian`.
    let savedJacobian: UnsafeMutablePointer<Double>
    /// `M = I − γJ` and its LU factors, when M is dense (nil on the sparse path).
    let newtonMatrix: DenseLU?
    /// `M = I − γJ` in compressed columns and its KLU factors, on the sparse path
    /// (`BDFOptions.LinearSolver.usesSparse`).
    let sparseNewtonMatrix: SparseLU?
    /// The compressed-column pattern of J and M (with the diagonal) on the sparse and Krylov
    /// paths; nil on the dense path.
    let jacobianStructure: SparseLU.Structure?
    /// The incomplete LU of M that preconditions GMRES, on the Krylov path
    /// (`BDFOptions.LinearSolver.krylov`; nil otherwise).
    let preconditioner: IncompleteLU?
    /// GMRES's basis, Hessenberg matrix and work vectors, on the Krylov path.
    let krylov: GMRES?
    /// The last Jacobian evaluated, in `jacobianStructure`'s compressed-column order (empty on
    /// the dense path): what KLU factorises, and on the Krylov path what M·v multiplies by.
    let sparseJacobian: UnsafeMutablePointer<Double>
    /// Where entry p of the system's `jacobianPattern` lives in `sparseJacobian`.
    let sparseJacobianPositions: UnsafeMutablePointer<Int>
    /// Whether the system writes its Jacobian straight into `sparseJacobian` (else the dense
    /// `savedJacobian` is evaluated and gathered).
    let writesSparseJacobian: Bool

    // MARK: Method coefficients (CVODE's l, tau, tq; 1-based where CVODE is)

    /// Coefficients l_0...l_q of the corrector polynomial: after convergence zn_j += l_j · acor.
    let l: UnsafeMutablePointer<Double>
    /// Recent step sizes, tau[1] the last one.
    let tau: UnsafeMutablePointer<Double>
    /// Test quantities: tq[1], tq[2], tq[3] error constants at orders q−1, q, q+1; tq[4] the
    /// Newton tolerance; tq[5] the constant relating acor to the order-(q+1) error.
    let tq: UnsafeMutablePointer<Double>

    // MARK: Forward sensitivities (BDF+Sensitivities.swift); empty until enabled

    /// Ns, the number of parameters whose sensitivities s_k = ∂y/∂p_k are integrated (0: none).
    @exclusivity(unchecked) var sensitivityCount = 0
    /// n·Ns: one column of the sensitivity history holds every s_k, s_k at offset k·n.
    @exclusivity(unchecked) var sensitivityWidth = 0
    /// Whether the local error test and the step-size choice include the sensitivities
    /// (CVODES's `errconS`).
    @exclusivity(unchecked) var sensitivityErrorControl = false
    /// The system's parameter index of each sensitivity.
    @exclusivity(unchecked) var sensitivityParameters: UnsafeMutablePointer<Int>
    /// Nordsieck history of the sensitivities, (qmax + 1) columns of width n·Ns, as `nordsieck`.
    @exclusivity(unchecked) var sensitivityNordsieck: UnsafeMutablePointer<Double>
    @exclusivity(unchecked) var sensitivityErrorWeights: UnsafeMutablePointer<Double>
    @exclusivity(unchecked) var sensitivityAbsoluteTolerances: UnsafeMutablePointer<Double>
    /// s_n − s_n(0), the Newton update, and ∂f/∂p_k at (t_n, y_n), each n·Ns.
    @exclusivity(unchecked) var sensitivityCorrection: UnsafeMutablePointer<Double>
    @exclusivity(unchecked) var sensitivityDelta: UnsafeMutablePointer<Double>
    @exclusivity(unchecked) var parameterDerivatives: UnsafeMutablePointer<Double>
    /// Scratch of n·Ns for norms.
    @exclusivity(unchecked) var sensitivityScratch: UnsafeMutablePointer<Double>
    /// J(t_n, y_n), the exact Jacobian at the step's solution, which the sensitivity equations
    /// need (the Newton matrix may hold an older one).
    @exclusivity(unchecked) var sensitivityJacobian: UnsafeMutablePointer<Double>
    /// Where J can be nonzero, by column (compressed: rows `sensitivityPatternRow[start[j] ..<
    /// start[j+1]]` of column j), from the system's `jacobianPattern`, so that J·s_k costs the
    /// nonzeros, not n² (dense when the system gives no pattern).
    @exclusivity(unchecked) var sensitivityPatternStart: UnsafeMutablePointer<Int>
    @exclusivity(unchecked) var sensitivityPatternRow: UnsafeMutablePointer<Int>
    @exclusivity(unchecked) var sensitivityConvergenceRate = 1.0
    @exclusivity(unchecked) var sensitivityCorrectionNorm = 0.0
    /// Counters of the sensitivity work since the last `reset` (CVODES's `nfSe`, `nniS`, …).
    @exclusivity(unchecked) public internal(set) var sensitivityStatistics = SensitivityStatistics()

    // MARK: Integration state

    @exclusivity(unchecked) var tn = 0.0
    @exclusivity(unchecked) var h = 0.0
    /// h the Nordsieck array is currently scaled for.
    @exclusivity(unchecked) var hscale = 0.0
    /// Step size and order chosen for the next step.
    @exclusivity(unchecked) var hprime = 0.0
    @exclusivity(unchecked) var qprime = 1
    /// Ratio of the new step to the old.
    @exclusivity(unchecked) var eta = 1.0
    /// Largest allowed η for the next step (1 after a failure: no growth).
    @exclusivity(unchecked) var etamax = CVODEConstants.etaMaxFirstStep
    @exclusivity(unchecked) var q = 1
    /// L = q + 1, the number of Nordsieck columns in use.
    @exclusivity(unchecked) var L = 2
    /// Steps to wait before considering an order change.
    @exclusivity(unchecked) var qwait = 2
    /// Steps since the last order decrease or step-size restart (`nscon`).
    @exclusivity(unchecked) var nscon = 0
    /// Last successful step size and order.
    @exclusivity(unchecked) var hu = 0.0
    @exclusivity(unchecked) var qu = 0
    /// γ = h/l_1 (the Newton-matrix coefficient), its value at the last factorisation, and
    /// their ratio.
    @exclusivity(unchecked) var gamma = 0.0
    @exclusivity(unchecked) var gammaAtFactorization = 0.0
    @exclusivity(unchecked) var gammaRatio = 1.0
    @exclusivity(unchecked) var rl1 = 1.0
    /// Newton convergence-rate estimate R; persists across steps until M is refactored.
    @exclusivity(unchecked) var convergenceRate = 1.0
    /// Norm of the previous Newton update.
    @exclusivity(unchecked) var previousUpdateNorm = 0.0
    /// Weighted norm of the accumulated correction of the last converged Newton solve.
    @exclusivity(unchecked) var correctionNorm = 0.0
    /// Step counts at the last factorisation and at the last Jacobian evaluation.
    @exclusivity(unchecked) var stepAtFactorization = 0
    @exclusivity(unchecked) var stepAtJacobian = 0
    /// Whether the Jacobian in `savedJacobian` was evaluated at this step's predicted state.
    @exclusivity(unchecked) var jacobianIsCurrent = false
    /// tq[5] saved with the correction stored in column qmax.
    @exclusivity(unchecked) var savedTq5 = 0.0
    /// Stop time in force for the current `advance` call.
    @exclusivity(unchecked) var stopTime: Double? = nil
    /// Where f last returned NaN or ±Inf in a rejected step attempt, and the components that did;
    /// if the step size then collapses near there, that is the error to report.
    @exclusivity(unchecked) var lastNonFiniteTime: Double? = nil
    @exclusivity(unchecked) var lastNonFiniteCulprits: [ODESolverError.Culprit] = []
    /// Whether `advance` has performed the initial set-up since the last `reset`.
    @exclusivity(unchecked) var started = false

    /// Counters since the last `reset(time:state:)`.
    @exclusivity(unchecked) public internal(set) var statistics = SolverStatistics()

    /// Whether M = I − γJ is factorised by the sparse LU (KLU) rather than a dense one: what
    /// `options.linearSolver` chose for this system.
    public var usesSparseLinearSolver: Bool { sparseNewtonMatrix != nil }

    /// Whether the Newton systems are solved by preconditioned GMRES (the Krylov path).
    public var usesKrylovLinearSolver: Bool { krylov != nil }
    /// Nonzeros of the sparse pattern of J and M (with the diagonal); nil on the dense path.
    public var jacobianNonzeros: Int? { jacobianStructure?.nonzeroCount }
    /// Multiply-adds of one ILU(0) set-up of the preconditioner (nil off the Krylov path).
    public var preconditionerUpdates: Int? { preconditioner?.updateCount }

    /// Nonzeros of the sparse Newton matrix M (its pattern with the diagonal) and of its last LU
    /// factors (0 before the first factorisation); nil on the dense path.
    public var sparseNonzeros: (matrix: Int, factors: Int)? {
        sparseNewtonMatrix.map { ($0.nonzeroCount, $0.factorNonzeros) }
    }
    /// Floating-point operations of the sparse LU's last factorisation (0 on the dense path).
    public var sparseFlops: Double { sparseNewtonMatrix?.flops ?? 0 }
    /// The ordering's estimate of the flops of one sparse factorisation (0 on the dense path).
    public var sparseEstimatedFlops: Double { sparseNewtonMatrix?.estimatedFlops ?? 0 }

    /// Time of the latest step: the solver has integrated up to here (`tn`).
    public var currentTime: Double { tn }
    /// Order and size of the last successful step.
    public var lastOrder: Int { qu }
    public var lastStepSize: Double { hu }

    /// Creates a workspace for `system`. Throws `invalidInput` for inconsistent options.
    public init(system: System, options: BDFOptions = BDFOptions()) throws {
        let n = system.dimension
        guard n >= 0 else {
            throw ODESolverError(kind: .invalidInput("The system has a negative dimension."), t: 0, stepSize: 0)
        }
        try BDFSolver.validate(options, dimension: n)
        self.systemBox = Box(system)
        self.options = options
        self.dimension = n
        self.maxOrder = options.maxOrder

        func vector(_ count: Int) -> UnsafeMutablePointer<Double> {
            let p = UnsafeMutablePointer<Double>.allocate(capacity: count)
            p.initialize(repeating: 0, count: count)
            return p
        }
        nordsieck = vector((maxOrder + 1) * n)
        errorWeights = vector(n)
        absoluteTolerances = vector(n)
        y = vector(n)
        correction = vector(n)
        delta = vector(n)
        fCurrent = vector(n)
        scratch = vector(n)
        jacobianScratch = vector(n)
        // The pattern is asked for once: a system may build it on every call.
        let pattern = system.jacobianPattern
        let structure =
            options.linearSolver == .automatic || options.linearSolver == .sparse || options.linearSolver == .krylov
            ? pattern.map { SparseLU.Structure(dimension: n, pattern: $0) } : nil
        var chosen: SparseLU? = nil
        var krylovStructure: SparseLU.Structure? = nil
        if options.linearSolver == .krylov && n > 0 {
            // With no pattern every entry may be nonzero (ILU(0) is then the complete LU).
            krylovStructure =
                structure ?? SparseLU.Structure(dimension: n, pattern: (0..<(n * n)).map { ($0 % n, $0 / n) })
        } else if options.linearSolver.usesSparse(dimension: n, nonzeros: structure?.nonzeroCount) {
            // With no pattern (only `.sparse` gets here) every entry may be nonzero.
            let full = structure ?? SparseLU.Structure(dimension: n, pattern: (0..<(n * n)).map { ($0 % n, $0 / n) })
            let candidate = SparseLU(structure: full)
            // The automatic choice also weighs the fill the ordering predicts.
            if options.linearSolver == .sparse
                || BDFOptions.LinearSolver.sparseIsCheaper(dimension: n, estimatedFlops: candidate.estimatedFlops)
            {
                chosen = candidate
            }
            // Where the sparse LU would be taken, heavy fill makes GMRES with ILU(0) cheaper still.
            if options.linearSolver == .automatic && chosen != nil
                && BDFOptions.LinearSolver.krylovIsCheaper(
                    nonzeros: full.nonzeroCount, estimatedFlops: candidate.estimatedFlops)
            {
                chosen = nil
                krylovStructure = full
            }
        }
        if let sparse = chosen {
            let full = sparse.structure
            sparseNewtonMatrix = sparse
            newtonMatrix = nil
            jacobianStructure = full
            preconditioner = nil
            krylov = nil
            sparseJacobian = vector(sparse.nonzeroCount)
            let positions = full.entryPositions
            sparseJacobianPositions = .allocate(capacity: max(positions.count, 1))
            sparseJacobianPositions.initialize(from: positions, count: positions.count)
            writesSparseJacobian = system.providesJacobian && system.providesSparseJacobian && pattern != nil
            savedJacobian = vector(writesSparseJacobian ? 0 : n * n)
        } else if let full = krylovStructure {
            sparseNewtonMatrix = nil
            newtonMatrix = nil
            jacobianStructure = full
            preconditioner = IncompleteLU(structure: full)
            krylov = GMRES(dimension: n, maxDimension: options.krylovDimension, maxRestarts: options.krylovRestarts)
            sparseJacobian = vector(full.nonzeroCount)
            let positions = full.entryPositions
            sparseJacobianPositions = .allocate(capacity: max(positions.count, 1))
            sparseJacobianPositions.initialize(from: positions, count: positions.count)
            writesSparseJacobian = system.providesJacobian && system.providesSparseJacobian && pattern != nil
            savedJacobian = vector(writesSparseJacobian ? 0 : n * n)
        } else {
            // (Never factorized when n = 0: `stepWithoutState` takes over.)
            let dense = DenseLU(dimension: max(n, 1), backend: options.linearSolver.backend(forDimension: max(n, 1)))
            if let pattern { dense.useOrdering(forPattern: pattern) }
            newtonMatrix = dense
            sparseNewtonMatrix = nil
            jacobianStructure = nil
            preconditioner = nil
            krylov = nil
            sparseJacobian = vector(0)
            sparseJacobianPositions = .allocate(capacity: 1)
            writesSparseJacobian = false
            savedJacobian = vector(n * n)
        }
        l = vector(maxOrder + 2)
        tau = vector(maxOrder + 3)
        tq = vector(6)
        sensitivityParameters = .allocate(capacity: 0)
        sensitivityNordsieck = vector(0)
        sensitivityErrorWeights = vector(0)
        sensitivityAbsoluteTolerances = vector(0)
        sensitivityCorrection = vector(0)
        sensitivityDelta = vector(0)
        parameterDerivatives = vector(0)
        sensitivityScratch = vector(0)
        sensitivityJacobian = vector(0)
        sensitivityPatternStart = .allocate(capacity: 0)
        sensitivityPatternRow = .allocate(capacity: 0)
        switch options.absoluteTolerance {
        case .scalar(let atol):
            absoluteTolerances.update(repeating: atol, count: n)
        case .perComponent(let atols):
            for i in 0..<n { absoluteTolerances[i] = atols[i] }
        }
    }

    deinit {
        for p in [
            nordsieck, errorWeights, absoluteTolerances, y, correction, delta, fCurrent,
            scratch, jacobianScratch, savedJacobian, sparseJacobian, l, tau, tq,
        ] {
            p.deallocate()
        }
        sparseJacobianPositions.deallocate()
        deallocateSensitivityBuffers()
    }

    static func validate(_ o: BDFOptions, dimension n: Int) throws {
        func fail(_ message: String) throws -> Never {
            throw ODESolverError(kind: .invalidInput(message), t: 0, stepSize: 0)
        }
        guard o.relativeTolerance.isFinite, o.relativeTolerance >= 0 else {
            try fail("The relative tolerance must be a finite number ≥ 0, not \(o.relativeTolerance).")
        }
        let atols: [Double]
        switch o.absoluteTolerance {
        case .scalar(let a): atols = [a]
        case .perComponent(let a):
            guard a.count == n else { try fail("\(a.count) absolute tolerances were given for \(n) components.") }
            atols = a
        }
        for a in atols where !(a.isFinite && a >= 0) {
            try fail("Absolute tolerances must be finite numbers ≥ 0, not \(a).")
        }
        if o.relativeTolerance == 0 && atols.allSatisfy({ $0 == 0 }) {
            try fail("rtol and atol cannot both be zero.")
        }
        guard (1...5).contains(o.maxOrder) else { try fail("The BDF order must lie in 1...5, not \(o.maxOrder).") }
        guard o.maxSteps > 0 else { try fail("The step limit must be positive.") }
        guard o.minStep >= 0, o.maxStep > 0, o.minStep <= o.maxStep else {
            try fail("Step bounds must satisfy 0 ≤ minStep ≤ maxStep and maxStep > 0.")
        }
        if let h0 = o.initialStep, !(h0.isFinite && h0 > 0) { try fail("The initial step must be positive.") }
        guard o.maxNewtonIterations >= 1, o.maxErrorTestFailures >= 1, o.maxConvergenceFailures >= 1,
            o.newtonConvergenceCoefficient > 0, o.maxStepsBetweenFactorizations >= 1,
            o.maxStepsBetweenJacobians >= 1, o.maxGammaChangeBeforeFactorization >= 0,
            o.krylovDimension >= 1, o.krylovRestarts >= 0, o.linearToleranceFactor > 0
        else {
            try fail("Newton and failure limits must be positive.")
        }
    }

    // MARK: Start and restart

    /// Sets the initial condition `y(t0) = y0` and forgets the history: the next `advance` starts
    /// at order 1 with a fresh initial step. Statistics restart from zero unless
    /// `keepStatistics` (use it to restart after an event within one simulation).
    public func reset(time t0: Double, state y0: UnsafePointer<Double>, keepStatistics: Bool = false) {
        tn = t0
        nordsieck.update(from: y0, count: dimension)
        started = false
        q = 1
        L = 2
        qprime = 1
        qwait = 2
        qu = 0
        hu = 0
        eta = 1
        etamax = CVODEConstants.etaMaxFirstStep
        nscon = 0
        savedTq5 = 0
        convergenceRate = 1
        jacobianIsCurrent = false
        stepAtFactorization = 0
        stepAtJacobian = 0
        // A new run searches its own pivots: its result must not depend on the runs before it.
        sparseNewtonMatrix?.discardFactorization()
        tau.update(repeating: 0, count: maxOrder + 3)
        tq.update(repeating: 0, count: 6)
        l.update(repeating: 0, count: maxOrder + 2)
        if !keepStatistics {
            statistics = SolverStatistics()
            sensitivityStatistics = SensitivityStatistics()
        }
        if sensitivityCount > 0 {
            sensitivityNordsieck.update(repeating: 0, count: sensitivityWidth)
            sensitivityConvergenceRate = 1
        }
        lastNonFiniteTime = nil
        stepsSinceReset = 0
    }

    /// Steps taken since the last reset (CVODE's `nst`, which drives the update rules; the
    /// statistics may accumulate over several resets).
    @exclusivity(unchecked) var stepsSinceReset = 0

    public func reset(time t0: Double, state y0: [Double], keepStatistics: Bool = false) {
        precondition(y0.count == dimension, "state has \(y0.count) components, the system \(dimension)")
        y0.withUnsafeBufferPointer { reset(time: t0, state: $0.baseAddress!, keepStatistics: keepStatistics) }
    }

    // MARK: Advancing

    /// Integrates until `tout` is reached or passed and writes `y(tout)`, interpolated from the
    /// Nordsieck array, into `output` (CVODE's normal mode). With a `stopTime`, the solver never
    /// steps past it and returns there if it comes before `tout`. Returns the time of `output`.
    @discardableResult
    public func advance(
        to tout: Double, stopTime: Double? = nil,
        into output: UnsafeMutablePointer<Double>
    ) throws -> Double {
        guard tout.isFinite else { throw inputError("The output time must be finite, not \(tout).") }
        if let ts = stopTime {
            guard ts.isFinite, ts >= tn else {
                throw inputError("The stop time \(ts) lies before the current time \(tn).")
            }
        }
        self.stopTime = stopTime
        if dimension == 0 { return try stepWithoutState(to: stopTime.map { min($0, tout) } ?? tout) }
        if !started {
            guard tout > tn else {
                if tout == tn {
                    output.update(from: nordsieck, count: dimension)
                    return tn
                }
                throw inputError("The output time \(tout) lies before the start time \(tn).")
            }
            // The first step is sized for the whole interval to the stop time when there is one,
            // so that the choice of output times does not change the solution.
            try initialSetup(tout: stopTime.map { max($0, tout) } ?? tout)
            started = true
        } else {
            let fuzz = CVODEConstants.fuzzFactor * CVODEConstants.uround * (abs(tn) + abs(hu))
            if tout < tn - hu - fuzz {
                throw inputError("The output time \(tout) lies before the last step [\(tn - hu), \(tn)].")
            }
            if let reached = try arrival(at: tout, fuzz: fuzz, into: output) { return reached }
        }

        var stepsThisCall = 0
        while true {
            if stepsThisCall >= options.maxSteps {
                throw failure(.tooManySteps(stepsThisCall), culpritsFrom: nil)
            }
            try checkedStep()
            stepsThisCall += 1

            let fuzz = CVODEConstants.fuzzFactor * CVODEConstants.uround * (abs(tn) + abs(h))
            if let reached = try arrival(at: tout, fuzz: fuzz, into: output) { return reached }
        }
    }

    /// Where `advance` stops once `tn` is within `fuzz` of the stop time (not past `tout`) or at or
    /// past `tout`: that time, with the solution there in `output`. Otherwise nil, with the next
    /// step clamped to the stop time, and `advance` steps on.
    @inline(__always)
    private func arrival(at tout: Double, fuzz: Double, into output: UnsafeMutablePointer<Double>) throws -> Double? {
        if let ts = stopTime, abs(tn - ts) <= fuzz, ts <= tout {
            try interpolate(at: ts, into: output)
            return ts
        }
        if tn >= tout {
            try interpolate(at: tout, into: output)
            return tout
        }
        clampNextStepToStopTime()
        return nil
    }

    /// Takes exactly one internal step (CVODE's one-step mode), never past `stopTime`, and
    /// returns the time reached. Between the previous time and the returned one, `interpolate`
    /// gives the solution anywhere: metrics integrate over the solver's own steps this way.
    /// Returns the current time without stepping once it is at the stop time.
    @discardableResult
    public func step(stopTime ts: Double) throws -> Double {
        guard ts.isFinite, ts >= tn else { throw inputError("The stop time \(ts) lies before the current time \(tn).") }
        stopTime = ts
        if dimension == 0 { return try stepWithoutState(to: ts) }
        if !started {
            guard ts > tn else { return tn }
            try initialSetup(tout: ts)
            started = true
        } else {
            let fuzz = CVODEConstants.fuzzFactor * CVODEConstants.uround * (abs(tn) + abs(hu))
            if abs(tn - ts) <= fuzz { return tn }
            clampNextStepToStopTime()
        }
        if stepsSinceReset >= options.maxSteps {
            throw failure(.tooManySteps(stepsSinceReset), culpritsFrom: nil)
        }
        try checkedStep()
        return tn
    }

    /// A system without state variables (a model of parameters and time only) has nothing to
    /// integrate: one "step" goes straight to the requested time.
    func stepWithoutState(to t: Double) throws -> Double {
        guard t >= tn else { throw inputError("The time \(t) lies before the current time \(tn).") }
        if t > tn {
            hu = t - tn
            h = hu
            tn = t
            statistics.steps += 1
        }
        return tn
    }

    /// One step after CVODE's checks: fresh error weights, attainable tolerances, and a step
    /// that still changes t.
    @inline(__always)
    func checkedStep() throws {
        if stepsSinceReset > 0 {
            try computeErrorWeights(from: nordsieck)
            if sensitivityCount > 0 { try computeSensitivityErrorWeights() }
        }
        let tolerancesScale = CVODEConstants.uround * weightedNorm(nordsieck)
        if tolerancesScale > 1 {
            throw failure(.toleranceTooSmall(suggestedScale: 2 * tolerancesScale), culpritsFrom: nil)
        }
        if tn + h == tn { throw stepSizeFailure(culpritsFrom: nil) }
        try takeStep()
    }

    /// Whether the solver has reached `ts` (to round-off), as `step(stopTime:)` leaves it.
    public func hasReached(_ ts: Double) -> Bool {
        abs(tn - ts) <= CVODEConstants.fuzzFactor * CVODEConstants.uround * (abs(tn) + abs(hu))
    }

    /// Never let the next step pass the stop time (CVODE shortens it by 4 ulps so that t_n + h
    /// lands on, not beyond, the stop time).
    @inline(__always)
    func clampNextStepToStopTime() {
        if let ts = stopTime, tn + hprime > ts {
            hprime = (ts - tn) * (1 - 4 * CVODEConstants.uround)
            eta = hprime / h
        }
    }

    /// Writes the k-th derivative of the interpolating polynomial at `t` into `output`
    /// (CVODE's `CVodeGetDky`). `t` must lie within the last step.
    public func interpolate(at t: Double, derivative k: Int = 0, into output: UnsafeMutablePointer<Double>) throws {
        let n = dimension
        if n == 0 { return }
        guard k >= 0, k <= q else { throw inputError("Derivative order \(k) is outside 0...\(q).") }
        let fuzz = CVODEConstants.fuzzFactor * CVODEConstants.uround * (abs(tn) + abs(hu))
        guard t >= tn - hu - fuzz, t <= tn + fuzz else {
            throw inputError("Time \(t) is outside the last step [\(tn - hu), \(tn)].")
        }
        let s = (t - tn) / h
        if k == 0 && s == 0 {
            output.update(from: nordsieck, count: n)  // the step's own solution
            if options.nonNegative { for i in 0..<n where output[i] < 0 { output[i] = 0 } }
            return
        }
        if k == 0 {
            evaluateHistory(nordsieck, width: n, at: s, into: output)
            if options.nonNegative { for i in 0..<n where output[i] < 0 { output[i] = 0 } }
            return
        }
        for j in stride(from: q, through: k, by: -1) {
            var c = 1.0
            if k > 0 { for i in stride(from: j, through: j - k + 1, by: -1) { c *= Double(i) } }
            let column = nordsieck + j * n
            if j == q {
                for i in 0..<n { output[i] = c * column[i] }
            } else {
                for i in 0..<n { output[i] = c * column[i] + s * output[i] }
            }
        }
        if k > 0 {
            let r = 1 / pow(h, Double(k))
            for i in 0..<n { output[i] *= r }
        } else if options.nonNegative {
            // The steps are projected onto y ≥ 0 but the interpolating polynomial between them
            // is not; a user who asked for non-negative values gets them at every output.
            for i in 0..<n where output[i] < 0 { output[i] = 0 }
        }
    }

    /// Hands the last step's interpolating polynomial to `body`: the step (start, end], the time
    /// and step size the Nordsieck columns are centred and scaled on, the order, and the q + 1
    /// columns of n values. A run of a delay equation keeps these as its history.
    public func withLastStep(
        _ body: (
            _ start: Double, _ end: Double, _ tn: Double, _ h: Double, _ order: Int, _ nordsieck: UnsafePointer<Double>
        )
            -> Void
    ) {
        body(tn - hu, tn, tn, h, q, nordsieck)
    }

    /// Horner on the columns of a Nordsieck array: Σ_j z_j s^j, with s = (t − t_n)/h.
    @inline(__always)
    func evaluateHistory(
        _ z: UnsafePointer<Double>, width: Int, at s: Double, into output: UnsafeMutablePointer<Double>
    ) {
        let last = z + q &* width
        for i in 0..<width { output[i] = last[i] }
        var j = q &- 1
        while j >= 0 {
            let column = z + j &* width
            for i in 0..<width { output[i] = column[i] + s * output[i] }
            j &-= 1
        }
    }

    // MARK: Set-up of the first step

    /// f(t0, y0), the first step size, and the order-1 Nordsieck array.
    func initialSetup(tout: Double) throws {
        let n = dimension
        try computeErrorWeights(from: nordsieck)
        let f0 = nordsieck + n
        system.rhs(t: tn, y: nordsieck, dydt: f0)
        statistics.rhsEvaluations += 1
        if firstNonFinite(f0) != nil {
            throw nonFiniteFailure(source: "right-hand side", at: tn, values: f0)
        }
        var h0 = try options.initialStep ?? initialStepSize(tout: tout)
        if h0 > options.maxStep { h0 = options.maxStep }
        if h0 < options.minStep { h0 = options.minStep }
        if let ts = stopTime, tn + h0 > ts { h0 = (ts - tn) * (1 - 4 * CVODEConstants.uround) }
        h = h0
        hscale = h0
        hprime = h0
        if sensitivityCount > 0 {
            try computeSensitivityErrorWeights()
            try initialSensitivityDerivatives(f: f0, stepSize: h0)
        }
        for i in 0..<n { f0[i] *= h0 }
        statistics.initialStep = h0
        gamma = 0
        gammaRatio = 1
    }

    // MARK: Helpers

    /// Forms the error weights from `state`. Throws when a weight is undefined.
    @inline(__always)
    func computeErrorWeights(from state: UnsafePointer<Double>) throws {
        let rtol = options.relativeTolerance
        for i in 0..<dimension {
            let tol = rtol * abs(state[i]) + absoluteTolerances[i]
            if !(tol > 0) {
                throw ODESolverError(
                    kind: .invalidErrorWeight, t: tn, stepSize: h,
                    culprits: [culprit(i, value: state[i], weighted: .infinity)])
            }
            errorWeights[i] = 1 / tol
        }
    }

    /// Weighted root-mean-square norm `sqrt(mean((v_i W_i)^2))`.
    @inline(__always)
    func weightedNorm(_ v: UnsafePointer<Double>) -> Double {
        var sum = 0.0
        for i in 0..<dimension {
            let x = v[i] * errorWeights[i]
            sum += x * x
        }
        return (sum / Double(dimension)).squareRoot()
    }

    @inline(__always)
    func firstNonFinite(_ v: UnsafePointer<Double>) -> Int? {
        for i in 0..<dimension where !v[i].isFinite { return i }
        return nil
    }

    func inputError(_ message: String) -> ODESolverError {
        ODESolverError(kind: .invalidInput(message), t: tn, stepSize: h)
    }

    func culprit(_ i: Int, value: Double, weighted: Double) -> ODESolverError.Culprit {
        .init(index: i, name: system.componentName(i), value: value, weightedError: weighted)
    }

    /// An error naming the (up to three) components with the largest weighted `errors`.
    func failure(_ kind: ODESolverError.Kind, culpritsFrom errors: UnsafePointer<Double>?) -> ODESolverError {
        var worst: [ODESolverError.Culprit] = []
        if let errors {
            let order = (0..<dimension).sorted {
                abs(errors[$0] * errorWeights[$0]) > abs(errors[$1] * errorWeights[$1])
            }
            for i in order.prefix(3) {
                worst.append(culprit(i, value: nordsieck[i], weighted: abs(errors[i] * errorWeights[i])))
            }
        }
        return ODESolverError(kind: kind, t: tn, stepSize: h, culprits: worst)
    }

    /// The step size has collapsed. When f was non-finite just ahead, that is the real cause
    /// (a rate law undefined beyond this time, say) and the error says so.
    func stepSizeFailure(culpritsFrom errors: UnsafePointer<Double>?) -> ODESolverError {
        if let tBad = lastNonFiniteTime, abs(tBad - tn) <= 1e3 * max(abs(hu), abs(h)) {
            return ODESolverError(
                kind: .nonFiniteValues(source: "right-hand side"), t: tn, stepSize: h,
                culprits: lastNonFiniteCulprits)
        }
        return failure(.stepSizeTooSmall, culpritsFrom: errors)
    }

    func nonFiniteFailure(source: String, at t: Double, values: UnsafePointer<Double>) -> ODESolverError {
        var names: [ODESolverError.Culprit] = []
        for i in 0..<dimension where !values[i].isFinite && names.count < 3 {
            names.append(culprit(i, value: values[i], weighted: .nan))
        }
        return ODESolverError(kind: .nonFiniteValues(source: source), t: t, stepSize: h, culprits: names)
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
