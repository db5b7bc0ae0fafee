import ODESolver

/// ROBER (Robertson 1966): A → B (0.04), 2B → B + C (3e7), B + C → A + C (1e4).
/// y1 + y2 + y3 = 1 is invariant.
public struct Robertson: ReferenceProblem {
    public let endTime: Double
    public let referenceSolution: [Double]
    /// The rate constants (the reference solutions are for these values).
    public var p1 = 0.04
    public var p2 = 1e4
    public var p3 = 3e7

    /// ROBER to t = 40 (Hairer & Wanner value, Radau rtol 1e-13) or t = 1e5 (test-set table).
    public init(endTime: Double = 1e5) {
        self.endTime = endTime
        switch endTime {
        case 40:
            referenceSolution = [0.7158270687194052, 9.185534764557774e-06, 0.2841637457458301]
        case 1e5:
            referenceSolution = [0.1786592114209946e-01, 0.7274751468436319e-07, 0.9821340061103859]
        default:
            preconditionFailure("ROBER references exist for t = 40 and 1e5")
        }
    }

    public var name: String { "ROBER to \(endTime == 40 ? "40" : "1e5")" }
    public var dimension: Int { 3 }
    public var initialState: [Double] { [1, 0, 0] }
    public var providesJacobian: Bool { true }

    public func rhs(t: Double, y: UnsafePointer<Double>, dydt: UnsafeMutablePointer<Double>) {
        let a = p1 * y[0]
        let b = p2 * y[1] * y[2]
        let c = p3 * y[1] * y[1]
        dydt[0] = -a + b
        dydt[1] = a - b - c
        dydt[2] = c
    }

    public func jacobian(
        t: Double, y: UnsafePointer<Double>, dydt: UnsafePointer<Double>,
        jacobian J: UnsafeMutablePointer<Double>
    ) {
        // Column-major: J[i + 3j] = ∂f_i/∂y_j.
        J[0] = -p1
        J[3] = p2 * y[2]
        J[6] = p2 * y[1]
        J[1] = p1
        J[4] = -p2 * y[2] - (2 * p3) * y[1]
        J[7] = -p2 * y[1]
        J[2] = 0
        J[5] = (2 * p3) * y[1]
        J[8] = 0
    }

    /// The rate constants p1, p2, p3 as parameters (CVODES's `cvsRoberts_FSA_dns`), for forward
    /// sensitivities.
    public var parameterCount: Int { 3 }

    public func parameterDerivative(
        t: Double, y: UnsafePointer<Double>, dydt: UnsafePointer<Double>, parameter k: Int,
        derivative: UnsafeMutablePointer<Double>
    ) {
        switch k {
        case 0:
            derivative[0] = -y[0]
            derivative[1] = y[0]
        case 1:
            derivative[0] = y[1] * y[2]
            derivative[1] = -y[1] * y[2]
        default:
            derivative[1] = -y[1] * y[1]
            derivative[2] = y[1] * y[1]
        }
    }
}
