import Foundation
import ODESolver
import ReactionModel
import Testing

@testable import Simulation

/// State events (`when`), their delays and SBML attributes, and rate rules, each against a
/// closed-form solution (docs/model-format.md, "[[events]]", "State events").
@Suite("State events against closed-form solutions")
struct StateEventTests {
    static func run(
        _ source: String, scenario: String? = nil, tEnd: Double, interval: Double,
        rtol: Double = 1e-10, atol: Double = 1e-14
    ) throws -> TimeCourse {
        let model = try ModelLoader.load(source: source, file: "state_events.toml")
        var settings = RunSettings()
        settings.tEnd = tEnd
        settings.outputInterval = interval
        settings.rtol = rtol
        settings.atol = atol
        return try Simulator(model).run(scenario: scenario, settings: settings)
    }

    static func column(_ course: TimeCourse, _ name: String) throws -> [Double] {
        try #require(course.column(named: name), "no column \(name) in \(course.columns)")
    }

    /// A' = −A from A = 1, and B = 0, which reactions do not change: the tables that tests of one
    /// event complete with the event.
    static let decayAndB = """
        [species]
        A = 1
        B = 0
        [[reactions]]
        equation = "A ->"
        forward = 1
        """

    // MARK: Sawtooth

    /// A' = −A, reset to 1 whenever it falls below 0.1: firings at t = n ln 10, A = e^{−(t − n ln 10)}.
    /// `count` is a parameter with the rate rule 0, a state variable written to the output.
    static let sawtooth = """
        [species]
        A = 1
        [parameters]
        k = 1
        count = 0
        [rate_rules]
        count = "0"
        [[reactions]]
        equation = "A ->"
        forward = "k"
        [[events]]
        when = "A < 0.1"
        set = { A = 1, count = "count + 1" }
        """

    @Test func sawtoothResetsAtEachCrossing() throws {
        let course = try Self.run(Self.sawtooth, tEnd: 10, interval: 0.05)
        #expect(course.columns == ["A", "count"])
        let a = try Self.column(course, "A")
        let count = try Self.column(course, "count")
        let period = log(10.0)
        var worst = 0.0
        for (row, t) in course.times.enumerated() {
            let n = (t / period).rounded(.down)
            // No output within 1e-6 of a firing, where the measured firing time decides the side.
            #expect((n == 0 || abs(t - n * period) > 1e-6) && abs(t - (n + 1) * period) > 1e-6)
            let exact = exp(-(t - n * period))
            worst = max(worst, abs(a[row] - exact) / exact)
            #expect(count[row] == n, "count at \(t)")
        }
        // Measured worst relative error 2.0e-8, at the end. It grows linearly, 2.4e-9 per unit
        // time (the BDF's global error at rtol 1e-10), and is not reset by the events: each
        // firing happens when the numerical A reaches 0.1, so the firing time carries A's error
        // into the next tooth. 1e-7 allows 5×; a missed firing is off by O(1).
        #expect(worst <= 1e-7, "worst relative error of A: \(worst)")
        #expect(count.last == 4)
    }

    // MARK: Bouncing ball

    /// Rate rules on parameters, no species: h' = v, v' = −g; at h < 0 the ball bounces with
    /// v → −0.9 v. `bounces` counts them (rate rule 0).
    static let ballSource = """
        [parameters]
        h = 10
        v = 0
        g = 9.81
        bounces = 0
        [rate_rules]
        h = "v"
        v = "-g"
        bounces = 0
        [[events]]
        when = "h < 0"
        set = { v = "-0.9 * v", bounces = "bounces + 1" }
        """

    /// The closed form: the first impact at t₁ = √(2h₀/g) with speed v₁ = g t₁; after bounce k the
    /// ball leaves the floor at speed u_k = 0.9^k v₁ and is in the air for 2u_k/g.
    static func ball(at t: Double, h0: Double = 10, g: Double = 9.81) -> (
        h: Double, v: Double, bounces: Int, impacts: [Double]
    ) {
        let t1 = (2 * h0 / g).squareRoot()
        let v1 = g * t1
        var impacts = [t1]
        while impacts.count < 50 { impacts.append(impacts.last! + 2 * pow(0.9, Double(impacts.count)) * v1 / g) }
        if t < t1 { return (h0 - g * t * t / 2, -g * t, 0, impacts) }
        let k = impacts.lastIndex { $0 <= t }! + 1  // bounces so far
        let s = t - impacts[k - 1]
        let u = pow(0.9, Double(k)) * v1
        return (u * s - g * s * s / 2, u - g * s, k, impacts)
    }

    @Test func bouncingBallWithRateRulesOnParameters() throws {
        let course = try Self.run(Self.ballSource, tEnd: 10, interval: 0.05, rtol: 1e-10, atol: 1e-12)
        #expect(course.columns == ["h", "v", "bounces"])
        let h = try Self.column(course, "h")
        let v = try Self.column(course, "v")
        let bounces = try Self.column(course, "bounces")
        var worstH = 0.0
        var worstV = 0.0
        for (row, t) in course.times.enumerated() {
            let exact = Self.ball(at: t)
            #expect(!exact.impacts.contains { abs($0 - t) < 1e-6 })
            worstH = max(worstH, abs(h[row] - exact.h))
            worstV = max(worstV, abs(v[row] - exact.v))
            #expect(bounces[row] == Double(exact.bounces), "bounces at \(t)")
        }
        // Impacts at 1.428, 3.998, 6.311, 8.393 (the fifth, 10.27, is after the end).
        #expect(bounces.last == 4)
        // Measured worst errors: h 4.5e-9, v 5.0e-9 (h₀ = 10, |v| ≤ 14; rtol 1e-10, atol 1e-12).
        // Not round-off: BDF of order ≥ 2 is exact for the quadratic h, but the order-1 first
        // steps after the start and after each restart are not (local error g·Δt²/2 ≈ 1e-9: h is
        // off by −9e-10 before the first impact); the impact is then found that much early or
        // late, which changes v by ≈ 1.3e-9 at each bounce (v's error steps by that at each one
        // and is constant in between). 2e-8 allows 4×; an impact time off by a step would not.
        #expect(worstH <= 2e-8, "worst error of h: \(worstH)")
        #expect(worstV <= 2e-8, "worst error of v: \(worstV)")
    }

    // MARK: Delays

    /// A' = −A from 1; when A < 0.5 (at ln 2), after `delay`, B = A and T = t.
    static func delayed(_ extra: String, delay: String = "1", timedReset: Bool = false) -> String {
        """
        [species]
        A = 1
        B = 0
        T = 0
        [[reactions]]
        equation = "A ->"
        forward = 1
        [[events]]
        when = "A < 0.5"
        delay = \(delay)
        set = { B = "A", T = "t" }
        \(extra)
        \(timedReset ? "[[events]]\nat = 1\nset = { A = 1 }\n" : "")
        """
    }

    /// `delayed(extra)` run to t = 3 every 0.05: each output time with B and T there.
    static func delayedRows(_ extra: String) throws -> [(t: Double, b: Double, tt: Double)] {
        let course = try run(delayed(extra), tEnd: 3, interval: 0.05)
        let b = try column(course, "B")
        let tt = try column(course, "T")
        return course.times.enumerated().map { row, t in (t, b[row], tt[row]) }
    }

    @Test func delayedAssignmentsUseValuesFromTheTriggerTime() throws {
        let due = log(2.0) + 1
        for (t, b, tt) in try Self.delayedRows("") {
            // B = A(ln 2) = 0.5 and T = ln 2 (values from the firing), made at ln 2 + 1.
            let (eb, et) = t < due ? (0.0, 0.0) : (0.5, log(2.0))
            // B is the numerical A where root finding put its crossing of 0.5, good to the time
            // resolution 100 ε (|t| + |h|) ≈ 1e-13 times |A'| = 0.5: measured 7.8e-16.
            #expect(abs(b - eb) <= 1e-13, "B at \(t): \(b)")
            // T is that crossing time, off from ln 2 by A's relative error there (rtol 1e-10):
            // measured 1.13e-9; 1e-8 allows 9×.
            #expect(abs(tt - et) <= 1e-8, "T at \(t): \(tt)")
        }
    }

    @Test func delayedAssignmentsCanUseValuesFromTheirOwnTime() throws {
        let due = log(2.0) + 1
        for (t, b, tt) in try Self.delayedRows("use_values_from_trigger_time = false") {
            // B = A(ln 2 + 1) = 0.5 e^{−1}, T = ln 2 + 1.
            let (eb, et) = t < due ? (0.0, 0.0) : (0.5 * exp(-1.0), due)
            // Measured: B 6.4e-10 (A's error one time unit after the crossing), T 1.13e-9 (as
            // above, the crossing time plus the exact delay); 5e-9 and 1e-8 allow 8× and 9×. The
            // values of the trigger time would be off by 0.5 − 0.18 and by 1.
            #expect(abs(b - eb) <= 5e-9, "B at \(t): \(b)")
            #expect(abs(tt - et) <= 1e-8, "T at \(t): \(tt)")
        }
    }

    /// What one integration reports: the observer's steps and the restarts after events.
    struct StepLog: IntegrationObserver {
        var steps: [(t0: Double, t1: Double, eventAtEnd: Bool)] = []
        var events: [Double] = []
        mutating func start(t: Double, state: UnsafePointer<Double>, network: ReactionNetwork) {}
        mutating func step(
            from t0: Double, to t1: Double, eventAtEnd: Bool, solver: BDFSolver<ReactionNetwork>,
            network: ReactionNetwork
        ) throws {
            steps.append((t0, t1, eventAtEnd))
        }
        mutating func afterEvent(t: Double, state: UnsafePointer<Double>, network: ReactionNetwork) { events.append(t) }
    }

    /// A delay shorter than the solver step in which the event fires: the assignment falls due
    /// inside a step already taken, and is made there (on the dense output).
    @Test func aShortDelayFallsDueInsideTheStep() throws {
        let d = 1e-3
        let source = Self.delayed("use_values_from_trigger_time = false", delay: "\(d)")
        let course = try Self.run(source, tEnd: 2, interval: 0.05, rtol: 1e-8, atol: 1e-12)
        let b = try Self.column(course, "B")
        let tt = try Self.column(course, "T")
        let a = try Self.column(course, "A")
        let due = log(2.0) + d
        for (row, t) in course.times.enumerated() {
            let (eb, et) = t < due ? (0.0, 0.0) : (0.5 * exp(-d), due)
            // B = A(t_f + d) with A(t_f) = 0.5 at the crossing t_f: measured 2.7e-11 (rtol 1e-8,
            // but only over the delay). T = t_f + d: measured 1.27e-7, A's relative error at ln 2
            // (the global error grows ~20 rtol per unit time here). Bounds 10× and 8×.
            #expect(abs(b[row] - eb) <= 3e-10, "B at \(t): \(b[row])")
            #expect(abs(tt[row] - et) <= 1e-6, "T at \(t): \(tt[row])")
            // The assignment does not disturb A: measured relative error ≤ 2.7e-7 at t ≤ 2.
            #expect(abs(a[row] - exp(-t)) <= 1e-6 * exp(-t), "A at \(t)")
        }
        // The same run, observed step by step: the observer's step that starts at the firing
        // ends at the due time, t_f + d (so the solver's step contained both), and the only
        // restart is there.
        let model = try ModelLoader.load(source: source, file: "short_delay.toml")
        let simulator = Simulator(model)
        var settings = RunSettings()
        settings.tEnd = 2
        settings.rtol = 1e-8
        settings.atol = 1e-12
        let configured = try simulator.configure(simulator.network, scenario: nil, settings: settings)
        let solver = try BDFSolver(system: simulator.network, options: simulator.solverOptions(settings))
        var state = configured.initial
        var log = StepLog()
        try Integration.run(configured, network: simulator.network, solver: solver, state: &state, observer: &log)
        #expect(log.events.count == 1)
        let restart = try #require(log.events.first)
        let k = try #require(log.steps.firstIndex { $0.t1 == restart })
        #expect(log.steps[k].eventAtEnd)
        #expect(
            abs(log.steps[k].t1 - log.steps[k].t0 - d) <= 1e-15,
            "step \(log.steps[k]) (the firing then lay before a step boundary)")
        #expect(k > 0 && !log.steps[k - 1].eventAtEnd && log.steps[k - 1].t1 == log.steps[k].t0)
        #expect(abs(restart - due) <= 1e-6)
    }

    // MARK: persistent

    /// A timed event at t = 1 resets A to `reset`, so the condition A < 0.5 (true from ln 2)
    /// turns false before the assignment due at ln 2 + 1; it turns true again at
    /// t₂ = 1 + ln(2 reset), due at t₂ + 1. T = t records which firing made the assignment.
    /// With reset = 1, t₂ coincides with the first firing's due time ln 2 + 1.
    @Test(arguments: [(true, 1.0), (false, 1.0), (true, 0.9), (false, 0.9)])
    func persistence(_ persistent: Bool, _ reset: Double) throws {
        var source = Self.delayed(persistent ? "" : "persistent = false", timedReset: true)
        source = source.replacingOccurrences(of: "set = { A = 1 }", with: "set = { A = \(reset) }")
        let course = try Self.run(source, tEnd: 3, interval: 0.05)
        let b = try Self.column(course, "B")
        let tt = try Self.column(course, "T")
        let a = try Self.column(course, "A")
        let ln2 = log(2.0)
        let t2 = 1 + log(2 * reset)
        for (row, t) in course.times.enumerated() {
            let (eb, et): (Double, Double)
            if t >= t2 + 1 {
                (eb, et) = (0.5, t2)
            } else if t >= 1 + ln2 && persistent {
                (eb, et) = (0.5, ln2)
            } else {
                (eb, et) = (0, 0)
            }
            // As in the delay tests: B is A at a located crossing (measured 9.4e-15), T the
            // crossing time (measured 1.5e-9), A's relative error measured ≤ 3.7e-9 (rtol 1e-10).
            #expect(abs(b[row] - eb) <= 1e-13, "B at \(t) (persistent: \(persistent)): \(b[row])")
            #expect(abs(tt[row] - et) <= 1e-8, "T at \(t) (persistent: \(persistent)): \(tt[row])")
            let ea = t < 1 ? exp(-t) : reset * exp(-(t - 1))
            #expect(abs(a[row] - ea) <= 1e-8 * ea, "A at \(t)")
        }
    }

    // MARK: initial_value

    @Test(arguments: [true, false])
    func initialValue(_ initialValue: Bool) throws {
        let source =
            Self.decayAndB + """

                [[events]]
                when = "A > 0.5"
                initial_value = \(initialValue)
                set = { B = "B + 1 + t" }
                """
        let course = try Self.run(source, tEnd: 2, interval: 0.5)
        let b = try Self.column(course, "B")
        // initial_value = false: the condition, true at t = 0, was false "before": it fires at
        // t = 0 (the row at t = 0 shows it) and never again (A falls through 0.5 once).
        // The default: it is not a change, and the event never fires.
        let expected: Double = initialValue ? 0 : 1
        #expect(b == [Double](repeating: expected, count: course.times.count), "\(b)")
    }

    // MARK: Cascades

    /// Event 1 at t > 1 sets X; event 2, X > 0.5, fires at the same instant from the state event 1
    /// left. In either file order.
    @Test(arguments: [false, true])
    func cascadeAtOneInstant(_ reversed: Bool) throws {
        let first = """
            [[events]]
            when = "t > 1"
            set = { X = 1 }
            """
        let second = """
            [[events]]
            when = "X > 0.5"
            set = { Y = "X + t" }
            """
        let source = """
            [species]
            X = 0
            Y = 0
            \(reversed ? second : first)
            \(reversed ? first : second)
            """
        let course = try Self.run(source, tEnd: 2, interval: 0.5)
        let x = try Self.column(course, "X")
        let y = try Self.column(course, "Y")
        #expect(course.times == [0, 0.5, 1, 1.5, 2])
        // Before: nothing (t > 1 is false at t = 1). At 1.5: X = 1 and Y = X + t at the firing,
        // 1 + the crossing of t − 1, found within 100 ε (|t| + |h|) ≤ 100 ε · 4 = 8.9e-14 after
        // 1 (t, h ≤ t_end = 2); measured 5.7e-14.
        #expect(Array(x[0...2]) == [0, 0, 0] && Array(y[0...2]) == [0, 0, 0])
        #expect(x[3] == 1 && x[4] == 1)
        #expect(y[3] > 2 && y[3] - 2 <= 400 * Double.ulpOfOne && y[4] == y[3], "Y = \(y[3])")
    }

    // MARK: Outputs at event times

    /// The event fires at t_f just after 0.5 and its delay 1 − t_f makes it due at exactly
    /// t_f + (1 − t_f) = 1 (both operations exact in binary arithmetic for t_f in [0.5, 1]),
    /// an output time: that row shows the state after the event.
    @Test func anOutputAtADelayedEventShowsTheStateAfterIt() throws {
        let source =
            Self.decayAndB + """

                [[events]]
                when = "t > 0.5"
                delay = "1 - t"
                set = { A = "A + 1", B = 5 }
                """
        // Values from the firing (the default): A = A(t_f) + 1 = e^{−0.5} + 1 at t = 1.
        let course = try Self.run(source, tEnd: 2, interval: 0.25)
        let a = try Self.column(course, "A")
        let b = try Self.column(course, "B")
        let at1 = try #require(course.times.firstIndex(of: 1))
        #expect(b[at1] == 5)
        let after = exp(-0.5) + 1
        // Measured: A(1) off by 1.7e-10 (the value A(t_f) + 1 was computed at t_f ≈ 0.5),
        // 1e-9 allows 6×; the state before the event, e^{−1}, would be off by 0.24.
        #expect(abs(a[at1] - after) <= 1e-9, "A at 1: \(a[at1])")
        #expect(b[at1 - 1] == 0)
        // Elsewhere A's relative error, measured ≤ 1.5e-9 (rtol 1e-10; largest after the
        // restart at 1, whose first steps are of order 1); 1e-8 allows 6×.
        #expect(abs(a[at1 - 1] - exp(-0.75)) <= 1e-8 * exp(-0.75))
        for (row, t) in course.times.enumerated() where t > 1 {
            let exact = after * exp(-(t - 1))
            #expect(abs(a[row] - exact) <= 1e-8 * exact, "A at \(t)")
            #expect(b[row] == 5)
        }
    }

    /// A state event that falls on a timed event's time runs with it in one queue, and the output
    /// row there shows the state after both (an earlier version recorded the row between them).
    /// The condition "t >= 10" turns true exactly at the stop time t = 10 of the timed event.
    @Test func aStateEventAtATimedEventsTimeRunsWithIt() throws {
        let source = """
            [species]
            A = 1
            X = 0
            Y = 0
            [[reactions]]
            equation = "A ->"
            forward = 0.1
            [[events]]
            at = 10
            set = { X = 5 }
            [[events]]
            when = "t >= 10"
            set = { Y = "X + 1" }
            """
        let course = try Self.run(source, tEnd: 20, interval: 5)
        let x = try Self.column(course, "X")
        let y = try Self.column(course, "Y")
        let at10 = try #require(course.times.firstIndex(of: 10))
        #expect(x[at10] == 5)
        // Both run at t = 10, in one queue. The state event's value was computed when it fired,
        // before any assignment at that instant (values from the trigger time, SBML's default),
        // so Y = 0 + 1; 6 would mean it saw the timed event's X, 0 that it did not run.
        #expect(y[at10] == 1)
        #expect(x[at10 - 1] == 0 && y[at10 - 1] == 0)
    }

    /// An equality cannot be a state event's condition: it holds only at an instant.
    @Test func anEqualityInAConditionIsRefused() throws {
        let source = """
            [species]
            A = 1
            [[events]]
            when = "A == 0.5"
            set = { A = 1 }
            """
        #expect(throws: ModelError.self) { try ModelLoader.load(source: source, file: "eq.toml") }
    }
}
