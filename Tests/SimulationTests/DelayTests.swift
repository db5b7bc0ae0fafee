import Foundation
import ReactionModel
import Testing

@testable import Simulation

/// Delay differential equations (`delay(value, lag)`), each against a closed form obtained by
/// the method of steps: past values read from the run's history, before the start the initial
/// ones, jumps at events carried forward one lag later.
@Suite("Delay equations against closed forms")
struct DelayTests {
    static func column(_ course: TimeCourse, _ name: String) throws -> [Double] {
        try #require(course.column(named: name), "no column \(name) in \(course.columns)")
    }

    /// x' = −x(t − 1) with x = 1 up to the start. By steps: x = 1 − t on [0, 1],
    /// 1 − t + (t − 1)²/2 on [1, 2], and minus (t − 2)³/6 more on [2, 3].
    @Test(arguments: [1e-6, 1e-10])
    func theClassicLinearDelayEquation(rtol: Double) throws {
        let course = try StateEventTests.run(
            """
            [parameters]
            x = 1
            [rate_rules]
            x = "-delay(x, 1)"
            """, tEnd: 3, interval: 0.5, rtol: rtol, atol: rtol)
        func exact(_ t: Double) -> Double {
            var x = 1 - t
            if t > 1 { x += (t - 1) * (t - 1) / 2 }
            if t > 2 { x -= pow(t - 2, 3) / 6 }
            return x
        }
        let x = try DelayTests.column(course, "x")
        for (t, value) in zip(course.times, x) {
            #expect(abs(value - exact(t)) < 20 * rtol, "x(\(t)) = \(value), exact \(exact(t))")
        }
    }

    /// A lagged function of time reads time at the past instant, also before the start:
    /// y = delay(sin(t), 0.5) = sin(t − 0.5), and z' = delay(t, 2) gives z = t²/2 − 2t.
    @Test func pastValuesOfTimeReachBeforeTheStart() throws {
        let course = try StateEventTests.run(
            """
            [parameters]
            z = 0
            [rate_rules]
            z = "delay(t, 2)"
            [observables]
            y = "delay(sin(t), 0.5)"
            """, tEnd: 4, interval: 0.25, rtol: 1e-10, atol: 1e-12)
        let y = try DelayTests.column(course, "y")
        let z = try DelayTests.column(course, "z")
        for (k, t) in course.times.enumerated() {
            #expect(abs(y[k] - sin(t - 0.5)) < 1e-8, "y(\(t)) = \(y[k])")
            #expect(abs(z[k] - (t * t / 2 - 2 * t)) < 1e-8, "z(\(t)) = \(z[k])")
        }
    }

    /// An event sets p from 0 to 1 at t = 2 and A from 1 to 3 at t = 2: the past values follow
    /// one lag later, exactly there. z' = delay(p, 1) gives z(5) = 2; w' = delay(A, 1.5) gives
    /// w(5) = 3.5·1 + 1.5·3 = 8.
    @Test func jumpsAtEventsArriveOneLagLater() throws {
        let course = try StateEventTests.run(
            """
            [species]
            A = 1
            [parameters]
            p = 0
            z = 0
            w = 0
            [rate_rules]
            z = "delay(p, 1)"
            w = "delay(A, 1.5)"
            [[events]]
            at = 2
            set = { p = 1, A = 3 }
            """, tEnd: 5, interval: 0.5, rtol: 1e-8, atol: 1e-10)
        let z = try DelayTests.column(course, "z")
        let w = try DelayTests.column(course, "w")
        for (k, t) in course.times.enumerated() {
            let exactZ = max(0, t - 3)
            let exactW = t <= 3.5 ? t : 3.5 + 3 * (t - 3.5)
            #expect(abs(z[k] - exactZ) < 1e-7, "z(\(t)) = \(z[k]), exact \(exactZ)")
            #expect(abs(w[k] - exactW) < 1e-7, "w(\(t)) = \(w[k]), exact \(exactW)")
        }
    }

    /// A lag that is itself a past value (SBML Test Suite case 00985's form): x = t,
    /// lag = delay(x, 1) = t − 1 for t ≥ 1 (0 before), so y = x(t − lag) = 1 from t = 1 on.
    @Test func aLagThatIsAPastValue() throws {
        let course = try StateEventTests.run(
            """
            [parameters]
            x = 0
            [rate_rules]
            x = "1"
            [observables]
            lag = "delay(x, 1)"
            y = "delay(x, lag)"
            """, tEnd: 3, interval: 0.5, rtol: 1e-10, atol: 1e-12)
        let y = try DelayTests.column(course, "y")
        for (k, t) in course.times.enumerated() {
            let exact = t <= 1 ? t : 1
            #expect(abs(y[k] - exact) < 1e-8, "y(\(t)) = \(y[k]), exact \(exact)")
        }
    }

    /// A past value of a past value is refused by name (the run keeps states, not past values).
    @Test func aDelayInsideADelayIsRefused() throws {
        let error = #expect(throws: ModelError.self) {
            try ModelLoader.load(
                source: """
                    [parameters]
                    x = 1
                    [rate_rules]
                    x = "-delay(delay(x, 1), 1)"
                    """, file: "nested.toml")
        }
        #expect(error?.message.contains("delay(delay(x, 1), 1)") == true, "\(error?.message ?? "")")
    }

    /// The text form reads back to the same expression (what `export --toml` writes).
    @Test func theTextFormRoundTrips() throws {
        let e = try ExpressionParser.parse("k * delay(A + B, tau / 2)")
        #expect(try ExpressionParser.parse(ExpressionText.text(e)) == e)
        #expect(e.containsDelay)
        #expect(e.derivative(with: "A") == .number(0))
    }

    /// A steady state reads past values as present ones, also in its Jacobian: A' = k − d·A(t − 2)
    /// rests at k/d = 2 with eigenvalue −d (the stability at zero lag).
    @Test func aSteadyStateReadsPastValuesAsPresent() throws {
        let model = try ModelLoader.load(
            source: """
                [species]
                A = 0
                [parameters]
                k = 1
                d = 0.5
                [rate_rules]
                A = "k - d * delay(A, 2)"
                """, file: "dde-steady.toml")
        let simulator = Simulator(model)
        let settings = RunSettings()
        let solver = try SteadyStateSolver(network: simulator.network, options: simulator.solverOptions(settings))
        let result = try solver.solve(from: try simulator.initialState(scenario: nil, settings: settings))
        #expect(abs(result.state[0] - 2) < 1e-10, "A = \(result.state[0])")
        #expect(abs(try #require(result.eigenvalues.first).real + 0.5) < 1e-10, "\(result.eigenvalues)")
        #expect(result.stable)
    }

    /// Sensitivities of delay equations are refused, not silently wrong.
    @Test func sensitivitiesAreRefused() throws {
        let model = try ModelLoader.load(
            source: """
                [parameters]
                x = 1
                k = 1
                [rate_rules]
                x = "-k * delay(x, 1)"
                """, file: "dde.toml")
        var settings = RunSettings()
        settings.tEnd = 2
        settings.sensitivities = SensitivityRequest(parameters: ["k"])
        let text = message { _ = try Simulator(model).run(settings: settings) }
        #expect(text?.contains("delay") == true, "\(text ?? "no error")")
    }
}
