import Foundation
import ODESolver
import StiffProblems
import Testing

/// A → B → C with rate constants k1, k2 and A(0) = a0: closed-form states and sensitivities.
/// Parameters: 0 = k1, 1 = k2, 2 = a0 (an initial value: ∂f/∂a0 = 0, s(0) = e_A).
private struct Chain: ODESystem {
    var k1 = 1.3, k2 = 0.4, a0 = 2.0
    var dimension: Int { 3 }
    var providesJacobian: Bool { true }
    var parameterCount: Int { 3 }

    func rhs(t: Double, y: UnsafePointer<Double>, dydt: UnsafeMutablePointer<Double>) {
        dydt[0] = -k1 * y[0]
        dydt[1] = k1 * y[0] - k2 * y[1]
        dydt[2] = k2 * y[1]
    }

    func jacobian(
        t: Double, y: UnsafePointer<Double>, dydt: UnsafePointer<Double>, jacobian: UnsafeMutablePointer<Double>
    ) {
        jacobian[0] = -k1
        jacobian[1] = k1
        jacobian[4] = -k2
        jacobian[5] = k2
    }

    func parameterDerivative(
        t: Double, y: UnsafePointer<Double>, dydt: UnsafePointer<Double>, parameter k: Int,
        derivative: UnsafeMutablePointer<Double>
    ) {
        // Step j of the chain (j = 0: A → B, 1: B → C) moves k_j·y_j from species j to j + 1.
        guard k < 2 else { return }
        derivative[k] = -y[k]
        derivative[k + 1] = y[k]
    }

    /// (A, B, C) and their derivatives by k1, k2, a0 at time t.
    func exact(_ t: Double) -> (y: [Double], s: [[Double]]) {
        let e1 = exp(-k1 * t)
        let e2 = exp(-k2 * t)
        let d = k2 - k1
        let a = a0 * e1
        let b = a0 * k1 / d * (e1 - e2)
        let dA = [-t * a0 * e1, 0, e1]
        let dBdk1 = a0 * (k2 / (d * d) * (e1 - e2) - k1 / d * t * e1)
        let dBdk2 = a0 * k1 * (-(e1 - e2) / (d * d) + t * e2 / d)
        let dB = [dBdk1, dBdk2, k1 / d * (e1 - e2)]
        let s = (0..<3).map { j in [dA[j], dB[j], -dA[j] - dB[j] + (j == 2 ? 1 : 0)] }
        return ([a, b, a0 - a - b], s)
    }
}

/// ROBER with its rate constants as parameters p1, p2, p3 (CVODES's `cvsRoberts_FSA_dns`).
private typealias ParametricRobertson = Robertson

extension Robertson {
    fileprivate var p: [Double] {
        get { [p1, p2, p3] }
        set { (p1, p2, p3) = (newValue[0], newValue[1], newValue[2]) }
    }
}

/// Integrates to each of `times`, returning states and sensitivities there.
private func solve<S: ODESystem>(
    _ system: S, y0: [Double], s0: [Double]?, times: [Double], rtol: Double, atol: Double,
    errorControl: Bool = true, scales: [Double]? = nil
) throws -> (y: [[Double]], s: [[Double]], solver: BDFSolver<S>) {
    let solver = try BDFSolver(system: system, options: BDFOptions(relativeTolerance: rtol, absoluteTolerance: atol))
    if let s0 {
        try solver.enableSensitivities(
            parameters: Array(0..<system.parameterCount), parameterScales: scales, errorControl: errorControl)
        solver.reset(time: 0, state: y0, sensitivities: s0)
    } else {
        solver.reset(time: 0, state: y0)
    }
    var ys: [[Double]] = []
    var ss: [[Double]] = []
    var y = [Double](repeating: 0, count: system.dimension)
    var s = [Double](repeating: 0, count: system.dimension * (s0 == nil ? 0 : system.parameterCount))
    for t in times {
        let reached = try y.withUnsafeMutableBufferPointer { try solver.advance(to: t, into: $0.baseAddress!) }
        if s0 != nil {
            try s.withUnsafeMutableBufferPointer {
                try solver.interpolateSensitivities(at: reached, into: $0.baseAddress!)
            }
        }
        ys.append(y)
        ss.append(s)
    }
    return (ys, ss, solver)
}

@Suite("Forward sensitivities against closed forms and finite differences")
struct SensitivityTests {
    /// A → B → C: every sensitivity at 40 output times (dense output between steps) within a few
    /// tolerances of the closed form.
    @Test(arguments: [1e-6, 1e-9])
    func chainMatchesClosedForm(rtol: Double) throws {
        let chain = Chain()
        let times = (1...40).map { Double($0) * 0.5 }
        let run = try solve(
            chain, y0: [chain.a0, 0, 0], s0: [0, 0, 0, 0, 0, 0, 1, 0, 0], times: times,
            rtol: rtol, atol: rtol * 1e-3)
        var worst = 0.0
        for (k, t) in times.enumerated() {
            let exact = chain.exact(t)
            for j in 0..<3 {
                for i in 0..<3 {
                    let error = abs(run.s[k][j * 3 + i] - exact.s[j][i]) / (rtol * abs(exact.s[j][i]) + rtol * 1e-3)
                    worst = max(worst, error)
                }
            }
        }
        print("chain, rtol \(rtol): worst sensitivity error \(worst) × tolerance; \(run.solver.sensitivityStatistics)")
        // The global error of a BDF code accumulates local errors held at the tolerance (see
        // ReferenceProblemTests): the same 50 × tolerance bound as the states.
        #expect(worst < 50)
        #expect(run.solver.sensitivityStatistics.newtonIterations >= run.solver.statistics.steps)
    }

    /// Without error control on the sensitivities the state takes exactly the steps of a run
    /// without them, to the last bit, as long as their corrector converges with the state's
    /// matrix (the staggered corrector then never feeds back).
    @Test func withoutErrorControlTheStateIsUntouched() throws {
        let chain = Chain()
        let times = (1...20).map { Double($0) }
        let plain = try solve(chain, y0: [chain.a0, 0, 0], s0: nil, times: times, rtol: 1e-6, atol: 1e-9)
        let with = try solve(
            chain, y0: [chain.a0, 0, 0], s0: [0, 0, 0, 0, 0, 0, 1, 0, 0], times: times,
            rtol: 1e-6, atol: 1e-9, errorControl: false)
        #expect(with.solver.sensitivityStatistics.linearSetups == 0)
        #expect(with.solver.sensitivityStatistics.convergenceFailures == 0)
        #expect(plain.y == with.y)
        #expect(plain.solver.statistics == with.solver.statistics)
    }

    /// ROBER without error control: the sensitivities still agree with a tight error-controlled
    /// run to 1e-4 in d ln y / d ln p (measured: 2.4e-5).
    @Test func robertsonWithoutErrorControl() throws {
        let rober = ParametricRobertson()
        let times = [0.4, 4, 40, 400, 4e3, 4e4]
        let loose = try solve(
            rober, y0: [1, 0, 0], s0: Array(repeating: 0, count: 9), times: times,
            rtol: 1e-6, atol: 1e-10, errorControl: false, scales: rober.p)
        let tight = try solve(
            rober, y0: [1, 0, 0], s0: Array(repeating: 0, count: 9), times: times,
            rtol: 1e-10, atol: 1e-14, scales: rober.p)
        print("ROBER without error control: \(loose.solver.statistics); \(loose.solver.sensitivityStatistics)")
        var worst = 0.0
        for m in 0..<times.count {
            for k in 0..<3 {
                for i in 0..<3 {
                    let scale = rober.p[k] / max(abs(tight.y[m][i]), 1e-12)
                    worst = max(worst, abs(loose.s[m][k * 3 + i] - tight.s[m][k * 3 + i]) * scale)
                }
            }
        }
        print("ROBER without error control: worst difference in d ln y / d ln p \(worst)")
        #expect(worst <= 1e-4)
    }

    /// ROBER's sensitivities to p1, p2, p3 against central differences of tight solves, with
    /// error control (CVODES's cvsRoberts_FSA_dns set-up: parameter scales p̄ = p).
    @Test func robertsonMatchesCentralDifferences() throws {
        let base = ParametricRobertson()
        let times = [0.4, 4, 40, 400, 4e3]
        let run = try solve(
            base, y0: [1, 0, 0], s0: Array(repeating: 0, count: 9), times: times,
            rtol: 1e-9, atol: 1e-14, scales: base.p)
        for k in 0..<3 {
            var up = base
            var down = base
            let delta = base.p[k] * 1e-4
            up.p[k] += delta
            down.p[k] -= delta
            let yUp = try solve(up, y0: [1, 0, 0], s0: nil, times: times, rtol: 1e-12, atol: 1e-20).y
            let yDown = try solve(down, y0: [1, 0, 0], s0: nil, times: times, rtol: 1e-12, atol: 1e-20).y
            for (m, _) in times.enumerated() {
                for i in 0..<3 {
                    let difference = (yUp[m][i] - yDown[m][i]) / (2 * delta)
                    let ours = run.s[m][k * 3 + i]
                    // Normalised by p_k / max|y_i| so that every entry is on the scale of d ln y / d ln p.
                    let scale = base.p[k] / max(abs(run.y[m][i]), 1e-12)
                    #expect(
                        abs(ours - difference) * scale <= 1e-5 + 1e-5 * abs(difference) * scale,
                        "s[\(k)][\(i)] at t = \(times[m]): \(ours) against \(difference)")
                }
            }
        }
        #expect(run.solver.sensitivityStatistics.parameterDerivativeEvaluations > 0)
    }

    /// A dose at t = 1 (A += 1, independent of the parameters): the caller restarts with the
    /// sensitivities carried over, and they follow the closed form past the jump:
    /// ∂A/∂k1 = −t a0 e^{−k1 t} − (t − 1) e^{−k1 (t − 1)}.
    @Test func restartCarriesSensitivitiesAcrossAnEvent() throws {
        let chain = Chain()
        let solver = try BDFSolver(
            system: chain, options: BDFOptions(relativeTolerance: 1e-9, absoluteTolerance: 1e-12))
        try solver.enableSensitivities(parameters: [0], errorControl: true)
        solver.reset(time: 0, state: [chain.a0, 0, 0], sensitivities: [0, 0, 0])
        var y = [0.0, 0, 0]
        var s = [0.0, 0, 0]
        _ = try y.withUnsafeMutableBufferPointer { try solver.advance(to: 1, stopTime: 1, into: $0.baseAddress!) }
        try s.withUnsafeMutableBufferPointer { try solver.interpolateSensitivities(at: 1, into: $0.baseAddress!) }
        y[0] += 1
        solver.reset(time: 1, state: y, sensitivities: s, keepStatistics: true)
        for t in [1.5, 3, 6] {
            _ = try y.withUnsafeMutableBufferPointer { try solver.advance(to: t, into: $0.baseAddress!) }
            try s.withUnsafeMutableBufferPointer { try solver.interpolateSensitivities(at: t, into: $0.baseAddress!) }
            let exact = -t * chain.a0 * exp(-chain.k1 * t) - (t - 1) * exp(-chain.k1 * (t - 1))
            #expect(abs(s[0] - exact) <= 1e-7 * (1 + abs(exact)), "∂A/∂k1 at t = \(t): \(s[0]) against \(exact)")
        }
    }

    /// SUNDIALS' own example `cvsRoberts_FSA_dns -sensi stg t` (CVODES 6.4.1, STAGGERED with full
    /// error control, analytic Jacobian and sensitivity right-hand side): rtol 1e-4, atol
    /// (1e-8, 1e-14, 1e-6), p̄ = p, outputs at 0.4·10^k. Its run (built from Debian's sundials
    /// source as Scripts/build-cvode-anchor builds CVODE) took 994 steps (103, 124, 262, … at the
    /// outputs), 2288 f evaluations, 18 Jacobians, 195 factorisations and 1215 Newton iterations,
    /// 1475 sensitivity Newton iterations and 76 sensitivity error-test failures; at t = 4000 it
    /// printed y = (1.8319e-01, 8.9413e-07, 8.1681e-01), s_1 = (−4.7500e+00, −5.9947e-06,
    /// 4.7500e+00), s_2 = (1.8809e-05, 2.3131e-11, −1.8809e-05), s_3 = (−3.1348e-09, −1.8757e-14,
    /// 3.1348e-09). Measured here, stat3sim's counts equal all of these; the test allows 5 % for
    /// last-bit differences (FMA, the LU) that move a variable-step sequence.
    @Test func robertsonAgainstCVODESExample() throws {
        let rober = ParametricRobertson()
        var options = BDFOptions(relativeTolerance: 1e-4, absoluteTolerance: 1e-8)
        options.absoluteTolerance = .perComponent([1e-8, 1e-14, 1e-6])
        let solver = try BDFSolver(system: rober, options: options)
        try solver.enableSensitivities(parameters: [0, 1, 2], parameterScales: rober.p, errorControl: true)
        solver.reset(time: 0, state: [1, 0, 0], sensitivities: Array(repeating: 0, count: 9))
        var y = [0.0, 0, 0]
        var s = [Double](repeating: 0, count: 9)
        var at4000: (y: [Double], s: [Double]) = ([], [])
        for k in 0..<12 {
            let t = 0.4 * pow(10, Double(k))
            _ = try y.withUnsafeMutableBufferPointer { try solver.advance(to: t, into: $0.baseAddress!) }
            try s.withUnsafeMutableBufferPointer { try solver.interpolateSensitivities(at: t, into: $0.baseAddress!) }
            if k == 4 { at4000 = (y, s) }
        }
        let st = solver.statistics
        let ss = solver.sensitivityStatistics
        print("cvsRoberts_FSA_dns: \(st); \(ss)")
        func near(_ ours: Int, _ theirs: Int) -> Bool { abs(Double(ours - theirs)) <= 0.05 * Double(theirs) }
        #expect(near(st.steps, 994))
        #expect(near(st.rhsEvaluations + ss.rhsEvaluations, 2288))
        #expect(near(st.jacobianEvaluations, 18))
        #expect(near(st.newtonIterations, 1215))
        #expect(near(st.luFactorizations + ss.linearSetups, 195))
        #expect(near(ss.newtonIterations, 1475))
        #expect(near(ss.errorTestFailures, 76))
        let printed: [Double] = [
            -4.7500e+00, -5.9947e-06, 4.7500e+00, 1.8809e-05, 2.3131e-11, -1.8809e-05,
            -3.1348e-09, -1.8757e-14, 3.1348e-09,
        ]
        for (i, value) in [1.8319e-01, 8.9413e-07, 8.1681e-01].enumerated() {
            #expect(abs(at4000.y[i] - value) <= 1e-3 * abs(value), "y[\(i)] at t = 4000: \(at4000.y[i])")
        }
        for (i, value) in printed.enumerated() {
            #expect(abs(at4000.s[i] - value) <= 1e-3 * abs(value), "s[\(i / 3)][\(i % 3)] at t = 4000: \(at4000.s[i])")
        }
    }

    @Test func refusesParametersTheSystemDoesNotHave() throws {
        let solver = try BDFSolver(system: Chain())
        #expect(throws: ODESolverError.self) { try solver.enableSensitivities(parameters: [3]) }
        #expect(throws: ODESolverError.self) { try solver.enableSensitivities(parameters: [0], parameterScales: [0]) }
    }
}
