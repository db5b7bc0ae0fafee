import Foundation
import ReactionModel
import Testing

@testable import Simulation

/// Discontinuities of the right-hand side (`Switch`): conditions in rate laws, rate rules and
/// observables are located, never stepped over, each against a closed form.
@Suite("Switches against closed forms")
struct SwitchTests {
    /// Expects each named column to end at its value, within `tolerance`.
    static func expectFinal(
        _ course: TimeCourse, _ expected: KeyValuePairs<String, Double>, within tolerance: Double
    ) throws {
        for (name, value) in expected {
            let last = try #require(course.column(named: name)?.last, "no column \(name) in \(course.columns)")
            #expect(abs(last - value) < tolerance, "\(name)(end) = \(last), exact \(value)")
        }
    }

    /// x' = 1 on 21 ≤ t ≤ 21.125, else 0: a pulse shorter than the steps the solver takes on
    /// the flat parts (the model): x(100) = 0.125 at any tolerance and output interval.
    static let pulse = """
        [parameters]
        x = 0
        [rate_rules]
        x = "if_less(t, 21, 0, if_less(21.125, t, 0, 1))"
        """

    @Test(arguments: [(100.0, 1e-3), (100.0, 1e-10), (10.0, 1e-6), (1.0, 1e-6), (0.5, 1e-2)])
    func aPulseShorterThanAnyStepIsHonoured(interval: Double, rtol: Double) throws {
        let course = try StateEventTests.run(SwitchTests.pulse, tEnd: 100, interval: interval, rtol: rtol, atol: rtol)
        try SwitchTests.expectFinal(course, ["x": 0.125], within: 1e-12)
    }

    /// A condition whose argument falls with time (10 − t < 0 from t = 10 on), one exactly at
    /// its boundary at the start (0 − t < 0 for every t > 0), and nested piecewise (z' = 1 before
    /// t = 10, 2 until t = 20, 3 after): x(30) = 20, y(30) = 30, z(15) = 20, z(30) = 60.
    @Test func decreasingStartingAndNestedConditions() throws {
        let course = try StateEventTests.run(
            """
            [parameters]
            x = 0
            y = 0
            z = 0
            [rate_rules]
            x = "if_less(10 - t, 0, 1, 0)"
            y = "if_less(0 - t, 0, 1, 0)"
            z = "if_less(t, 10, 1, if_less(t, 20, 2, 3))"
            """, tEnd: 30, interval: 15, rtol: 1e-4, atol: 1e-4)
        try SwitchTests.expectFinal(course, ["x": 20, "y": 30, "z": 60], within: 1e-10)
        #expect(abs(try #require(course.column(named: "z"))[1] - 20) < 1e-10)
    }

    /// A step in a first-order loss: A' = −k(t)·A with k = 0 before t = 5 and 1 after, so
    /// A(t) = e^{−(t − 5)} from t = 5 on.
    @Test func aStepInARateConstant() throws {
        let course = try StateEventTests.run(
            """
            [species]
            A = 1
            [observables]
            k = "if_less(t, 5, 0, 1)"
            [[reactions]]
            equation = "A ->"
            rate = "k * A"
            """, tEnd: 12, interval: 3)
        let a = try #require(course.column(named: "A"))
        for (t, value) in zip(course.times, a) {
            let exact = t <= 5 ? 1 : exp(-(t - 5))
            #expect(abs(value - exact) < 1e-8, "A(\(t)) = \(value), exact \(exact)")
        }
    }

    /// Periodic dosing written with floor: 2 per hour during the first `width` hours of every
    /// 24, cleared at 0.1 per hour. During a dose D → 20 + (D − 20)e^{−0.1 s}; between doses
    /// D → D e^{−0.1 s}. Outputs every 24 h only, so the doses lie between outputs.
    @Test(arguments: [1.0, 0.05])
    func periodicDosing(width: Double) throws {
        let course = try StateEventTests.run(
            """
            [parameters]
            width = \(width)
            [species]
            D = 0
            [observables]
            dose = "if_less(t - 24 * floor(t / 24), width, 2, 0)"
            [[reactions]]
            equation = "-> D"
            rate = "dose"
            [[reactions]]
            equation = "D ->"
            forward = 0.1
            """, tEnd: 120, interval: 24, rtol: 1e-9, atol: 1e-12)
        var exact = 0.0
        let d = try #require(course.column(named: "D"))
        for (k, value) in d.enumerated() {
            #expect(abs(value - exact) < 1e-7 * max(1, exact), "D(\(24 * k)) = \(value), exact \(exact)")
            exact = 20 + (exact - 20) * exp(-0.1 * width)
            exact *= exp(-0.1 * (24 - width))
        }
    }

    /// Conditions on the state, watched by root finding: A = e^{−t} falls below 0.5 at ln 2,
    /// after which B' = 1: B(5) = 5 − ln 2.
    @Test func aConditionOnTheState() throws {
        let course = try StateEventTests.run(
            StateEventTests.decayAndB + """

                [[reactions]]
                equation = "-> B"
                rate = "if_less(A, 0.5, 1, 0)"
                """, tEnd: 5, interval: 5)
        try SwitchTests.expectFinal(course, ["B": 5 - log(2)], within: 1e-8)
    }

    /// floor, ceil and abs of a state variable y = t: ∫₀^3.5 ⌊s⌋ ds = 4.5, ∫₀^2.5 ⌈s⌉ ds = 4.5
    /// (on [0, 2.5]), ∫₀^3.5 |s − 2| ds = 3.125; and floor of a falling time, ∫₀^2.5 ⌊10 − s⌋ ds = 20.5.
    @Test func floorCeilAndAbs() throws {
        let course = try StateEventTests.run(
            """
            [rate_rules]
            y = "1"
            f = "floor(y)"
            c = "if_less(t, 2.5, ceil(y), 0)"
            a = "if_less(t, 4, abs(y - 2), 0)"
            g = "if_less(t, 2.5, floor(10 - t), 0)"
            [parameters]
            y = 0
            f = 0
            c = 0
            a = 0
            g = 0
            """, tEnd: 3.5, interval: 3.5)
        try SwitchTests.expectFinal(course, ["f": 4.5, "c": 4.5, "a": 3.125], within: 1e-7)
        try SwitchTests.expectFinal(course, ["g": 20.5], within: 1e-9)
    }

    /// An output exactly at a switch shows the value there, not the one just after: at t = 2,
    /// `if_less(2, t, 1, 0)` is 0.
    @Test func anOutputAtASwitchShowsTheValueThere() throws {
        let course = try StateEventTests.run(
            """
            [rate_rules]
            x = "s"
            [observables]
            s = "if_less(2, t, 1, 0)"
            [parameters]
            x = 0
            """, tEnd: 4, interval: 1)
        let s = try #require(course.column(named: "s"))
        #expect(s == [0, 0, 0, 1, 1])
        try SwitchTests.expectFinal(course, ["x": 2], within: 1e-12)
    }
}

/// Model-file counterparts of the SBML cases: a species that may be negative, an equality on a
/// parameter that only events change.
@Suite("Negative species and equalities on event-only quantities")
struct EventOnlyEqualityTests {
    @Test func aNegativeSpeciesAndAFlagEquality() throws {
        let course = try StateEventTests.run(
            """
            [species]
            V = { initial = -70, may_be_negative = true }
            [parameters]
            flag = 0
            [[reactions]]
            equation = "V ->"
            rate = "2 * (V + 65)"
            [[events]]
            when = "t >= 5 and flag == 0"
            set = { V = -80, flag = 1 }
            """, tEnd: 10, interval: 2.5, atol: 1e-12)
        let v = try #require(course.column(named: "V"))
        // −65 − 5e^{−2t} before the event at t = 5, −65 − 15e^{−2(t − 5)} after it (once only).
        let exact = [-70, -65 - 5 * exp(-5.0), -80, -65 - 15 * exp(-5.0), -65 - 15 * exp(-10.0)]
        #expect(zip(v, exact).allSatisfy { abs($0 - $1) < 1e-7 }, "\(v)")
    }

    @Test func aNegativeInitialValueNeedsTheDeclaration() {
        #expect(throws: ModelError.self) {
            try ModelLoader.load(source: "[species]\nV = -70\n", file: "v.toml")
        }
    }
}
