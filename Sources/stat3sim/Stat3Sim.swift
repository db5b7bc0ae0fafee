import ArgumentParser
import Foundation
import ODESolver

/// The stat3sim command line. Thin by design: each subcommand parses flags, calls the library,
/// and prints.
@main
struct Stat3Sim: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "stat3sim",
        abstract: "Simulate IL-6/JAK/STAT3 signalling with a stiff BDF solver.",
        version: version,
        subcommands: [
            Run.self, Check.self, Steady.self, Sweep.self, GSA.self, Sensitivity.self, Merge.self, Export.self,
            Import.self, PEtab.self, Fit.self, Profile.self, Demo.self, BenchSolver.self, BenchLinearAlgebra.self,
            BenchSensitivities.self, BenchPEtab.self,
            BenchLoad.self,
            BenchModel.self,
        ])

    static func main() {
        // OpenBLAS single-threaded: our matrices are small; parallelism belongs to sweeps.
        LinearAlgebra.configure()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as CLIError {
            // Model and run errors are complete paragraphs: print them as they are.
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            Foundation.exit(1)
        } catch {
            // A sweep word ArgumentParser could not read: the parser's sentence, as other
            // refusals are printed (one line, exit status 1).
            if let message = syntaxError(in: error) {
                FileHandle.standardError.write(Data((message + "\n").utf8))
                Foundation.exit(1)
            }
            exit(withError: error)
        }
    }
}
