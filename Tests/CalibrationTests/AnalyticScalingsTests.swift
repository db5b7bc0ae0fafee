import Foundation
import XCTest

@testable import Calibration

/// Scaling parameters in closed form (`fit --hierarchical`) on a problem with closed forms:
/// A(t) = e^{−kt} observed as scale·A with σ = 0.1 (Tests/Fixtures/petab_scaled), where the best
/// scale for a given k is Σ m e^{−kt} / Σ e^{−2kt}. Its second observable, scale_b·A with noise
/// 0.1·scale_b, is not a scaling (its parameter is in the noise).
final class AnalyticScalingsTests: XCTestCase {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/petab_scaled/decay.yaml").path
    let times = [0.5, 1, 2, 4]
    let data = [2.3, 1.5, 0.8, 0.25]

    func objective() throws -> PEtabObjective {
        try PEtabObjective(problem: PEtabProblem.load(path: Self.path), rtol: 1e-12, atol: 1e-14)
    }

    func testOnlyFactorsOfLinearNormalObservablesWithoutNoiseShareAreScalings() throws {
        let analytic = AnalyticScalings(objective: try objective())
        XCTAssertEqual(analytic.scalings.map(\.id), ["scale"])
        XCTAssertEqual(analytic.scalings.first?.rows, [0, 1, 2, 3])
        XCTAssertEqual(analytic.optimized, [0, 2])
        // intercept + slope·t: slope multiplies time, not the observable.
        let line = try PEtabObjective(problem: PEtabProblem.load(path: LineFitTests.path))
        XCTAssertTrue(AnalyticScalings(objective: line).scalings.isEmpty)
        let fujita = AnalyticScalings(objective: try Problems.objective("Fujita_SciSignal2010"))
        XCTAssertEqual(
            fujita.scalings.map(\.id), ["scaling_pAkt_tot", "scaling_pEGFR_tot", "scaling_pS6_tot"])
        XCTAssertEqual(fujita.optimized.count, 16)
    }

    func testTheScalingIsTheWeightedLeastSquaresFactorAndTheValueTheObjectives() throws {
        let objective = try objective()
        let analytic = AnalyticScalings(objective: objective)
        for k in [0.2, 0.7, 1.5] {
            let (model, scalings) = try analytic.quadraticModel(objective, at: [log10(k), 0.1])
            let g = times.map { exp(-k * $0) }
            let expected = zip(data, g).reduce(0) { $0 + $1.0 * $1.1 } / g.reduce(0) { $0 + $1 * $1 }
            XCTAssertEqual(scalings[0], expected, accuracy: 1e-8 * expected)
            let direct = try objective.evaluate(values: ["k": k, "scale": expected, "scale_b": pow(10, 0.1)])
            XCTAssertEqual(model.value, direct.nll, accuracy: 1e-8)
        }
    }

    func testAScalingBeyondItsBoundIsHeldThere() throws {
        let objective = try objective()
        let analytic = AnalyticScalings(objective: objective)
        // At k = 100 the data need scale ≈ 2.3 e^{50} ≫ 1000, the upper bound.
        let (model, scalings) = try analytic.quadraticModel(objective, at: [2, 0])
        XCTAssertEqual(scalings[0], 1000)
        let direct = try objective.evaluate(values: ["k": 100, "scale": 1000, "scale_b": 1])
        XCTAssertEqual(model.value, direct.nll, accuracy: 1e-8 * abs(direct.nll))
    }

    /// The profile's gradient (∂NLL/∂θ at s*, by the envelope theorem) against central
    /// differences of the profile value itself.
    func testTheProfileGradientAgainstCentralDifferences() throws {
        let objective = try objective()
        let analytic = AnalyticScalings(objective: objective)
        let x = [log10(0.6), 0.2]
        let gradient = try analytic.quadraticModel(objective, at: x).model.gradient
        let step = 1e-5
        for i in 0..<2 {
            var up = x
            var down = x
            up[i] += step
            down[i] -= step
            let difference =
                (try analytic.quadraticModel(objective, at: up).model.value
                    - analytic.quadraticModel(objective, at: down).model.value) / (2 * step)
            XCTAssertEqual(gradient[i], difference, accuracy: 1e-6 * abs(difference), "parameter \(i)")
        }
    }

    func testTheHierarchicalFitReachesTheFullFitsOptimum() throws {
        let problem = try PEtabProblem.load(path: Self.path)
        var fitter = PEtabFitter(problem: problem)
        let objective = try PEtabObjective(problem: problem, rtol: 1e-10, atol: 1e-12)
        let start = [0.5, -2.0, 1.5]
        let full = fitter.fit(start: 1, from: start, objective: objective)
        fitter.analyticScalings = AnalyticScalings(objective: objective)
        let hierarchical = fitter.fit(start: 1, from: start, objective: objective)
        XCTAssertEqual(hierarchical.value, full.value, accuracy: 1e-7)
        for i in 0..<3 { XCTAssertEqual(hierarchical.parameters[i], full.parameters[i], accuracy: 1e-4) }
        guard case .converged = hierarchical.status else { return XCTFail("\(hierarchical.status)") }
    }
}
