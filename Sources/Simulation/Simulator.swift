import ODESolver
import ReactionModel

/// Runs time courses of one model: applies a scenario and overrides, integrates with the BDF
/// solver, stops exactly at every event, applies it, and restarts; samples species and
/// observables at the output times by dense output.
public final class Simulator {
    public let definition: ModelDefinition
    /// The compiled network (reused across runs; values are reset for each run).
    public let network: ReactionNetwork

    public init(_ definition: ModelDefinition) {
        self.definition = definition
        self.network = ReactionNetwork(definition)
    }

    /// The output grid a run with `settings` uses: the model's [simulation] values, replaced by
    /// the command line's. Both sources meet here, so here an end time or interval that cannot
    /// make a grid is refused (a grid is never stored, so its size costs no memory; writers
    /// check the row count with `OutputSize.check`).
    public func outputGrid(_ settings: RunSettings) throws -> OutputGrid {
        var sim = definition.simulation
        if let tEnd = settings.tEnd {
            guard !tEnd.isInfinite else {
                throw SimulationError("--t-end \(tEnd): the end time must be a finite number.")
            }
            guard tEnd > sim.tStart else {
                throw SimulationError("--t-end \(tEnd) must be later than the start time \(sim.tStart).")
            }
            sim.tEnd = tEnd
            if let explicit = sim.explicitOutputTimes {
                sim.explicitOutputTimes = explicit.filter { $0 <= tEnd }
                if sim.explicitOutputTimes!.last != tEnd { sim.explicitOutputTimes!.append(tEnd) }
            }
        }
        if let interval = settings.outputInterval {
            guard interval > 0, interval.isFinite else {
                throw SimulationError("--output-interval must be a positive number, not \(interval).")
            }
            sim.outputInterval = interval
            sim.explicitOutputTimes = nil
        }
        if let explicit = sim.explicitOutputTimes { return OutputGrid(explicit: explicit) }
        // (The loader refuses non-finite or non-positive values in the file.)
        guard sim.tStart.isFinite, sim.tEnd.isFinite, sim.tEnd > sim.tStart else {
            throw SimulationError(
                "the run [\(sim.tStart), \(sim.tEnd)] must be finite and later at its end than at its start.")
        }
        return try OutputGrid(
            start: sim.tStart, end: sim.tEnd, interval: sim.outputInterval ?? (sim.tEnd - sim.tStart) / 100)
    }

    /// The output grid as an array (for small grids: tests, plots).
    public func outputTimes(_ settings: RunSettings) throws -> [Double] {
        Array(try outputGrid(settings))
    }

    /// Solver options of a run: the model's tolerances unless `settings` overrides them.
    public func solverOptions(_ settings: RunSettings) -> BDFOptions {
        var options = BDFOptions(
            relativeTolerance: settings.rtol ?? definition.simulation.rtol,
            absoluteTolerance: settings.atol ?? definition.simulation.atol)
        // The species' own tolerances, unless the command line gives one for all.
        if settings.atol == nil, let perSpecies = definition.absoluteTolerancesByState {
            options.absoluteTolerance = .perComponent(perSpecies)
        }
        options.maxSteps = settings.maxSteps ?? 500_000
        options.linearSolver = settings.linearSolver
        return options
    }

    /// Sets `network`'s values for the default run or `scenario` plus `settings`' overrides and
    /// returns the run's initial state, span, events and output grid.
    func configure(_ network: ReactionNetwork, scenario name: String?, settings: RunSettings) throws -> ConfiguredRun {
        let d = definition
        let scenarios = try Simulator.scenarios(named: name, in: d)
        // Values in force: file values, then the scenarios left to right, then the command line.
        for (i, p) in d.parameters.enumerated() { network.setParameter(i, p.value) }
        for (i, c) in d.compartments.enumerated() { network.setCompartmentSize(i, c.size) }
        var initial = d.species.map(\.initial)
        for scenario in scenarios {
            for (i, x) in scenario.parameters { network.setParameter(i, x) }
            for (i, x) in scenario.compartments { network.setCompartmentSize(i, x) }
            for (i, x) in scenario.initial { initial[i] = x }
        }
        for (name, value) in settings.overrides {
            try Simulator.override(name, value, definition: d, network: network, initial: &initial, flag: "--set")
        }
        let times = try outputGrid(settings)
        let tEnd = times.last!
        let events = d.events + scenarios.flatMap(\.events)
        var schedule: [(time: Double, order: Int, event: ModelDefinition.Event)] = []
        for (k, e) in events.enumerated() { for time in e.times where time <= tEnd { schedule.append((time, k, e)) } }
        schedule.sort { ($0.time, $0.order) < ($1.time, $1.order) }
        var configured = ConfiguredRun(
            initial: initial, tStart: d.simulation.tStart, tEnd: tEnd, outputTimes: times,
            schedule: schedule.map { ($0.time, $0.event) })
        configured.stateEvents = events.filter { $0.trigger != nil }
        configured.switches = SwitchPlan(network)
        let roots =
            configured.stateEvents.flatMap { $0.trigger!.condition.rootFunctions }
            + configured.switches.watched.map(\.expression)
        if !roots.isEmpty { configured.rootFunctions = network.compile(roots) }
        return configured
    }

    /// The scenarios of `name`: one name, or several joined by '+' (a lesion with a therapy,
    /// say), applied left to right: later values win, events add up.
    public static func scenarios(named name: String?, in d: ModelDefinition) throws -> [ModelDefinition.Scenario] {
        guard let name else { return [] }
        return try name.split(separator: "+").map { part in
            let single = String(part).trimmingCharacters(in: .whitespaces)
            guard let s = d.scenario(named: single) else {
                let names = d.scenarios.map(\.name)
                throw SimulationError(
                    names.isEmpty
                        ? "the model defines no scenarios, so there is no scenario '\(single)'."
                        : "the model has no scenario '\(single)'\(didYouMean(single, among: names)); its scenarios are "
                            + "\(names.joined(separator: ", "))."
                )
            }
            return s
        }
    }

    /// Sets the network's values for a scenario and overrides and returns the initial state.
    public func initialState(scenario: String?, settings: RunSettings) throws -> [Double] {
        try configure(network, scenario: scenario, settings: settings).initial
    }

    /// Sets a parameter, an initial concentration or a compartment size by name.
    public static func override(
        _ name: String, _ value: Double, definition d: ModelDefinition, network: ReactionNetwork,
        initial: inout [Double], flag: String
    ) throws {
        guard value.isFinite else {
            throw SimulationError("\(flag) \(excerpt(name))=\(value): the value must be finite.")
        }
        switch d.symbol(named: name) {
        case .parameter(let i): network.setParameter(i, value)
        case .species(let i):
            guard value >= 0 || d.species[i].isParameter || d.species[i].mayBeNegative else {
                throw SimulationError("\(flag) \(name)=\(value): an initial concentration must be ≥ 0.")
            }
            initial[i] = value
        case .compartment(let i):
            guard value > 0 else { throw SimulationError("\(flag) \(name)=\(value): a compartment size must be > 0.") }
            network.setCompartmentSize(i, value)
        case .observable, .time:
            throw SimulationError(
                "\(flag) \(excerpt(name))=…: '\(excerpt(name))' is \(name == "t" ? "time" : "an observable"); only "
                    + "parameters, species (initial concentrations) and compartment sizes can be set."
            )
        case nil:
            throw SimulationError("\(flag) \(excerpt(name))=…: \(noSettable(named: name, in: d))")
        }
    }

    /// The sentence for a name that is no parameter, species or compartment of `d` (with a
    /// suggestion when one is close).
    static func noSettable(named name: String, in d: ModelDefinition) -> String {
        let names = d.parameters.map(\.name) + d.species.map(\.name) + d.compartments.map(\.name)
        return "the model has no parameter, species or compartment '\(excerpt(name))'\(didYouMean(name, among: names))."
    }

    /// A run ready to integrate: values set, solver built, output columns resolved. Everything
    /// a run can refuse is refused here, before any output is written.
    struct Prepared {
        var configured: ConfiguredRun
        var solver: BDFSolver<ReactionNetwork>
        var parameterColumns: [Int]
        var columns: [String]
        /// With `settings.sensitivities`: the sensitivities' state and columns.
        var sensitivities: SensitivityColumns? = nil
    }

    func prepare(scenario name: String?, settings: RunSettings) throws -> Prepared {
        let configured = try configure(network, scenario: name, settings: settings)
        let solver: BDFSolver<ReactionNetwork>
        do { solver = try BDFSolver(system: network, options: solverOptions(settings)) } catch let e as ODESolverError {
            throw SimulationError("invalid solver settings: \(e)", solverError: e)
        }
        // Names that are columns anyway (species, observables, parameters with rate rules) are
        // written once; anything else must be a parameter.
        let parameterColumns = try settings.outputParameters.compactMap { name -> Int? in
            switch definition.symbol(named: name) {
            case .parameter(let i)?: return i
            case .species?, .observable?: return nil
            default:
                throw SimulationError(
                    "--output-parameters \(excerpt(name)): the model has no parameter "
                        + "'\(excerpt(name))'\(didYouMean(name, among: definition.parameters.map(\.name)))."
                )
            }
        }
        let quantities = definition.species.map(\.name) + definition.observables.map(\.name)
        var columns = quantities + parameterColumns.map { definition.parameters[$0].name }
        var sensitivities: SensitivityColumns? = nil
        if let request = settings.sensitivities {
            let indices = try sensitivityParameters(request, configured)
            let values = indices.map { network.sensitivityParameterValue($0, initial: configured.initial) }
            // Each s_k is measured against its parameter's size (CVODES's default scaling).
            let scales = values.map { $0 != 0 && $0.isFinite ? abs($0) : 1 }
            do {
                try solver.enableSensitivities(
                    parameters: indices, parameterScales: scales, errorControl: request.errorControl)
            } catch let e as ODESolverError {
                throw SimulationError("invalid sensitivity settings: \(e)", solverError: e)
            }
            let roots = configured.stateEvents.flatMap { $0.trigger!.condition.rootFunctions }
            let state = RunSensitivities(network: network, parameters: indices, roots: roots)
            sensitivities = SensitivityColumns(state, normalized: request.normalized, values: values)
            for p in request.parameters {
                columns += quantities.map { SensitivityRequest.columnName($0, p, normalized: request.normalized) }
            }
        }
        return Prepared(
            configured: configured, solver: solver, parameterColumns: parameterColumns, columns: columns,
            sensitivities: sensitivities)
    }

    /// Checks a run without integrating it; returns its row count and columns (after `time`).
    public func validate(scenario name: String?, settings: RunSettings) throws -> (rows: Int, columns: [String]) {
        let prepared = try prepare(scenario: name, settings: settings)
        return (prepared.configured.outputTimes.count, prepared.columns)
    }

    func integrate<Sink: RowSink>(_ prepared: Prepared, scenario name: String?, sink: Sink, stop: StopFlag?) throws
        -> GridRecorder<Sink>
    {
        var recorder = GridRecorder(
            prepared.configured, speciesCount: definition.species.count, observableCount: definition.observables.count,
            parameterColumns: prepared.parameterColumns, sensitivities: prepared.sensitivities, sink: sink)
        recorder.stop = stop
        var state = prepared.configured.initial
        do {
            try Integration.run(
                prepared.configured, network: network, solver: prepared.solver, state: &state, observer: &recorder,
                sensitivities: prepared.sensitivities?.sensitivities)
        } catch let e as ODESolverError {
            let which = name.map { " (scenario '\($0)')" } ?? ""
            throw SimulationError("the simulation of \(definition.file)\(which) failed: \(e)", solverError: e)
        }
        if let failure = recorder.failure { throw failure }
        return recorder
    }

    /// Runs the model's default, or `scenario`, with `settings`, keeping every row in memory
    /// (at most `settings.maxRows`, by default `OutputSize.defaultMaxRows`).
    public func run(scenario name: String? = nil, settings: RunSettings = RunSettings()) throws -> TimeCourse {
        let prepared = try prepare(scenario: name, settings: settings)
        let times = prepared.configured.outputTimes
        try OutputSize.check(
            rows: times.count, fields: prepared.columns.count + 1, limit: settings.maxRows,
            what: "the run", remedy: "give a larger --output-interval (or a shorter --t-end)")
        let recorder = try integrate(
            prepared, scenario: name, sink: StoredRows(capacity: times.count * prepared.columns.count), stop: nil)
        return TimeCourse(
            scenario: name, columns: prepared.columns, times: Array(times), values: recorder.sink.values,
            statistics: prepared.solver.statistics,
            sensitivityStatistics: prepared.sensitivities == nil ? nil : prepared.solver.sensitivityStatistics)
    }

    /// Runs the model's default, or `scenario`, writing each row to `stream` as the integration
    /// passes its output time (prefixed by `scenarioLabel` when given); memory does not grow
    /// with the rows. The row count is not checked here: the caller checks the whole output.
    /// A set `stop` ends the run with `Interrupted`.
    public func stream(
        scenario name: String? = nil, settings: RunSettings = RunSettings(), to stream: CSVStream,
        scenarioLabel: String?, stop: StopFlag? = nil
    ) throws -> RunSummary {
        let prepared = try prepare(scenario: name, settings: settings)
        let sink = StreamedRows(stream: stream, label: scenarioLabel, width: prepared.columns.count)
        let recorder = try integrate(prepared, scenario: name, sink: sink, stop: stop)
        let times = prepared.configured.outputTimes
        return RunSummary(
            scenario: name, columns: prepared.columns, rows: recorder.sink.rows, firstTime: times.first!,
            lastTime: times.last!,
            statistics: prepared.solver.statistics,
            sensitivityStatistics: prepared.sensitivities == nil ? nil : prepared.solver.sensitivityStatistics,
            peaks: recorder.sink.peak, peakTimes: recorder.sink.peakTime, finals: recorder.sink.final)
    }
}
