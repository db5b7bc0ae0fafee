import Foundation
import XCTest

@testable import Calibration

/// The optimiser against problems with certified or closed-form minima.
final class BoundedTrustRegionTests: XCTestCase {
    /// A least-squares problem as the optimiser sees it: ½‖r‖², gradient Jᵀr, Hessian JᵀJ.
    func model(_ r: [Double], _ jacobian: [[Double]]) -> QuadraticModel {
        let n = jacobian[0].count
        var g = [Double](repeating: 0, count: n)
        var h = [Double](repeating: 0, count: n * n)
        for (k, row) in jacobian.enumerated() {
            for i in 0..<n {
                g[i] += row[i] * r[k]
                for j in 0..<n { h[i * n + j] += row[i] * row[j] }
            }
        }
        return QuadraticModel(value: 0.5 * r.reduce(0) { $0 + $1 * $1 }, gradient: g, hessian: h)
    }

    /// NIST StRD nonlinear regression Misra1a, y = b1 (1 − exp(−b2 x)), from both of NIST's
    /// starting points: certified b1 = 2.3894212918E+02, b2 = 5.5015643181E-04, residual sum of
    /// squares 1.2455138894E-01.
    func testMisra1aReachesNISTsCertifiedValues() {
        let x = [77.6, 114.9, 141.1, 190.8, 239.9, 289.0, 332.8, 378.4, 434.8, 477.3, 536.8, 593.1, 689.1, 760.0]
        let y = [10.07, 14.73, 17.94, 23.93, 29.61, 35.18, 40.02, 44.82, 50.76, 55.05, 61.01, 66.40, 75.47, 81.78]
        // On the scale (b1/100, b2·1e4), so that both parameters are of order one.
        func evaluate(_ b: [Double]) -> QuadraticModel {
            let (b1, b2) = (b[0] * 100, b[1] * 1e-4)
            let r = zip(x, y).map { b1 * (1 - exp(-b2 * $0)) - $1 }
            let j = x.map { [(1 - exp(-b2 * $0)) * 100, b1 * $0 * exp(-b2 * $0) * 1e-4] }
            return model(r, j)
        }
        let optimizer = BoundedTrustRegion(lowerBounds: [0, 0], upperBounds: [100, 100])
        for start in [[5.0, 1.0], [2.5, 5.0]] {
            let result = optimizer.minimize(from: start, evaluate: evaluate)
            XCTAssertEqual(result.point[0] * 100, 2.3894212918E+02, accuracy: 2.3894212918E+02 * 1e-6, "\(start)")
            XCTAssertEqual(result.point[1] * 1e-4, 5.5015643181E-04, accuracy: 5.5015643181E-04 * 1e-6, "\(start)")
            XCTAssertEqual(2 * result.value, 1.2455138894E-01, accuracy: 1e-9, "\(start)")
            guard case .converged = result.status else { return XCTFail("\(start): \(result.status)") }
        }
    }

    /// Rosenbrock's function as residuals (10(x₂ − x₁²), 1 − x₁) with x₁ ≤ 0.5: the minimum lies on
    /// the bound at (0.5, 0.25), where the function is 0.125.
    func testRosenbrockStopsAtTheBound() {
        func evaluate(_ x: [Double]) -> QuadraticModel {
            model([10 * (x[1] - x[0] * x[0]), 1 - x[0]], [[-20 * x[0], 10], [-1, 0]])
        }
        let optimizer = BoundedTrustRegion(lowerBounds: [-2, -2], upperBounds: [0.5, 2])
        for start in [[-1.2, 1.0], [-2.0, -2.0], [0.5, 2.0]] {
            let result = optimizer.minimize(from: start, evaluate: evaluate)
            XCTAssertEqual(result.point[0], 0.5, accuracy: 1e-8, "\(start)")
            XCTAssertEqual(result.point[1], 0.25, accuracy: 1e-6, "\(start)")
            XCTAssertEqual(result.value, 0.125, accuracy: 1e-10, "\(start)")
        }
    }

    /// A point where the objective cannot be computed (as where a simulation fails) refuses the
    /// step and shrinks the region; the fit goes on. ½‖x − (3, 1)‖² with a Hessian that is 100×
    /// too small, so that steps overshoot to the radius, and no value beyond x₁ = 3.3.
    func testFailedEvaluationsShrinkTheRegionAndTheFitGoesOn() {
        struct Failed: Error {}
        var failures = 0
        let optimizer = BoundedTrustRegion(lowerBounds: [-10, -10], upperBounds: [10, 10])
        let result = optimizer.minimize(from: [1.6, 1]) { x in
            if x[0] > 3.3 {
                failures += 1
                throw Failed()
            }
            return QuadraticModel(
                value: 0.5 * ((x[0] - 3) * (x[0] - 3) + (x[1] - 1) * (x[1] - 1)), gradient: [x[0] - 3, x[1] - 1],
                hessian: [0.01, 0, 0, 0.01])
        }
        XCTAssertGreaterThan(failures, 0)
        XCTAssertEqual(result.point[0], 3, accuracy: 1e-4)
        XCTAssertEqual(result.point[1], 1, accuracy: 1e-4)
        guard case .converged = result.status else { return XCTFail("\(result.status)") }
    }

    /// An objective that cannot be computed at the start is a failed start with the reason.
    func testAFailureAtTheStartIsReported() {
        struct Unstable: Error, CustomStringConvertible { var description: String { "the solver diverged" } }
        let optimizer = BoundedTrustRegion(lowerBounds: [0], upperBounds: [1])
        let result = optimizer.minimize(from: [0.5]) { _ in throw Unstable() }
        XCTAssertEqual(result.status, .failed("the solver diverged"))
    }
}

/// Fits, Fisher information and profiles of a problem with closed forms: a straight line
/// intercept + slope·t observed with σ = 0.5 at t = 0…5 (Tests/Fixtures/petab_line), whose
/// maximum-likelihood estimate is ordinary least squares, whose Fisher information is XᵀX/σ²,
/// and whose profiles are exact parabolas: the 95 % interval is b̂ ± √(3.84 σ² (XᵀX)⁻¹).
final class LineFitTests: XCTestCase {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/petab_line/line.yaml").path
    let t = [0.0, 1, 2, 3, 4, 5]
    let y = [1.1, 2.9, 5.2, 6.8, 9.1, 11.0]
    let sigma = 0.5

    /// (XᵀX)⁻¹ and the least-squares estimate (intercept, slope).
    var leastSquares: (inverse: [[Double]], estimate: [Double]) {
        let n = Double(t.count)
        let st = t.reduce(0, +)
        let stt = t.reduce(0) { $0 + $1 * $1 }
        let sy = y.reduce(0, +)
        let sty = zip(t, y).reduce(0) { $0 + $1.0 * $1.1 }
        let det = n * stt - st * st
        let inverse = [[stt / det, -st / det], [-st / det, n / det]]
        return (inverse, [inverse[0][0] * sy + inverse[0][1] * sty, inverse[1][0] * sy + inverse[1][1] * sty])
    }

    func testTheFitIsOrdinaryLeastSquares() throws {
        let problem = try PEtabProblem.load(path: Self.path)
        let fitter = PEtabFitter(problem: problem)
        let objective = try PEtabObjective(problem: problem, rtol: 1e-8, atol: 1e-12)
        let result = fitter.fit(start: 1, from: [-7, 9], objective: objective)
        let (_, estimate) = leastSquares
        XCTAssertEqual(result.parameters[0], estimate[0], accuracy: 1e-9)
        XCTAssertEqual(result.parameters[1], estimate[1], accuracy: 1e-9)
        let rss = zip(t, y).reduce(0) { $0 + pow($1.1 - estimate[0] - estimate[1] * $1.0, 2) }
        let nll = 0.5 * Double(t.count) * log(2 * Double.pi * sigma * sigma) + 0.5 * rss / (sigma * sigma)
        XCTAssertEqual(result.value, nll, accuracy: 1e-9)
    }

    func testTheFisherInformationIsXTXOverSigmaSquared() throws {
        let problem = try PEtabProblem.load(path: Self.path)
        let objective = try PEtabObjective(problem: problem)
        let fisher = try objective.evaluate(values: ["intercept": 0.3, "slope": -1.2], fisher: true).fisher!
        let n = Double(t.count)
        let st = t.reduce(0, +)
        let stt = t.reduce(0) { $0 + $1 * $1 }
        let expected = [n, st, st, stt].map { $0 / (sigma * sigma) }
        for k in 0..<4 { XCTAssertEqual(fisher[k], expected[k], accuracy: 1e-9 * expected[k]) }
    }

    func testProfilesGiveTheExactIntervals() throws {
        let problem = try PEtabProblem.load(path: Self.path)
        let fitter = PEtabFitter(problem: problem)
        let objective = try PEtabObjective(problem: problem, rtol: 1e-8, atol: 1e-12)
        let profiler = ProfileLikelihood(fitter: fitter)
        let optimum = profiler.refine([0, 0], objective: objective)
        let (inverse, estimate) = leastSquares
        for i in 0..<2 {
            let profile = try profiler.profile(
                i, optimum: optimum.parameters, objective: optimum.value, using: objective)
            let half = (3.84 * sigma * sigma * inverse[i][i]).squareRoot()
            XCTAssertEqual(profile.lower!, estimate[i] - half, accuracy: 1e-3 * half, profile.parameter)
            XCTAssertEqual(profile.upper!, estimate[i] + half, accuracy: 1e-3 * half, profile.parameter)
            // Every point on the parabola 2ΔNLL = (b − b̂)² / (σ² (XᵀX)⁻¹ᵢᵢ).
            for point in profile.points {
                let d = point.value - estimate[i]
                XCTAssertEqual(point.ratio, d * d / (sigma * sigma * inverse[i][i]), accuracy: 1e-6)
            }
            XCTAssertEqual(profile.points.map(\.value), profile.points.map(\.value).sorted())
            XCTAssertNil(profile.better)
        }
    }
}

/// The Fisher information of an ODE problem against one assembled from central differences of
/// the simulated observables and noise values (not from the sensitivities): Boehm 2014, whose
/// noise parameters are estimated, so that both shares (∂h and ∂σ) are checked.
final class PEtabFisherTests: XCTestCase {
    func testBoehmFisherInformationAgainstDifferencesOfTheSimulations() throws {
        let objective = try Problems.objective("Boehm_JProteomeRes2014")
        let problem = objective.problem
        let ids = problem.estimated.map(\.id)
        let n = ids.count
        let x = problem.estimated.map { $0.scale.scaled($0.nominalValue) + 0.05 }
        let value = try objective.evaluate(values: problem.linearValues(scaled: x), fisher: true)
        let step = 1e-4
        var dh: [[Double]] = []
        var dsigma: [[Double]] = []
        for i in 0..<n {
            var up = x
            var down = x
            up[i] += step
            down[i] -= step
            let a = try objective.evaluate(values: problem.linearValues(scaled: up))
            let b = try objective.evaluate(values: problem.linearValues(scaled: down))
            dh.append(zip(a.simulations, b.simulations).map { ($0 - $1) / (2 * step) })
            dsigma.append(zip(a.noise, b.noise).map { ($0 - $1) / (2 * step) })
        }
        // Boehm's observables are untransformed with normal noise: (∂h)²/σ² + 2 (∂σ)²/σ².
        var largest = 0.0
        var expected = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                for k in value.noise.indices {
                    let s2 = value.noise[k] * value.noise[k]
                    expected[i * n + j] += (dh[i][k] * dh[j][k] + 2 * dsigma[i][k] * dsigma[j][k]) / s2
                }
                largest = max(largest, abs(expected[i * n + j]))
            }
        }
        for k in 0..<(n * n) {
            XCTAssertEqual(value.fisher![k], expected[k], accuracy: 1e-5 * largest, "\(ids[k / n]), \(ids[k % n])")
        }
    }
}

/// A fit of an ODE problem reaches the best value known for it (Boehm 2014: 138.222, reached by
/// 1000-start campaigns elsewhere) from a start away from it: every parameter moved by 0.3 on its
/// log10 scale.
final class PEtabFitTests: XCTestCase {
    func testBoehmFitReachesTheBestKnownValue() throws {
        let problem = try PEtabProblem.load(path: Problems.path("Boehm_JProteomeRes2014"))
        let fitter = PEtabFitter(problem: problem)
        let objective = try PEtabObjective(problem: problem, rtol: 1e-8, atol: 1e-12)
        let start = problem.estimated.map { $0.scale.scaled($0.nominalValue) + 0.3 }
        let result = fitter.fit(start: 1, from: start, objective: objective)
        XCTAssertEqual(result.value, 138.222, accuracy: 1e-3, "\(result.status)")
        guard case .converged = result.status else { return XCTFail("\(result.status)") }
    }
}

/// Measurements at t = inf (the steady state of the simulation condition) and at a finite time
/// in one condition, against closed forms: A ⇌ B (kf, kr) from A = 1 (Tests/Fixtures/petab_steady),
/// B* = kf/(kf + kr), B(1) = B*(1 − e^{−(kf+kr)}).
final class SteadyStateMeasurementTests: XCTestCase {
    func testNLLAndGradientAtInfinityAgainstClosedForms() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/petab_steady/exchange.yaml").path
        let objective = try PEtabObjective(problem: PEtabProblem.load(path: path), rtol: 1e-10, atol: 1e-12)
        let sigma = 0.1
        for (kf, kr) in [(2.0, 1.0), (0.3, 4.0)] {
            let value = try objective.evaluate(values: ["kf": kf, "kr": kr], gradient: true)
            let k = kf + kr
            let steady = kf / k
            let e = exp(-k)
            // (datum, h, dh/dkf, dh/dkr)
            let data = [
                (0.6, steady, kr / (k * k), -kf / (k * k)),
                (0.35, 1 - steady, -kr / (k * k), kf / (k * k)),
                (0.5, steady * (1 - e), kr / (k * k) * (1 - e) + steady * e, -kf / (k * k) * (1 - e) + steady * e),
            ]
            var nll = 0.0
            var gradient = (kf: 0.0, kr: 0.0)
            for (y, h, dkf, dkr) in data {
                let r = y - h
                nll += 0.5 * log(2 * Double.pi * sigma * sigma) + 0.5 * r * r / (sigma * sigma)
                gradient.kf += -r / (sigma * sigma) * dkf * kf * M_LN10
                gradient.kr += -r / (sigma * sigma) * dkr * kr * M_LN10
            }
            XCTAssertEqual(value.nll, nll, accuracy: 1e-7)
            XCTAssertEqual(value.gradient!["kf"]!, gradient.kf, accuracy: 1e-6 * abs(gradient.kf))
            XCTAssertEqual(value.gradient!["kr"]!, gradient.kr, accuracy: 1e-6 * abs(gradient.kr))
        }
    }
}
