import ODESolver

/// OREGO (Field & Noyes, scaled Oregonator), n = 3, periodic with sharp fronts.
public struct Oregonator: ReferenceProblem {
    public init() {}
    public var name: String { "OREGO" }
    public var dimension: Int { 3 }
    public var endTime: Double { 360 }
    public var initialState: [Double] { [1, 2, 3] }
    public var referenceSolution: [Double] {
        [0.1000814870318523e+01, 0.1228178521549917e+04, 0.1320554942846706e+03]
    }
    public var providesJacobian: Bool { true }

    public func rhs(t: Double, y: UnsafePointer<Double>, dydt f: UnsafeMutablePointer<Double>) {
        f[0] = 77.27 * (y[1] + y[0] * (1 - 8.375e-6 * y[0] - y[1]))
        f[1] = (y[2] - (1 + y[0]) * y[1]) / 77.27
        f[2] = 0.161 * (y[0] - y[2])
    }

    public func jacobian(
        t: Double, y: UnsafePointer<Double>, dydt: UnsafePointer<Double>,
        jacobian J: UnsafeMutablePointer<Double>
    ) {
        J[0] = 77.27 * (1 - 2 * 8.375e-6 * y[0] - y[1])
        J[3] = 77.27 * (1 - y[0])
        J[6] = 0
        J[1] = -y[1] / 77.27
        J[4] = -(1 + y[0]) / 77.27
        J[7] = 1 / 77.27
        J[2] = 0.161
        J[5] = 0
        J[8] = -0.161
    }
}
