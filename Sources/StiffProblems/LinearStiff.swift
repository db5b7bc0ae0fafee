import ODESolver

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// y' = A y with A = P D P⁻¹, eigenvalues D = (−1, −1e3, −1e6) and P the unit lower-triangular
/// matrix of ones, so y(t) = P exp(Dt) P⁻¹ y0 in closed form. Stiffness ratio 10⁶, non-normal A.
public struct LinearStiff: ReferenceProblem {
    public static let eigenvalues = [-1.0, -1e3, -1e6]
    public let endTime: Double

    public init(endTime: Double = 10) { self.endTime = endTime }

    public var name: String { "linear stiff (λ = −1, −1e3, −1e6)" }
    public var dimension: Int { 3 }
    public var initialState: [Double] { [1, 2, 3] }
    public var referenceSolution: [Double] { exactSolution(at: endTime) }
    public var providesJacobian: Bool { true }

    /// A = P D P⁻¹ with P = [[1,0,0],[1,1,0],[1,1,1]], P⁻¹ = [[1,0,0],[−1,1,0],[0,−1,1]].
    static let matrix: [Double] = {
        let d = eigenvalues
        let p: [[Double]] = [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
        let pInverse: [[Double]] = [[1, 0, 0], [-1, 1, 0], [0, -1, 1]]
        var a = [Double](repeating: 0, count: 9)  // row-major
        for i in 0..<3 { for j in 0..<3 { for k in 0..<3 { a[3 * i + j] += p[i][k] * d[k] * pInverse[k][j] } } }
        return a
    }()

    /// y(t) = P exp(Dt) P⁻¹ y0.
    public func exactSolution(at t: Double) -> [Double] {
        let y0 = initialState
        let z = [y0[0], y0[1] - y0[0], y0[2] - y0[1]].enumerated().map {
            $0.element * exp(LinearStiff.eigenvalues[$0.offset] * t)
        }
        return [z[0], z[0] + z[1], z[0] + z[1] + z[2]]
    }

    public func rhs(t: Double, y: UnsafePointer<Double>, dydt f: UnsafeMutablePointer<Double>) {
        let a = LinearStiff.matrix
        for i in 0..<3 { f[i] = a[3 * i] * y[0] + a[3 * i + 1] * y[1] + a[3 * i + 2] * y[2] }
    }

    public func jacobian(
        t: Double, y: UnsafePointer<Double>, dydt: UnsafePointer<Double>,
        jacobian J: UnsafeMutablePointer<Double>
    ) {
        let a = LinearStiff.matrix
        for i in 0..<3 { for j in 0..<3 { J[i + 3 * j] = a[3 * i + j] } }
    }
}
