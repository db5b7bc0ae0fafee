/// Options of the BDF integrator. Every default is CVODE's (SUNDIALS 6.x, `cvode_impl.h`),
/// named after it, unless the comment says otherwise.
public struct BDFOptions: Sendable, Equatable {
    /// Absolute tolerance: one value for every component, or one per component.
    public enum AbsoluteTolerance: Sendable, Equatable {
        case scalar(Double)
        case perComponent([Double])
    }

    /// Relative tolerance `rtol` of the error weights `W_i = 1 / (rtol |y_i| + atol_i)`.
    /// CVODE has no default; 1e-6 is libRoadRunner's and COPASI's.
    public var relativeTolerance: Double = 1e-6

    /// Absolute tolerance `atol` (same units as y). Below it a component's error is not controlled,
    /// so it must sit well below the smallest concentration that matters. CVODE has no default.
    public var absoluteTolerance: AbsoluteTolerance = .scalar(1e-12)

    /// Highest BDF order used, 1...5 (`qmax`; CVODE's default for BDF is 5).
    public var maxOrder: Int = 5

    /// Most internal steps one `advance(to:)` call may take (`mxstep`). CVODE's default is 500,
    /// tuned for its own one-output-per-call usage; we integrate whole intervals per call, so the
    /// default is larger.
    public var maxSteps: Int = 100_000

    /// First step size; `nil` lets the solver choose it (`cvHin`).
    public var initialStep: Double? = nil

    /// Smallest step the solver may take (`hmin`, default 0).
    public var minStep: Double = 0

    /// Largest step the solver may take (`hmax`, default unbounded).
    public var maxStep: Double = .infinity

    /// Keep every component ≥ 0 (CVODE's constraint option with value 1 for all components):
    /// a Newton solution with a negative component is projected to zero when the violation is
    /// within the Newton tolerance, and the step is retried smaller otherwise.
    public var nonNegative: Bool = false

    /// Newton iterations per step attempt before declaring a convergence failure
    /// (`NLS_MAXCOR` = 3).
    public var maxNewtonIterations: Int = 3

    /// Safety factor on the Newton convergence test `R ‖δ‖ < coefficient · ε`
    /// (`nlscoef`, CVodeSetNonlinConvCoef, default 0.1): keeps iteration error an order
    /// below the local truncation error.
    public var newtonConvergenceCoefficient: Double = 0.1

    /// Error-test failures in one step before giving up (`MXNEF` = 7).
    public var maxErrorTestFailures: Int = 7

    /// Newton convergence failures in one step before giving up (`MXNCF` = 10).
    public var maxConvergenceFailures: Int = 10

    /// Steps between re-factorisations of `M = I − γJ` (`MSBP` = 20).
    public var maxStepsBetweenFactorizations: Int = 20

    /// Steps between Jacobian evaluations (`CVLS_MSBJ` = 51: J is re-evaluated at a
    /// factorisation once it is more than 50 steps old).
    public var maxStepsBetweenJacobians: Int = 51

    /// Relative change of γ = h/l₁ that forces a new factorisation (`DGMAX_LSETUP` = 0.3).
    public var maxGammaChangeBeforeFactorization: Double = 0.3

    /// How the Newton iteration solves with M = I − γJ: which LU back-end factorises it, or GMRES.
    public enum LinearSolver: Sendable, Equatable {
        /// The dense `.native` LU up to `automaticCrossover` unknowns; above it the sparse LU when
        /// the system gives a Jacobian pattern with at most `sparseDensityLimit` of the n² entries
        /// nonzero and the fill its ordering predicts leaves it cheaper than a dense LU
        /// (`sparseIsCheaper`), `.krylov` instead of that sparse LU when its predicted flops are
        /// more than `krylovFlopsPerNonzero` per nonzero of M (`krylovIsCheaper`), and `.lapack`
        /// otherwise.
        case automatic
        /// `.automatic`'s dense choice at every size: `.native` up to `automaticCrossover`,
        /// `.lapack` above.
        case dense
        /// LAPACK `dgetrf`/`dgetrs` (OpenBLAS) at every size.
        case lapack
        /// The Swift LU of `DenseLU` at every size.
        case native
        /// The sparse LU of `SparseLU` (SuiteSparse KLU) on the system's Jacobian pattern (every
        /// entry, when the system gives none), at every size.
        case sparse
        /// No LU: preconditioned GMRES (`GMRES`, CVODE's SPGMR with `krylovDimension` vectors and
        /// `krylovRestarts` restarts) on M = I − γJ with the sparse J of the system's pattern,
        /// left-preconditioned by the incomplete LU ILU(0) of M on that pattern (`IncompleteLU`),
        /// rebuilt when CVODE would refactor M. An inexact Newton iteration: each linear solve stops
        /// at `linearToleranceFactor` times the Newton tolerance.
        case krylov

        /// Largest n for which `.automatic` picks the Swift LU. Measured with
        /// `stat3sim bench-linear-algebra` (LU plus one solve of a reaction-network-like sparse
        /// matrix, the Newton matrix's shape): see the README's performance section.
        public static let automaticCrossover = 80

        /// Largest fraction of nonzeros (distinct entries of the pattern plus the diagonal, over
        /// n²) for which `.automatic` picks the sparse LU above `automaticCrossover`. Reaction
        /// networks of hundreds of species lie far below it (egfr_net: 0.03); a denser matrix
        /// fills in until the sparse LU does a dense LU's work with more bookkeeping.
        public static let sparseDensityLimit = 0.1

        /// How many times more flops per second LAPACK's blocked dense LU does than KLU's sparse
        /// refactorisation, measured end to end (one thread, release build): egfr_net does 9.1×
        /// fewer flops per LU with KLU (AMD's estimate) and solves 1.5× faster, BCR 12.8× fewer and
        /// 2.8× faster, so the dense LU does 4.6–6× more per second. `.automatic` takes the
        /// sparse LU only when the ordering's flop estimate times this stays below the dense LU's
        /// 2n³/3 (fceri_gamma2: 7.5× fewer; the README's "Large networks" has the numbers).
        public static let denseThroughputAdvantage = 6.0

        /// Whether a sparse LU whose ordering predicts `estimatedFlops` per factorisation beats a
        /// dense LU of n unknowns (fill-in can make a sparse pattern's factors nearly dense).
        public static func sparseIsCheaper(dimension n: Int, estimatedFlops: Double) -> Bool {
            let dense = 2 * Double(n) * Double(n) * Double(n) / 3
            return estimatedFlops * denseThroughputAdvantage <= dense
        }

        /// KLU's predicted flops per factorisation over the nonzeros of M above which `.automatic`
        /// takes the Krylov path instead of the sparse LU it would otherwise take: fill-in heavy
        /// enough that a complete LU costs far more than an ILU(0) of M's own size. Measured on the
        /// BioNetGen networks (one thread, release build; the README's "Large networks"): egfr_net
        /// (390 flops per nonzero, factors 4.5× M) solves 5.5× faster with Krylov than with KLU,
        /// BCR (1,880; 8.1×) 8.4×, fceri_gamma2 (37,500; 34×) 430×. Below 100 (banded and chain
        /// patterns, ≈ 1–10) the complete LU costs about what ILU(0) does and gives exact Newton
        /// steps, so the sparse LU stays; no network with a ratio between 10 and 390 was measured.
        public static let krylovFlopsPerNonzero = 100.0

        /// Whether the Krylov path beats a sparse LU whose ordering predicts `estimatedFlops` per
        /// factorisation of a matrix with `nonzeros` entries.
        public static func krylovIsCheaper(nonzeros: Int, estimatedFlops: Double) -> Bool {
            estimatedFlops > krylovFlopsPerNonzero * Double(nonzeros)
        }

        public func backend(forDimension n: Int) -> DenseLU.Backend {
            switch self {
            case .lapack: return .lapack
            case .native: return .native
            case .automatic, .dense, .sparse, .krylov: return n <= LinearSolver.automaticCrossover ? .native : .lapack
            }
        }

        /// Whether the Newton matrix of an n×n system is factorised by the sparse LU, given the
        /// distinct nonzeros of its pattern (nil: the system gives no pattern).
        public func usesSparse(dimension n: Int, nonzeros: Int?) -> Bool {
            switch self {
            case .sparse: return n > 0
            case .dense, .lapack, .native, .krylov: return false
            case .automatic:
                guard let nonzeros, n > LinearSolver.automaticCrossover else { return false }
                return Double(nonzeros) <= LinearSolver.sparseDensityLimit * Double(n) * Double(n)
            }
        }
    }

    /// LU back-end for the Newton matrix (CVODE's choice of SUNLinearSolver: its dense LU, KLU,
    /// or SPGMR with a preconditioner).
    public var linearSolver: LinearSolver = .automatic

    /// Largest Krylov dimension of GMRES on the `.krylov` path (`maxl`; SPGMR's default 5).
    public var krylovDimension: Int = 5

    /// GMRES restarts after the first `krylovDimension` iterations on the `.krylov` path
    /// (SPGMR's `max_restarts`, default 0: CVODE's Newton iteration, not GMRES, absorbs an
    /// inexact solve).
    public var krylovRestarts: Int = 0

    /// The linear solves on the `.krylov` path stop when the weighted RMS norm of the
    /// preconditioned residual is below this times the Newton tolerance (CVODE's `eplifac`,
    /// CVodeSetEpsLin, default `CVLS_EPLIN` = 0.05).
    public var linearToleranceFactor: Double = 0.05

    public init() {}

    /// Options with the given tolerances and CVODE's defaults otherwise.
    public init(relativeTolerance: Double, absoluteTolerance: Double) {
        self.relativeTolerance = relativeTolerance
        self.absoluteTolerance = .scalar(absoluteTolerance)
    }
}

/// The constants of CVODE's step-size and order control that are not user options
/// (`cvode_impl.h` / `cvode.c`, SUNDIALS 6.4). Named as there; comments say what they do.
enum CVODEConstants {
    /// Safety factor for the step at the current order (η = 1/((BIAS2·dsm)^(1/(q+1)) + ADDON)).
    static let bias2 = 6.0
    /// Safety factor for the step at order q−1.
    static let bias1 = 6.0
    /// Safety factor for the step at order q+1 (larger: an order increase must pay off).
    static let bias3 = 10.0
    /// Keeps η finite when the error estimate is zero.
    static let addon = 1e-6
    /// Largest growth on the first step (`eta_max_fs`).
    static let etaMaxFirstStep = 1e4
    /// Largest growth in the first `smallStepCount` steps (`eta_max_es`).
    static let etaMaxEarlySteps = 10.0
    /// Largest growth afterwards (`eta_max_gs`).
    static let etaMaxGeneral = 10.0
    static let smallStepCount = 10
    /// η in (0, 1.5) after a successful step leaves h unchanged (`eta_min_fx`, `eta_max_fx`):
    /// frequent small changes would force new LU factorisations for nothing.
    static let etaFixedLower = 0.0
    static let etaFixedUpper = 1.5
    /// Smallest reduction factor per failure (`eta_min`, `eta_min_ef`).
    static let etaMin = 0.1
    /// After `smallErrorFailures` error-test failures, η ≤ 0.2 (`eta_max_ef`).
    static let etaMaxAfterErrorFailures = 0.2
    static let smallErrorFailures = 2
    /// After this many error-test failures the order drops to 1 (`MXNEF1`).
    static let errorFailuresBeforeOrderOne = 3
    /// Step reduction after a Newton convergence failure (`eta_cf`).
    static let etaConvergenceFailure = 0.25
    /// Steps at order 1 without order change after a restart (`LONG_WAIT`).
    static let longWait = 10
    /// Newton rate estimate decay: R ← max(CRDOWN·R, ‖δ_m‖/‖δ_{m−1}‖).
    static let crdown = 0.3
    /// Newton divergence: ‖δ_m‖ > RDIV·‖δ_{m−1}‖.
    static let rdiv = 2.0
    /// A Jacobian is re-evaluated on a "bad J" failure only when |γ/γ̄ − 1| < this (`CVLS_DGMAX`).
    static let jacobianGammaChange = 0.2
    /// cvHin: lower bound factor on h0 (× round-off in t), upper bound fraction of the interval,
    /// final bias, and iteration cap.
    static let hinLowerBoundFactor = 100.0
    static let hinUpperBoundFactor = 0.1
    static let hinBias = 0.5
    static let hinMaxIterations = 4
    /// Round-off fuzz on t comparisons (`FUZZ_FACTOR`).
    static let fuzzFactor = 100.0
    /// Constraint-violation step reduction safety (`PT9`) and floor (`PT1`).
    static let constraintSafety = 0.9
    static let constraintEtaFloor = 0.1
    /// Unit round-off.
    static let uround = Double.ulpOfOne
}
