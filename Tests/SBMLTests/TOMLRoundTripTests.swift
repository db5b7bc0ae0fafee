import Foundation
import ReactionModel
import Simulation
import Testing

@testable import SBML

/// The model files beside the package (Models/), found from this file as SBMLReaderTests does.
private let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Models")

/// One round trip: a model file, optionally with scenarios joined by '+' as on the command line.
struct RoundTripCase: CustomTestStringConvertible, Sendable {
    var file: String
    var scenario: String?
    var testDescription: String { file + (scenario.map { " (\($0))" } ?? "") }
}

/// Every model file, each default run, and the scenarios that change what the export must carry:
/// compartment sizes (classic_conserved unclamped_sbml), initial concentrations (trans
/// crohns_high_sIL6R), parameters and events of several scenarios composed left to right (cancer
/// lesion + therapy + protocol: events at 0, 30, 480 and 960 min, one of them adding to a species,
/// one setting a parameter), the published dosing schedule (sobotta2017 ruxolitinib, the
/// cases of Scripts/export-roundtrip), and a marker-triggered dose (cancer adaptive_ruxolitinib: a
/// state event, for which the export adds a helper event that import drops).
private let cases: [RoundTripCase] = [
    .init(file: "classic.toml"),
    .init(file: "classic_conserved.toml"),
    .init(file: "classic_conserved.toml", scenario: "unclamped_sbml"),
    .init(file: "sobotta2017.toml"),
    .init(file: "sobotta2017.toml", scenario: "ruxolitinib"),
    .init(file: "trans.toml"),
    .init(file: "trans.toml", scenario: "crohns_high_sIL6R"),
    .init(file: "cancer.toml"),
    .init(file: "cancer.toml", scenario: "socs3_silenced+ruxolitinib+pulse"),
    // A state event without delay: the export adds its helper for COPASI, which import drops.
    .init(file: "cancer.toml", scenario: "socs3_silenced+adaptive_ruxolitinib"),
]

/// TOML → SBML → TOML, all in memory: the model loaded from its file, exported as SBML L3V2 with the
/// scenarios applied (as `stat3sim export --scenario`), imported, written as a model file and that
/// text loaded again (as `stat3sim import` and then `stat3sim run` on its output).
private func roundTrip(_ c: RoundTripCase) throws -> (
    original: ModelDefinition, scenarios: [ModelDefinition.Scenario],
    xml: String, toml: String, reloaded: ModelDefinition
) {
    let original = try ModelLoader.load(path: models.appendingPathComponent(c.file).path)
    let scenarios = try Simulator.scenarios(named: c.scenario, in: original)
    let xml = SBMLWriter.document(for: original, scenarios: scenarios)
    let imported = try SBMLReader.definition(fromXML: xml, file: c.file.replacingOccurrences(of: ".toml", with: ".xml"))
    let toml = TOMLWriter.document(for: imported)
    let reloaded = try ModelLoader.load(
        source: toml, file: c.file.replacingOccurrences(of: ".toml", with: "-roundtrip.toml"))
    return (original, scenarios, xml, toml, reloaded)
}

/// The model with every mass-action reaction written as the rate law it stands for, in the form
/// SBMLWriter exports (`k * A * B^2`, `kf * … - kr * …`): the same ODE on the general evaluation path.
private func asRateLaws(_ d: ModelDefinition) -> ModelDefinition {
    func product(_ k: ReactionModel.Expression, _ terms: [(species: Int, coefficient: Double)])
        -> ReactionModel.Expression
    {
        terms.reduce(k) { acc, term in
            let c = ReactionModel.Expression.name(d.species[term.species].name)
            return .multiply(acc, term.coefficient == 1 ? c : .power(c, .number(term.coefficient)))
        }
    }
    var out = d
    out.reactions = d.reactions.map { r in
        guard case .massAction(let forward, let reverse) = r.kinetics else { return r }
        var law = product(forward, r.reactants)
        if let reverse { law = .subtract(law, product(reverse, r.products)) }
        var x = r
        x.kinetics = .rate(law)
        return x
    }
    return out
}

/// |a − b| ≤ tolerance · max(|a|, |b|); exact equality (zeros included) always passes.
private func close(_ a: Double, _ b: Double, _ tolerance: Double) -> Bool {
    a == b || abs(a - b) <= tolerance * max(abs(a), abs(b))
}

@Suite("SBML export: TOML → SBML → TOML round trip")
struct TOMLRoundTripTests {
    /// (1) Structure. The values in force in the original run (the file's, then the scenarios' left
    /// to right) come back: the same species in the same order and compartments with the same
    /// initial concentrations, clamps and sizes, and every parameter that a rate law, an observable
    /// or an event reads or sets with its value. SBMLWriter and TOMLWriter print numbers in their
    /// shortest round-trip form, so 1e-15 relative is roundoff only (in practice they are equal).
    @Test(arguments: cases)
    func structureSurvivesTheRoundTrip(_ c: RoundTripCase) throws {
        let (d, scenarios, xml, _, back) = try roundTrip(c)
        var initial = d.species.map(\.initial)
        var sizes = d.compartments.map(\.size)
        var values = d.parameters.map(\.value)
        for s in scenarios {
            for (i, x) in s.initial { initial[i] = x }
            for (i, x) in s.compartments { sizes[i] = x }
            for (i, x) in s.parameters { values[i] = x }
        }
        // The export really applied the scenarios: the SBML carries the values in force.
        for (i, s) in d.species.enumerated() where initial[i] != s.initial {
            #expect(
                xml.contains(
                    "<species id=\"\(s.name)\" compartment=\"\(d.compartments[s.compartment].name)\" "
                        + "initialConcentration=\"\(SBMLWriter.number(initial[i]))\""),
                "\(c.testDescription): the SBML does not carry the scenario's initial value of \(s.name)")
        }

        // The run settings travel in stat3sim's annotation, descriptions in <notes>.
        #expect(back.simulation == d.simulation, "\(c.testDescription): [simulation]")
        for r in d.reactions where r.description != nil {
            #expect(
                back.reactions.first { $0.id == r.id }?.description == r.description,
                "\(c.testDescription): description of \(r.id)")
        }
        #expect(back.species.map(\.name) == d.species.map(\.name), "\(c.testDescription): species")
        for (i, s) in d.species.enumerated() {
            guard let b = back.species.first(where: { $0.name == s.name }) else { continue }
            #expect(
                close(b.initial, initial[i], 1e-15),
                "\(c.testDescription): initial \(s.name) = \(b.initial), expected \(initial[i])")
            #expect(
                b.constant == s.constant,
                "\(c.testDescription): \(s.name) constant = \(b.constant), expected \(s.constant)")
            #expect(
                back.compartments[b.compartment].name == d.compartments[s.compartment].name,
                """
                \(c.testDescription): \(s.name) is in \(back.compartments[b.compartment].name), \
                expected \(d.compartments[s.compartment].name)
                """)
        }

        #expect(back.compartments.map(\.name) == d.compartments.map(\.name), "\(c.testDescription): compartments")
        for (i, comp) in d.compartments.enumerated() {
            let b = try #require(
                back.compartments.first { $0.name == comp.name },
                "\(c.testDescription): compartment \(comp.name) is missing")
            #expect(
                close(b.size, sizes[i], 1e-15),
                "\(c.testDescription): size of \(comp.name) = \(b.size), expected \(sizes[i])")
        }

        var used = Set<String>()
        for r in d.reactions {
            switch r.kinetics {
            case .massAction(let f, let b): used.formUnion(f.names + (b?.names ?? []))
            case .rate(let e): used.formUnion(e.names)
            }
        }
        for o in d.observables { used.formUnion(o.expression.names) }
        for e in d.events + scenarios.flatMap(\.events) {
            for a in e.assignments {
                used.insert(a.targetName)
                used.formUnion(a.expression.names)
            }
        }
        var checked = 0
        for (i, p) in d.parameters.enumerated() where used.contains(p.name) {
            let b = try #require(
                back.parameters.first { $0.name == p.name }, "\(c.testDescription): parameter \(p.name) is missing")
            #expect(
                close(b.value, values[i], 1e-15), "\(c.testDescription): \(p.name) = \(b.value), expected \(values[i])")
            checked += 1
        }
        #expect(checked > 0)
        // Observables come back as observables (SBML assignment rules), reactions as reactions, and
        // events at the same times (those of one time are composed into one SBML event).
        #expect(back.observables.map(\.name) == d.observables.map(\.name), "\(c.testDescription): observables")
        #expect(
            back.reactions.count == d.reactions.count,
            "\(c.testDescription): \(back.reactions.count) reactions, expected \(d.reactions.count)")
        let times = Set((d.events + scenarios.flatMap(\.events)).flatMap(\.times))
        #expect(Set(back.events.flatMap(\.times)) == times, "\(c.testDescription): event times")
    }

    /// (2) Numbers, the ODE. The reloaded model against the original's own ODE evaluated the same
    /// way (its mass-action reactions written as the rate laws `k * A * B^2 - k' * C` that they
    /// stand for, scenarios applied as `stat3sim run --scenario` does), both run with the original's
    /// t_end, output grid and atol (the round trip does not carry [simulation]: SBML has no place
    /// for it) at rtol 1e-8: every species and observable at every output time agrees to 1e-7 of
    /// its column's peak. (Measured: 0, the two runs are bitwise equal.)
    ///
    /// Why 1e-7 of the peak: both runs evaluate the same expressions in the same order, so they are
    /// deterministic copies of each other and any difference at all is the export or the import
    /// changing the ODE; 1e-7 (10 × rtol) is the bound the task set, and a real change exceeds it by
    /// orders of magnitude (tried: k19 off by 1e-5 moves SOCS3_mRNA_n by 1.1e-5 of its peak; the
    /// 480-min ruxolitinib dose a minute late moves Rux by 0.37 of its peak). The peak is floored at
    /// the run's atol: with a lesion like socs3_silenced (k18a = 0) the SOCS3 columns are exactly
    /// zero in the ODE and hold only linear-algebra roundoff (~1e-22 nM, twelve orders below atol
    /// 1e-10), which differs between runs that take different steps (test 2').
    @Test(arguments: cases)
    func reimportedModelGivesTheOriginalODEsTimeCourse(_ c: RoundTripCase) throws {
        let (d, _, _, _, back) = try roundTrip(c)
        try compare(c, original: asRateLaws(d), back, rtol: 1e-8)
    }

    /// (2') Numbers, the original run. The original exactly as `stat3sim run` simulates it (mass
    /// action on its fast path: `k * A * A` multiplied in another order than the reloaded rate law
    /// `k * A^2`, one rounding apart) against the reloaded model, to the same 1e-7 of each column's
    /// peak, but at rtol 1e-10. At rtol 1e-8 these last-bit differences change the step sequence of
    /// the models with dimerisations, and the runs then differ by the solver's own error: measured
    /// 2.49e-7 of the peak (cancer, SOCS3_mRNA_c at t = 183) and 1.77e-7 (classic_conserved,
    /// pSHP2_Grb2_SOS at t = 102), where each run alone is 1.8e-7 and 1.6e-7 of the peak away from
    /// an rtol 1e-12 reference. At rtol 1e-10 that noise is below 5e-9 (measured 4.7e-9, cancer),
    /// so the 1e-7 bound keeps a margin of 20 and still catches any change of the model.
    @Test(arguments: cases)
    func reimportedModelGivesTheOriginalRun(_ c: RoundTripCase) throws {
        let (d, _, _, _, back) = try roundTrip(c)
        try compare(c, original: d, back, rtol: 1e-10)
    }

    /// Runs `original` (with the case's scenarios) and `back` with the same settings and checks
    /// every species and observable column: max |a − b| ≤ 1e-7 · max(peak |a|, atol).
    private func compare(_ c: RoundTripCase, original d: ModelDefinition, _ back: ModelDefinition, rtol: Double) throws
    {
        var settings = RunSettings()
        settings.tEnd = d.simulation.tEnd
        settings.outputInterval = d.simulation.outputInterval ?? 1
        settings.rtol = rtol
        settings.atol = d.simulation.atol
        let a = try Simulator(d).run(scenario: c.scenario, settings: settings)
        let b = try Simulator(back).run(settings: settings)
        #expect(a.times == b.times)
        #expect(a.times.count > 100 && a.times.last == d.simulation.tEnd)
        for name in d.species.map(\.name) + d.observables.map(\.name) {
            let x = try #require(a.column(named: name))
            let y = try #require(b.column(named: name), "\(c.testDescription): no column \(name)")
            let scale = max(x.map(abs).max() ?? 0, d.simulation.atol)
            var largest = 0.0
            var at = 0
            for k in x.indices where !(abs(x[k] - y[k]) <= largest) {
                largest = abs(x[k] - y[k])
                at = k
            }  // NaN counts
            #expect(
                largest <= 1e-7 * scale,
                """
                \(c.testDescription), rtol \(rtol): \(name) differs by \(largest) at t = \(a.times[at]), \
                \(largest / scale) of its peak \(scale)
                """)
        }
    }
}
