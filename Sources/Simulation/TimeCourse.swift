import ODESolver
import ReactionModel

/// One simulated time course: species and observables at every output time.
public struct TimeCourse: Sendable {
    public var scenario: String?
    /// Column names after `time`: species, then observables.
    public var columns: [String]
    public var times: [Double]
    /// Row-major values, `times.count × columns.count`.
    public var values: [Double]
    public var statistics: SolverStatistics
    /// The sensitivities' work counters, for a run with `RunSettings.sensitivities`.
    public var sensitivityStatistics: SensitivityStatistics? = nil

    public func value(row: Int, column: Int) -> Double { values[row * columns.count + column] }

    public func column(named name: String) -> [Double]? {
        guard let c = columns.firstIndex(of: name) else { return nil }
        return times.indices.map { value(row: $0, column: c) }
    }

    /// Largest value of a column and the first output time it is reached.
    public func peak(of name: String) -> (value: Double, time: Double)? {
        guard let values = column(named: name), !values.isEmpty else { return nil }
        var best = 0
        for k in values.indices where values[k] > values[best] { best = k }
        return (values[best], times[best])
    }
}

/// Values a run uses in place of the model's: from `--set`, `--t-end`, … on the command line.
public struct RunSettings: Sendable {
    /// `name = value` for parameters, species (initial concentration) and compartments (size).
    public var overrides: [(name: String, value: Double)] = []
    public var tEnd: Double? = nil
    public var outputInterval: Double? = nil
    public var rtol: Double? = nil
    public var atol: Double? = nil
    /// Parameters to write as columns after the observables: their value at each output time,
    /// as events change them.
    public var outputParameters: [String] = []
    /// Rows an output may have (`--max-rows`); nil: `OutputSize.defaultMaxRows`.
    public var maxRows: Int? = nil
    /// Forward sensitivities to write as columns after everything else (`--sensitivities`).
    public var sensitivities: SensitivityRequest? = nil
    /// Most solver steps between two stops (events, the end); nil: 500,000. A fit lowers it, as
    /// AMICI does, so that a start in a region of extreme stiffness fails fast instead of costing
    /// minutes.
    public var maxSteps: Int? = nil
    /// Which LU factorises the solver's Newton matrix (`--linear-solver`): the automatic choice
    /// by size and sparsity unless the command line names one. Results agree to round-off.
    public var linearSolver: BDFOptions.LinearSolver = .automatic

    public init() {}
}

/// Why a run could not be done: a bad override, or a solver failure in a named scenario.
public struct SimulationError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// The solver's own error when the solver failed (or refused its settings), kept typed for
    /// callers that act on its kind, time or culprit; `message` already describes it.
    public var solverError: ODESolverError?
    public var description: String { message }
    public init(_ message: String, solverError: ODESolverError? = nil) {
        self.message = message
        self.solverError = solverError
    }
}
