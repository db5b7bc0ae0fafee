import ArgumentParser
import Foundation
import ODESolver
import ReactionModel

/// `stat3sim check`: validate a model and describe what it contains.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate a model file and list its species, reactions, parameters and conservation laws.",
        discussion: """
            Loads and compiles the model, checks its analytic Jacobian against finite differences at
            the initial state, and prints compartments, species, parameters, observables, reactions,
            events, scenarios and conservation laws, then warnings (unused parameters, species that
            nothing changes). Exit status 0 when the model is valid.

            Examples:
              stat3sim check Models/classic.toml
              stat3sim check my_model.toml && stat3sim run my_model.toml
            """)

    @Argument(help: "The model file (TOML), SBML (.xml) or BioNetGen network (.net).")
    var model: String

    func run() throws {
        let started = Date()
        let (d, _) = try loadModel(model)
        let network = ReactionNetwork(d)
        let compileTime = Date().timeIntervalSince(started)
        var out: [String] = []
        out.append(
            "\(d.name) (\(d.file)): valid. \(d.species.count) species, \(count(d.reactions.count, "reaction")), "
                + "\(count(d.parameters.count, "parameter")), \(count(d.observables.count, "observable")); loaded and "
                + "compiled in \(String(format: "%.1f", compileTime * 1000)) ms."
        )
        if let description = d.description { out.append(description) }
        for r in d.references { out.append("  reference: \(r)") }
        out.append("\nCompartments:")
        for c in d.compartments { out.append("  \(c.name) = \(c.size.summaryText)\(c.unit.map { " \($0)" } ?? "")") }
        out.append("\nSpecies (initial \(d.concentrationUnit ?? "concentration")):")
        for s in d.species where !s.isParameter {
            let rule = s.rateRule.map { " (rate rule: d\(s.name)/dt = \(ExpressionText.text($0)))" } ?? ""
            out.append(
                "  \(s.name) = \(s.initial.summaryText) in "
                    + "\(d.compartments[s.compartment].name)\(s.constant ? " (constant)" : "")\(rule)"
                    + "\(s.description.map { " — \($0)" } ?? "")"
            )
        }
        let stateParameters = d.species.filter(\.isParameter)
        if !d.parameters.isEmpty || !stateParameters.isEmpty {
            out.append("\nParameters:")
            for p in d.parameters { out.append("  \(p.name) = \(p.value.summaryText)\(p.unit.map { " \($0)" } ?? "")") }
            for p in stateParameters {
                out.append(
                    "  \(p.name) = \(p.initial.summaryText) at the start (rate rule: d\(p.name)/dt = "
                        + "\(ExpressionText.text(p.rateRule!)); a state variable)\(p.unit.map { " \($0)" } ?? "")"
                )
            }
        }
        if !d.observables.isEmpty {
            out.append("\nObservables:")
            for o in d.observables { out.append("  \(o.name) = \(o.text)") }
        }
        out.append("\nReactions:")
        for r in d.reactions {
            let kinetics: String
            switch r.kinetics {
            case .massAction(let f, let rev):
                kinetics = "mass action, forward \(f)" + (rev.map { ", reverse \($0)" } ?? "")
            case .rate(let law): kinetics = "rate \(law)"
            }
            var compartment = ""
            if d.compartments.count > 1, let first = r.reactants.first?.species ?? r.products.first?.species {
                compartment = " in \(d.compartments[d.species[first].compartment].name)"
            }
            out.append("  \(r.id): \(r.equation)   [\(kinetics)\(compartment)]")
        }
        if !d.events.isEmpty {
            out.append("\nEvents:")
            for e in d.events {
                var when = "at \(e.times.map(\.summaryText).joined(separator: ", "))"
                if let trigger = e.trigger {
                    when = "when \(trigger.condition)"
                    if let delay = trigger.delay { when += ", after \(delay)" }
                    if let priority = trigger.priority { when += ", priority \(priority)" }
                    if !trigger.initialValue { when += ", can fire at the start" }
                    if !trigger.persistent { when += ", not persistent" }
                }
                out.append(
                    "  \(when): " + e.assignments.map { "\($0.targetName) = \($0.expression)" }.joined(separator: ", "))
            }
        }
        if !d.scenarios.isEmpty {
            out.append("\nScenarios:")
            for s in d.scenarios { out.append("  \(s.name)\(s.description.map { " — \($0)" } ?? "")") }
        }
        out.append("\nConservation laws (amounts: concentration × compartment size):")
        if let laws = d.conservationLaws() {
            if laws.isEmpty { out.append("  none") }
            for law in laws { out.append("  \(law) = constant") }
        } else {
            out.append("  not computed: a stoichiometric coefficient is not a simple rational number")
        }

        var warnings: [String] = []
        var used = Set(
            d.reactions.flatMap { r -> [String] in
                switch r.kinetics {
                case .massAction(let f, let rev): return f.names + (rev?.names ?? [])
                case .rate(let law): return law.names
                }
            })
        used.formUnion(d.observables.flatMap(\.expression.names))
        used.formUnion(d.species.flatMap { $0.rateRule?.names ?? [] })
        for e in d.events + d.scenarios.flatMap(\.events) {
            for a in e.assignments { used.formUnion(a.expression.names + [a.targetName]) }
            if let trigger = e.trigger {
                used.formUnion(trigger.condition.names + (trigger.delay?.names ?? []) + (trigger.priority?.names ?? []))
            }
        }
        for p in d.parameters where !used.contains(p.name) {
            warnings.append("parameter '\(p.name)' is not used by any reaction, rate rule, observable or event.")
        }
        let changed = Set(d.reactions.flatMap { $0.reactants.map(\.species) + $0.products.map(\.species) })
        for (i, s) in d.species.enumerated() where !changed.contains(i) && !s.constant && s.rateRule == nil {
            warnings.append("species '\(s.name)' takes part in no reaction; it stays at its initial value.")
        }
        let y0 = d.species.map(\.initial)
        let check = JacobianCheck(system: network, t: d.simulation.tStart, y: y0)
        if !check.passed, let worst = check.mismatches.first {
            warnings.append(
                "the analytic Jacobian differs from finite differences at the initial state: "
                    + "∂f(\(d.species[worst.row].name))/∂\(d.species[worst.column].name) = \(worst.analytic) vs "
                    + "\(worst.finiteDifference) (report this as a bug)."
            )
        }
        out.append(
            warnings.isEmpty ? "\nNo warnings." : "\nWarnings:\n" + warnings.map { "  - \($0)" }.joined(separator: "\n")
        )
        print(out.joined(separator: "\n"))
    }
}

func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
