import Foundation
import ReactionModel
import TestSupport
import Testing

@testable import Simulation

/// Sensitivities of metrics (`stat3sim sensitivity`) against closed forms and against
/// differences of the metrics themselves.
@Suite("Sensitivities of metrics")
struct MetricSensitivityTests {
    static func settings(tEnd: Double? = nil) -> RunSettings {
        var settings = RunSettings()
        settings.rtol = 1e-10
        settings.atol = 1e-14
        settings.tEnd = tEnd
        return settings
    }

    static func metric(_ text: String, _ d: ModelDefinition) throws -> Metric {
        try Metric.parse(text, definition: d)
    }

    /// B of A → B → C (k1, k2, A0 = a0) in closed form.
    static func chainB(_ t: Double, k1: Double, k2: Double, a0: Double) -> Double {
        a0 * k1 / (k2 - k1) * (exp(-k1 * t) - exp(-k2 * t))
    }

    /// A function's derivative by fourth-order central differences (for closed forms).
    static func derivative(_ g: (Double) -> Double, at x: Double) -> Double {
        let h = 1e-3 * abs(x)
        return (-g(x + 2 * h) + 8 * g(x + h) - 8 * g(x - h) + g(x - 2 * h)) / (12 * h)
    }

    @Test("A → B → C: peak, time to peak, AUC and final of B by k1, k2 and A(0), as in closed form")
    func chainMetrics() throws {
        let d = try ModelLoader.load(source: SensitivityRunTests.chain, file: "chain.toml")
        let metrics = try ["peak:B", "time_to_peak:B", "auc:B", "final:B", "value_at@3:B"].map {
            try Self.metric($0, d)
        }
        let result = try Simulator(d).metricSensitivities(
            scenario: nil, settings: Self.settings(), metrics: metrics, parameters: ["k1", "k2", "A"])
        let (k1, k2, a0, tEnd) = (0.7, 0.3, 2.0, 10.0)
        func peakTime(_ k1: Double, _ k2: Double) -> Double { log(k1 / k2) / (k1 - k2) }
        func peak(_ k1: Double, _ k2: Double, _ a0: Double) -> Double {
            Self.chainB(peakTime(k1, k2), k1: k1, k2: k2, a0: a0)
        }
        func auc(_ k1: Double, _ k2: Double, _ a0: Double) -> Double {
            a0 * k1 / (k2 - k1) * ((1 - exp(-k1 * tEnd)) / k1 - (1 - exp(-k2 * tEnd)) / k2)
        }
        func final(_ k1: Double, _ k2: Double, _ a0: Double) -> Double { Self.chainB(tEnd, k1: k1, k2: k2, a0: a0) }
        func at3(_ k1: Double, _ k2: Double, _ a0: Double) -> Double { Self.chainB(3, k1: k1, k2: k2, a0: a0) }
        let closed: [(Double, Double, Double) -> Double] = [peak, { k1, k2, _ in peakTime(k1, k2) }, auc, final, at3]
        for (m, g) in closed.enumerated() {
            let expected = [
                Self.derivative({ g($0, k2, a0) }, at: k1), Self.derivative({ g(k1, $0, a0) }, at: k2),
                Self.derivative({ g(k1, k2, $0) }, at: a0),
            ]
            #expect(abs(result.metricValues[m] - g(k1, k2, a0)) <= 1e-6 * abs(g(k1, k2, a0)), "\(metrics[m].column)")
            for k in 0..<3 {
                let got = result.derivative(metric: m, parameter: k)
                // The AUC is the trapezoid rule on four points per step: its own error, not the
                // sensitivities', bounds the agreement.
                let tolerance = metrics[m].kind == .auc ? 1e-5 : 1e-6
                #expect(
                    abs(got - expected[k]) <= tolerance * max(abs(expected[k]), 1e-3),
                    "\(metrics[m].column) by \(result.parameters[k]): \(got) vs \(expected[k])")
            }
        }
        // Normalized: d ln peak / d ln A0 = 1 (B is linear in A0).
        #expect(abs(result.normalized(metric: 0, parameter: 2) - 1) <= 1e-6)
    }

    @Test("A ⇌ B: the steady state's sensitivities through its Jacobian and the conservation law")
    func steadyState() throws {
        let source = Fixtures.text("sensitivity_exchange.toml")
        let d = try ModelLoader.load(source: source, file: "exchange.toml")
        let result = try Simulator(d).metricSensitivities(
            scenario: nil, settings: Self.settings(), metrics: [try Self.metric("steady_state:B", d)],
            parameters: ["k1", "k2", "A", "B"])
        // B* = T k1 / (k1 + k2), T = A0 + B0.
        let (k1, k2, total) = (0.4, 0.1, 4.0)
        let expected = [
            total * k2 / ((k1 + k2) * (k1 + k2)), -total * k1 / ((k1 + k2) * (k1 + k2)), k1 / (k1 + k2),
            k1 / (k1 + k2),
        ]
        #expect(abs(result.metricValues[0] - total * k1 / (k1 + k2)) <= 1e-9)
        for k in 0..<4 {
            #expect(abs(result.derivative(metric: 0, parameter: k) - expected[k]) <= 1e-8, "by \(result.parameters[k])")
        }
    }

    @Test("classic.toml: peak, time to peak and final of pSTAT3_fraction against differences of the metrics")
    func classicAgainstDifferences() throws {
        let url = SensitivityRunTests.models.appendingPathComponent("classic.toml")
        let d = try ModelLoader.load(path: url.path)
        let metrics = try ["peak:pSTAT3_fraction", "time_to_peak:pSTAT3_fraction", "final:pSTAT3_fraction"].map {
            try Self.metric($0, d)
        }
        let names = ["kf5", "kf9", "k16", "k6", "k18a"]
        let simulator = Simulator(d)
        let result = try simulator.metricSensitivities(
            scenario: nil, settings: Self.settings(), metrics: metrics, parameters: names)
        for (k, name) in names.enumerated() {
            let value = result.parameterValues[k]
            let h = 1e-3 * value
            let shifted = try [2.0, 1, -1, -2].map { step -> [Double] in
                var settings = Self.settings()
                settings.overrides = [(name, value + step * h)]
                return try simulator.metricSensitivities(
                    scenario: nil, settings: settings, metrics: metrics, parameters: [name]
                ).metricValues
            }
            for m in metrics.indices {
                let difference =
                    (-shifted[0][m] + 8 * shifted[1][m] - 8 * shifted[2][m] + shifted[3][m]) / (12 * h)
                // Compared as normalized sensitivities (p/M · dM/dp), to 1e-4 of the metric's scale.
                let normalized = result.normalized(metric: m, parameter: k)
                let expected = difference * value / result.metricValues[m]
                #expect(
                    abs(normalized - expected) <= 1e-4, "\(metrics[m].column) by \(name): \(normalized) vs \(expected)")
            }
        }
    }
}
