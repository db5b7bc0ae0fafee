import ODESolver

/// Van der Pol with μ = 1000, unscaled (test set "vdpolm"): relaxation oscillations.
public struct VanDerPol: ReferenceProblem {
    public init() {}
    public var name: String { "VDP mu=1000" }
    public var dimension: Int { 2 }
    public var endTime: Double { 2000 }
    public var initialState: [Double] { [2, 0] }
    public var referenceSolution: [Double] { [0.1706167732170469e+01, -0.8928097010248125e-03] }
    public var providesJacobian: Bool { true }

    public func rhs(t: Double, y: UnsafePointer<Double>, dydt f: UnsafeMutablePointer<Double>) {
        f[0] = y[1]
        f[1] = 1000 * (1 - y[0] * y[0]) * y[1] - y[0]
    }

    public func jacobian(
        t: Double, y: UnsafePointer<Double>, dydt: UnsafePointer<Double>,
        jacobian J: UnsafeMutablePointer<Double>
    ) {
        J[0] = 0
        J[2] = 1
        J[1] = -2000 * y[0] * y[1] - 1
        J[3] = 1000 * (1 - y[0] * y[0])
    }
}
