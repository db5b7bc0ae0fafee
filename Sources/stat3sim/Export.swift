import ArgumentParser
import Foundation
import ReactionModel
import SBML
import Simulation

/// `stat3sim export`: a model file as SBML Level 3 Version 2 core.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a model file as SBML Level 3 Version 2 (for libRoadRunner, COPASI, AMICI).",
        discussion: """
            Species become concentrations in their compartments, observables become parameters with
            assignment rules (same names), reactions get kinetic laws giving the flux (compartment
            size times the flux per volume, as stat3sim computes it), and the events of each time
            become one SBML event triggered by time >= T. A scenario's values and events are
            written into the model (combine scenarios with '+', as in run). Simulation settings
            (span, output grid, tolerances) are not part of SBML; use the model file's. The file is
            written to a temporary name and renamed when complete.

            Examples:
              stat3sim export Models/classic.toml --out classic.xml
              stat3sim export Models/sobotta2017.toml --scenario ruxolitinib --out sobotta-rux.xml
              stat3sim export Models/classic.toml --out - | head
            """)

    @Argument(help: "The model file (TOML), SBML (.xml) or BioNetGen network (.net).")
    var model: String

    @Option(help: "Output SBML file; '-' writes to standard output. Default: MODEL-NAME.xml here.")
    var out: String?

    @Option(help: "A scenario of the model (or several joined by '+') to write into the SBML.")
    var scenario: String?

    func run() throws {
        let (definition, _) = try loadModel(model)
        let scenarios: [ModelDefinition.Scenario]
        do {
            scenarios = try Simulator.scenarios(named: scenario, in: definition)
        } catch let error as SimulationError {
            throw CLIError("\(model): \(error.message)")
        }
        let xml = SBMLWriter.document(for: definition, scenarios: scenarios)
        guard let destination = try writeConverted(xml, of: model, to: out, ext: "xml") else { return }
        let counts = "\(definition.species.count) species, \(definition.reactions.count) reactions"
        FileHandle.standardError.write(Data("wrote \(destination) (SBML L3V2: \(counts))\n".utf8))
    }
}
