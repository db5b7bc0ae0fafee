import Foundation
import ReactionModel

extension Importer {
    /// The run settings: t_end covers the latest event time (at least 100), unless the model
    /// carries stat3sim's own annotation (written by `stat3sim export`) with its settings.
    mutating func readSettings() {
        simulation.tEnd = max(100, events.flatMap(\.times).max() ?? 0)
        // A model that stat3sim exported carries its run settings in an annotation.
        if let settings = model.child("annotation")?.children.first(where: {
            $0.name == "simulation"
                && $0.namespace == SBMLWriter.annotationNamespace
        }) {
            func value(_ key: String) -> Double? { settings.attributes[key].flatMap(Double.init) }
            if let x = value("tStart") { simulation.tStart = x }
            if let x = value("tEnd") { simulation.tEnd = x }
            if let x = value("rtol") { simulation.rtol = x }
            if let x = value("atol") {
                simulation.atol = x
                hasAbsoluteTolerance = true
            }
            if let x = value("outputInterval") { simulation.outputInterval = x }
            // `speciesAtol="A=1e-15 B=2e-12"`: species' own absolute tolerances.
            for pair in (settings.attributes["speciesAtol"] ?? "").split(separator: " ") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, let x = Double(parts[1]), x > 0, x.isFinite,
                    let i = species.firstIndex(where: { $0.name == parts[0] })
                else { continue }
                species[i].absoluteTolerance = x
            }
            if let list = settings.attributes["outputTimes"] {
                simulation.explicitOutputTimes = list.split(separator: " ").compactMap { Double($0) }
            }
        }
    }
}
