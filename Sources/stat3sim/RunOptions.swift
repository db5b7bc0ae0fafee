import ArgumentParser
import ODESolver
import Simulation

/// The options every simulating command shares: values to override and solver settings.
struct RunOptions: ParsableArguments {
    @Option(
        name: .customLong("set"),
        help: ArgumentHelp(
            "Override a parameter, initial concentration or compartment size (repeatable).", valueName: "name=value"))
    var assignments: [String] = []

    @Option(name: .customLong("t-end"), help: "End time (model time units).")
    var tEnd: Double?

    @Option(
        name: .customLong("output-interval"), help: "Spacing of output rows (of the --trajectories file for sweeps).")
    var outputInterval: Double?

    @Option(help: "Relative tolerance of the solver.")
    var rtol: Double?

    @Option(help: "Absolute tolerance of the solver.")
    var atol: Double?

    @Option(
        name: .customLong("max-rows"),
        help: ArgumentHelp(
            "Refuse outputs of more rows than this (default 100000000): a time course's rows, a sweep's points and its "
                + "--trajectories rows, --follow's steady states. Larger outputs are refused before any work, with "
                + "their size; raise this to ask for them anyway.",
            valueName: "N"))
    var maxRows: Int?

    @Option(name: .customLong("linear-solver"), help: LinearSolverChoice.help)
    var linearSolver: LinearSolverChoice = .automatic

    /// The settings these options ask for.
    func settings() throws -> RunSettings {
        var settings = RunSettings()
        settings.overrides = try assignments.map(parseAssignment)
        settings.tEnd = tEnd
        settings.outputInterval = outputInterval
        settings.rtol = rtol
        settings.atol = atol
        settings.linearSolver = linearSolver.option
        if let maxRows {
            guard maxRows >= 1 else { throw CLIError("--max-rows must be at least 1.") }
            settings.maxRows = maxRows
        }
        return settings
    }
}
