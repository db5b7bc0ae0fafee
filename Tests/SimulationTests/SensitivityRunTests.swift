import Foundation
import ODESolver
import ReactionModel
import TestSupport
import Testing

@testable import Simulation

/// Forward sensitivities of runs (`run --sensitivities`) against closed-form derivatives, with
/// timed and state events, and against central finite differences of tight solves of the
/// published IL-6 models.
@Suite("Forward sensitivities of runs")
struct SensitivityRunTests {
    static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Models")

    static func run(
        _ definition: ModelDefinition, _ parameters: [String], scenario: String? = nil, tEnd: Double? = nil,
        interval: Double? = nil, normalized: Bool = false, overrides: [(String, Double)] = [],
        rtol: Double = 1e-10, atol: Double = 1e-14
    ) throws -> TimeCourse {
        var settings = RunSettings()
        settings.tEnd = tEnd
        settings.outputInterval = interval
        settings.rtol = rtol
        settings.atol = atol
        settings.overrides = overrides
        if !parameters.isEmpty {
            settings.sensitivities = SensitivityRequest(parameters: parameters, normalized: normalized)
        }
        return try Simulator(definition).run(scenario: scenario, settings: settings)
    }

    static func column(_ course: TimeCourse, _ name: String) throws -> [Double] {
        try #require(course.column(named: name), "no column \(name)")
    }

    static func load(_ source: String) throws -> ModelDefinition {
        try ModelLoader.load(source: source, file: "sensitivity.toml")
    }

    /// |a − b| ≤ tolerance · max(1, |b|) at every output.
    static func expectClose(
        _ a: [Double], _ b: [Double], _ tolerance: Double, _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(a.count == b.count, sourceLocation: sourceLocation)
        var worst = 0.0
        for (x, y) in zip(a, b) { worst = max(worst, abs(x - y) / max(1, abs(y))) }
        #expect(worst <= tolerance, "\(what): worst relative difference \(worst)", sourceLocation: sourceLocation)
    }

    /// `expectClose` for each named column against its expected values.
    static func expectColumns(
        _ course: TimeCourse, _ expected: [String: [Double]], _ tolerance: Double,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        for (name, values) in expected.sorted(by: { $0.key < $1.key }) {
            expectClose(try column(course, name), values, tolerance, name, sourceLocation: sourceLocation)
        }
    }

    // MARK: A → B → C

    static let chain = Fixtures.text("sensitivity_chain.toml")

    @Test("A → B → C: dA, dB by k1, k2 and A(0) as in closed form; observables by the chain rule")
    func linearChain() throws {
        let course = try Self.run(Self.load(Self.chain), ["k1", "k2", "A"])
        let (a0, k1, k2) = (2.0, 0.7, 0.3)
        let t = course.times
        let e1 = t.map { exp(-k1 * $0) }
        let e2 = t.map { exp(-k2 * $0) }
        let b = t.indices.map { a0 * k1 / (k2 - k1) * (e1[$0] - e2[$0]) }
        let dAdk1 = t.indices.map { -t[$0] * a0 * e1[$0] }
        let dBdk1 = t.indices.map {
            a0 * (k2 / ((k2 - k1) * (k2 - k1)) * (e1[$0] - e2[$0]) - k1 / (k2 - k1) * t[$0] * e1[$0])
        }
        let dBdk2 = t.indices.map {
            a0 * (-k1 / ((k2 - k1) * (k2 - k1)) * (e1[$0] - e2[$0]) + k1 / (k2 - k1) * t[$0] * e2[$0])
        }
        let dBdA0 = b.map { $0 / a0 }
        Self.expectClose(try Self.column(course, "d(A)/d(k1)"), dAdk1, 1e-7, "dA/dk1")
        Self.expectClose(try Self.column(course, "d(A)/d(k2)"), t.map { _ in 0 }, 1e-12, "dA/dk2")
        Self.expectClose(try Self.column(course, "d(A)/d(A)"), e1, 1e-7, "dA/dA0")
        Self.expectClose(try Self.column(course, "d(B)/d(k1)"), dBdk1, 1e-7, "dB/dk1")
        Self.expectClose(try Self.column(course, "d(B)/d(k2)"), dBdk2, 1e-7, "dB/dk2")
        Self.expectClose(try Self.column(course, "d(B)/d(A)"), dBdA0, 1e-7, "dB/dA0")
        // total = A + B + C is conserved: insensitive to the rates, and moves 1:1 with A(0).
        Self.expectClose(try Self.column(course, "d(total)/d(k1)"), t.map { _ in 0 }, 1e-8, "dtotal/dk1")
        Self.expectClose(try Self.column(course, "d(total)/d(A)"), t.map { _ in 1 }, 1e-8, "dtotal/dA0")
        // flux2 = 2 k2 B: ∂/∂k2 = 2B + 2 k2 dB/dk2 (the observable's own parameter term).
        let dFlux = t.indices.map { 2 * b[$0] + 2 * k2 * dBdk2[$0] }
        Self.expectClose(try Self.column(course, "d(flux2)/d(k2)"), dFlux, 1e-7, "dflux2/dk2")
        // Normalized: d ln B / d ln k2 = (k2 / B) dB/dk2 (B = 0 at t = 0 gives NaN there).
        let normalized = try Self.run(Self.load(Self.chain), ["k2"], normalized: true)
        let ln = try Self.column(normalized, "dln(B)/dln(k2)")
        #expect(ln[0].isNaN)
        Self.expectClose(Array(ln.dropFirst()), (1..<t.count).map { k2 / b[$0] * dBdk2[$0] }, 1e-6, "dlnB/dlnk2")
    }

    // MARK: Events

    @Test("A timed dose: the jump of s at the event (dA/dk, dA/dD) as in closed form")
    func timedEvent() throws {
        let source = Fixtures.text("sensitivity_dose.toml")
        let course = try Self.run(Self.load(source), ["k", "D", "A"])
        let (a0, k, dose, tau) = (3.0, 0.4, 1.5, 2.0)
        let t = course.times
        func after(_ t: Double) -> Bool { t >= tau }
        let dAdk = t.map { t in -t * a0 * exp(-k * t) - (after(t) ? (t - tau) * dose * exp(-k * (t - tau)) : 0) }
        let dAdD = t.map { t in after(t) ? exp(-k * (t - tau)) : 0 }
        let dAdA0 = t.map { exp(-k * $0) }
        try Self.expectColumns(course, ["d(A)/d(k)": dAdk, "d(A)/d(D)": dAdD, "d(A)/d(A)": dAdA0], 1e-7)
    }

    @Test("A state event: the event time's own sensitivity enters the jump (dA by k, θ, R and A(0))")
    func stateEvent() throws {
        // A decays; when it falls below θ it is reset to R, once (R > θ, and the reset is the
        // last crossing before t_end). τ = ln(A0/θ)/k moves with k, θ and A0.
        let source = Fixtures.text("sensitivity_reset.toml")
        let course = try Self.run(Self.load(source), ["k", "theta", "R", "A"])
        let (a0, k, theta, reset) = (5.0, 0.5, 1.0, 2.0)
        let tau = log(a0 / theta) / k  // 3.22, one crossing before 4.5 (R e^{-k·1.28} = 1.06 > θ)
        let t = course.times
        let decay = t.map { exp(-k * ($0 - tau)) }
        let dAdk = t.indices.map { t[$0] < tau ? -t[$0] * a0 * exp(-k * t[$0]) : -t[$0] * reset * decay[$0] }
        let dAdTheta = t.indices.map { t[$0] < tau ? 0 : -reset * decay[$0] / theta }
        let dAdR = t.indices.map { t[$0] < tau ? 0 : decay[$0] }
        let dAdA0 = t.indices.map { t[$0] < tau ? exp(-k * t[$0]) : reset * decay[$0] / a0 }
        try Self.expectColumns(
            course, ["d(A)/d(k)": dAdk, "d(A)/d(theta)": dAdTheta, "d(A)/d(R)": dAdR, "d(A)/d(A)": dAdA0], 1e-6)
    }

    @Test("A compartment size: the volume ratio of a transport and a rate law naming it, against differences")
    func compartmentSize() throws {
        let source = Fixtures.text("sensitivity_transport.toml")
        let definition = try Self.load(source)
        let failures = try Self.compareWithDifferences(definition, ["cyt", "nuc"], tEnd: nil, interval: nil)
        #expect(failures.isEmpty, "\(failures)")
        // X, in the reaction's own compartment, does not depend on the nucleus' size at all.
        let course = try Self.run(definition, ["nuc"])
        #expect(try Self.column(course, "d(X)/d(nuc)").allSatisfy { $0 == 0 })
        #expect(try Self.column(course, "d(Y)/d(nuc)").contains { abs($0) > 0.1 })
    }

    @Test("A Hill term at zero: the sensitivity by the Hill coefficient is finite and matches differences")
    func hillCoefficientAtZero() throws {
        let definition = try Self.load(Fixtures.text("sensitivity_hill.toml"))
        let failures = try Self.compareWithDifferences(definition, ["n", "K", "V"], tEnd: nil, interval: nil)
        #expect(failures.isEmpty, "\(failures)")
    }

    // MARK: Refusals

    @Test("Names that are no parameter, sensitivities through events that set parameters: refused with reasons")
    func refusals() throws {
        let definition = try Self.load(Self.chain)
        #expect(
            message { _ = try Self.run(definition, ["kx"]) }
                == "sensitivities by 'kx': the model has no parameter, species or compartment 'kx' (did you mean 'k1'?)."
        )
        #expect(
            message { _ = try Self.run(definition, ["total"]) }?.hasPrefix(
                "sensitivities by 'total': it is an observable")
                == true)
        #expect(message { _ = try Self.run(definition, ["k1", "k1"]) } == "sensitivities: 'k1' is named twice.")
        let cancer = try ModelLoader.load(path: Self.models.appendingPathComponent("cancer.toml").path)
        let pulse = message { _ = try Self.run(cancer, ["IL6_dose"], scenario: "pulse", tEnd: 60) }
        #expect(
            pulse?.hasPrefix("sensitivities by 'IL6_dose': the event 'washout: external IL-6 removed' sets") == true)
    }

    // MARK: Published models against finite differences

    /// dX/dp of every species and observable X at every output for each of `names` against
    /// fourth-order central differences (steps ±h, ±2h, h = `step` · p) of solves at rtol 10⁻¹¹; returns
    /// the columns that differ by more than 10⁻⁵ of their scale: the larger of their own largest
    /// value and X's natural scale max|X| / |p| (the differences' own noise, rtol·|X|/h, is about
    /// 10⁻⁸ of the latter, so a sensitivity far smaller than X/p cannot be resolved better).
    static func compareWithDifferences(
        _ definition: ModelDefinition, _ names: [String], scenario: String? = nil, tEnd: Double?, interval: Double?,
        step: Double = 1e-3
    ) throws -> [String] {
        let (rtol, atol) = (1e-11, 1e-16)
        let course = try run(
            definition, names, scenario: scenario, tEnd: tEnd, interval: interval, rtol: rtol, atol: atol)
        let quantities = definition.species.map(\.name) + definition.observables.map(\.name)
        // The values in force in the run: the scenario's.
        let simulator = Simulator(definition)
        let initial = try simulator.initialState(scenario: scenario, settings: RunSettings())
        let network = simulator.network
        var failures: [String] = []
        for name in names {
            let value = network.sensitivityParameterValue(network.sensitivityIndex(named: name)!, initial: initial)
            let h = step * abs(value)
            let shifted = try [2.0, 1, -1, -2].map {
                try run(
                    definition, [], scenario: scenario, tEnd: tEnd, interval: interval,
                    overrides: [(name, value + $0 * h)], rtol: rtol, atol: atol)
            }
            for (c, x) in quantities.enumerated() {
                let s = try column(course, "d(\(x))/d(\(name))")
                let difference = course.times.indices.map { row in
                    let v = shifted.map { $0.value(row: row, column: c) }
                    return (-v[0] + 8 * v[1] - 8 * v[2] + v[3]) / (12 * h)
                }
                let natural = course.times.indices.map { abs(course.value(row: $0, column: c)) }.max()! / abs(value)
                let scale = max(difference.map(abs).max()!, natural)
                if scale == 0 { continue }
                let worst = zip(s, difference).map { abs($0 - $1) }.max()! / scale
                if !(worst <= 1e-5) { failures.append("d(\(x))/d(\(name)): \(worst)") }
            }
        }
        return failures
    }

    /// Every nonzero parameter of a published model against differences.
    static func checkAgainstDifferences(_ file: String, tEnd: Double, interval: Double) throws {
        let definition = try ModelLoader.load(path: models.appendingPathComponent(file).path)
        let names = definition.parameters.filter { $0.value != 0 }.map(\.name)
        let failures = try compareWithDifferences(definition, names, tEnd: tEnd, interval: interval)
        #expect(failures.isEmpty, "\(file): \(failures.count) columns differ: \(failures.prefix(10))")
    }

    @Test("cancer.toml, ruxolitinib dosed by a state event: the event time's sensitivity on an IL-6 model")
    func stateEventOnCancerModel() throws {
        let definition = try ModelLoader.load(path: Self.models.appendingPathComponent("cancer.toml").path)
        // Doses whenever pSTAT3 crosses 0.3 (several crossings by 10 h): every dose's time moves
        // with the threshold and the rates. Steps of 1e-4 p: one dose falls within a minute of the
        // output at 540 min, and larger steps move it far enough to spoil the differences there.
        let failures = try Self.compareWithDifferences(
            definition, ["rux_adaptive_threshold", "k6", "kf27"], scenario: "socs3_silenced+adaptive_ruxolitinib",
            tEnd: 600, interval: 20, step: 1e-4)
        #expect(failures.isEmpty, "\(failures.prefix(10))")
    }

    @Test("classic.toml: every parameter against central differences (1e-5 relative)")
    func classicAgainstDifferences() throws {
        try Self.checkAgainstDifferences("classic.toml", tEnd: 360, interval: 30)
    }

    @Test("sobotta2017.toml: every parameter against central differences (1e-5 relative)")
    func sobottaAgainstDifferences() throws {
        try Self.checkAgainstDifferences("sobotta2017.toml", tEnd: 240, interval: 20)
    }
}
