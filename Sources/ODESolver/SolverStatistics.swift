/// Work counters of one integration, named as CVODE's (`CVodeGetIntegratorStats` and friends).
public struct SolverStatistics: Sendable, Equatable, CustomStringConvertible {
    /// Internal steps taken (`nst`).
    public var steps = 0
    /// Right-hand-side evaluations for the integration itself (`nfe`).
    public var rhsEvaluations = 0
    /// Right-hand-side evaluations spent on finite-difference Jacobians (`nfeLS`).
    public var rhsEvaluationsForJacobian = 0
    /// Jacobian evaluations, analytic or finite-difference (`nje`).
    public var jacobianEvaluations = 0
    /// LU factorisations of `M = I − γJ` (`nsetups`; one LAPACK `dgetrf` each).
    public var luFactorizations = 0
    /// Of the LU factorisations, those by the sparse LU (KLU) with a new pivot search
    /// (`klu_factor`): the first of a run, and any after the old pivots went bad. 0 on the dense path.
    public var sparseFactorizations = 0
    /// Of the LU factorisations, those by the sparse LU that reused the last pivots
    /// (`klu_refactor`, CVODE's KLU refactorisation). 0 on the dense path.
    public var sparseRefactorizations = 0
    /// Newton iterations (`nni`), i.e. linear solves with the factorised M.
    public var newtonIterations = 0
    /// GMRES iterations on the Krylov path (`nli`), 0 on the direct paths.
    public var linearIterations = 0
    /// Incomplete-LU set-ups of the Krylov path's preconditioner (`npe`), 0 on the direct paths.
    public var preconditionerSetups = 0
    /// Linear solves on the Krylov path that did not meet their tolerance (`ncfl`); they count as
    /// Newton convergence failures when they stop the iteration.
    public var linearConvergenceFailures = 0
    /// Failed local error tests (`netf`).
    public var errorTestFailures = 0
    /// Newton convergence failures that cost a step-size reduction (`ncfn`).
    public var convergenceFailures = 0
    /// Order used on the last step (`qlast`).
    public var lastOrder = 0
    /// Size of the last step (`hlast`).
    public var lastStep = 0.0
    /// Size of the first step (`h0u`).
    public var initialStep = 0.0

    public init() {}

    /// Counters of two integrations added; `last*` fields are taken from `other`.
    public mutating func accumulate(_ other: SolverStatistics) {
        steps += other.steps
        rhsEvaluations += other.rhsEvaluations
        rhsEvaluationsForJacobian += other.rhsEvaluationsForJacobian
        jacobianEvaluations += other.jacobianEvaluations
        luFactorizations += other.luFactorizations
        sparseFactorizations += other.sparseFactorizations
        sparseRefactorizations += other.sparseRefactorizations
        newtonIterations += other.newtonIterations
        linearIterations += other.linearIterations
        preconditionerSetups += other.preconditionerSetups
        linearConvergenceFailures += other.linearConvergenceFailures
        errorTestFailures += other.errorTestFailures
        convergenceFailures += other.convergenceFailures
        lastOrder = other.lastOrder
        lastStep = other.lastStep
        if initialStep == 0 { initialStep = other.initialStep }
    }

    public var description: String {
        "steps \(steps), f evaluations \(rhsEvaluations) (+\(rhsEvaluationsForJacobian) for Jacobians), "
            + "Jacobians \(jacobianEvaluations), LU factorisations \(luFactorizations)"
            + (sparseFactorizations + sparseRefactorizations > 0
                ? " (sparse: \(sparseFactorizations) factorisations, \(sparseRefactorizations) refactorisations)" : "")
            + ", "
            + "Newton iterations \(newtonIterations), "
            + (preconditionerSetups > 0
                ? "Krylov: \(linearIterations) linear iterations, \(preconditionerSetups) preconditioner set-ups, "
                    + "\(linearConvergenceFailures) linear convergence failures, " : "")
            + "error-test failures \(errorTestFailures), "
            + "convergence failures \(convergenceFailures), last order \(lastOrder), "
            + "last step \(lastStep)"
    }
}
