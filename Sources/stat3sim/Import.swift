import ArgumentParser
import Foundation
import ReactionModel
import SBML
import Simulation

/// `stat3sim import`: an SBML file or a BioNetGen network as a readable model file.
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert an SBML model (Level 2 or 3 core) or a BioNetGen network (.net) to a model file (TOML).",
        discussion: """
            Supports the SBML subset that maps onto the model file: compartments, species (amounts
            or concentrations, boundary and constant species), global and local parameters (local
            ones become REACTION_NAME), kinetic laws in MathML (arithmetic, power, exp, ln, log,
            root, abs, piecewise with comparisons, time, named constants), function definitions
            (inlined), initial assignments (evaluated), assignment rules on parameters (become
            observables) and events triggered by time >= T without delay. Anything else is an error
            naming the SBML element and id.

            A BioNetGen network (.net, written by generate_network) imports its parameters
            (expressions evaluated), species (named S1, S2, ... after their index, the pattern kept
            as the description; $ species constant), elementary reactions (the rate law, with its
            statistical factor, as the mass-action rate constant) and groups (as observables).
            Compartments, functions and Sat/MM/Hill rate laws are refused with the file's line.

            run, check, sweep, steady and export also read .xml and .net files directly.

            Examples:
              stat3sim import model.xml --out model.toml
              stat3sim import model.xml --out - | less
              stat3sim import egfr_net.net --out egfr_net.toml
            """)

    @Argument(help: "The SBML file (.xml) or BioNetGen network (.net).")
    var model: String

    @Option(help: "Output model file; '-' writes to standard output. Default: MODEL-NAME.toml here.")
    var out: String?

    func run() throws {
        let (definition, _) = try loadModel(model)
        let toml = TOMLWriter.document(for: definition)
        guard let destination = try writeConverted(toml, of: model, to: out, ext: "toml") else { return }
        let counts =
            "\(definition.species.count) species, \(definition.reactions.count) reactions, \(definition.events.count) "
            + "events"
        FileHandle.standardError.write(Data("wrote \(destination) (\(counts))\n".utf8))
    }
}
