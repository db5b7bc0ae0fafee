import ODESolver
import StiffProblems

/// ROBER whose analytic Jacobian is changed after evaluation by `alter`: the wrong Jacobians that
/// failure and Jacobian-check tests need.
struct AlteredJacobianRobertson: ODESystem {
    let base = Robertson()
    let alter: (UnsafeMutablePointer<Double>) -> Void
    var dimension: Int { 3 }
    var providesJacobian: Bool { true }

    func rhs(t: Double, y: UnsafePointer<Double>, dydt: UnsafeMutablePointer<Double>) {
        base.rhs(t: t, y: y, dydt: dydt)
    }

    func jacobian(
        t: Double, y: UnsafePointer<Double>, dydt: UnsafePointer<Double>, jacobian: UnsafeMutablePointer<Double>
    ) {
        base.jacobian(t: t, y: y, dydt: dydt, jacobian: jacobian)
        alter(jacobian)
    }
}
