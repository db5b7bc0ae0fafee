import ODESolver
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `BDFSolver.locateCrossing` (CVODE's Illinois search) against closed-form roots, and the number
/// of trial points it needs: a wrong Illinois weighting still brackets a root but creeps toward
/// it (an earlier version, with the weights swapped, stopped after 200 trials on exp(20t) − 2
/// at 0.076 instead of 0.0347).
@Suite("Root finding on the dense output")
struct RootFindingTests {
    struct Decay: ODESystem {
        var dimension: Int { 1 }
        func rhs(t: Double, y: UnsafePointer<Double>, dydt: UnsafeMutablePointer<Double>) { dydt[0] = -y[0] }
    }

    /// A solver that has reached t ≥ 1, so that `rootTolerance` = 100 ε (|t| + |h|) suits
    /// brackets in [0, 1] (in use the bracket lies inside the last step).
    func solverAfterOneStep() throws -> BDFSolver<Decay> {
        let solver = try BDFSolver(
            system: Decay(), options: BDFOptions(relativeTolerance: 1e-8, absoluteTolerance: 1e-12))
        solver.reset(time: 0, state: [1])
        var y = [0.0]
        try y.withUnsafeMutableBufferPointer { _ = try solver.advance(to: 1, into: $0.baseAddress!) }
        return solver
    }

    /// (g, exact root in [0, 1]); each crosses from negative to positive.
    static let functions: [(name: String, g: @Sendable (Double) -> Double, root: Double)] = [
        ("linear", { 3 * $0 - 1 }, 1.0 / 3),
        ("exp(20t) - 2", { exp(20 * $0) - 2 }, log(2) / 20),
        ("t^2 - 0.5", { $0 * $0 - 0.5 }, 0.5.squareRoot()),
        ("tanh(50 (t - 0.9))", { tanh(50 * ($0 - 0.9)) }, 0.9),
        ("(t - 0.25)^3", { pow($0 - 0.25, 3) }, 0.25),
    ]

    @Test(arguments: 0..<5)
    func locatesTheRootWithinTheToleranceInFewTrials(_ k: Int) throws {
        let (name, g, root) = Self.functions[k]
        let solver = try solverAfterOneStep()
        var trials = 0
        let found = solver.locateCrossing(from: 0, value: g(0), to: 1, value: g(1)) { t in
            trials += 1
            let value = g(t)
            return (value, value >= 0)
        }
        // The returned point is on the crossed side and within the tolerance of the root.
        #expect(found >= root, "\(name): \(found) before the root \(root)")
        #expect(found - root <= solver.rootTolerance, "\(name): \(found) vs \(root), tolerance \(solver.rootTolerance)")
        // Measured trials to 100 ε (|t| + |h|) ≈ 4.5e-14: linear 1 (an exact zero), tanh 10,
        // t² − 0.5 28, exp 40; the triple root of (t − 0.25)³, where every regula falsi
        // converges only linearly, 131. The bounds leave 1.5×.
        #expect(trials <= (name.hasPrefix("(t - 0.25)^3") ? 200 : 60), "\(name): \(trials) trials")
    }
}
