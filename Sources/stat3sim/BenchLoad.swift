import ArgumentParser
import Foundation
import ReactionModel

/// Times reading and compiling a model, for `Scripts/bench-bionetgen-load`. Prints one JSON object.
struct BenchLoad: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-load",
        abstract: "Time reading and compiling a model (prints JSON).",
        discussion: """
            Reads the model (a model file, SBML or a BioNetGen network, as run does) and compiles it
            (the reaction network with its symbolic Jacobian) --repeats times, and prints the median
            and minimum of each phase in ms. With --conservation-laws it also times the conservation
            laws once (what check and steady compute).

            Example:
              stat3sim bench-load Models/bionetgen/BCR_no_obs.net --repeats 5
            """)

    @Argument(help: "The model file (TOML), SBML (.xml) or BioNetGen network (.net).")
    var model: String

    @Option(help: "Number of timed loads.")
    var repeats: Int = 5

    @Flag(help: "Also time the conservation laws (once).")
    var conservationLaws = false

    func run() throws {
        guard repeats > 0 else { throw ValidationError("--repeats must be positive.") }
        var read: [Double] = []
        var compile: [Double] = []
        var definition: ModelDefinition? = nil
        for _ in 0..<repeats {
            let started = Date()
            let (d, _) = try loadModel(model)
            let loaded = Date()
            let network = ReactionNetwork(d)
            let compiled = Date()
            withExtendedLifetime(network) {}
            read.append(loaded.timeIntervalSince(started) * 1000)
            compile.append(compiled.timeIntervalSince(loaded) * 1000)
            definition = d
        }
        let d = definition!
        read.sort()
        compile.sort()
        var json: [String: Any] = [
            "model": model, "species": d.species.count, "reactions": d.reactions.count, "repeats": repeats,
            "read_median_ms": read[read.count / 2], "read_min_ms": read[0],
            "compile_median_ms": compile[compile.count / 2], "compile_min_ms": compile[0],
        ]
        if conservationLaws {
            let started = Date()
            let laws = d.conservationLaws()
            json["conservation_laws_ms"] = Date().timeIntervalSince(started) * 1000
            json["conservation_laws"] = laws?.count ?? -1
        }
        let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}
