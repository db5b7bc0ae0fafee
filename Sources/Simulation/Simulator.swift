import ODESolver
import ReactionModel

/// Runs time courses of one model: applies a scenario and overrides, integrates with the BDF
/// solver, stops exactly at every event, applies it, and restarts; samples species and
/// observables at the output times by dense output.
public final class Simulator {
    public let definition: ModelDefinition
    /// The compiled network (reused across scenarios; values are reset for each run).
    public let network: ReactionNetwork

    public init(_ definition: ModelDefinition) {
        self.definition = definition
        self.network = ReactionNetwork(definition)
    }

    /// The output grid a run with `settings` uses.
    public func outputTimes(_ settings: RunSettings) throws -> [Double] {
        var sim = definition.simulation
        if let tEnd = settings.tEnd {
            guard tEnd > sim.tStart else { throw SimulationError("--t-end \(tEnd) must be later than the start time \(sim.tStart).") }
            sim.tEnd = tEnd
            if let explicit = sim.explicitOutputTimes {
                sim.explicitOutputTimes = explicit.filter { $0 <= tEnd }
                if sim.explicitOutputTimes!.last != tEnd { sim.explicitOutputTimes!.append(tEnd) }
            }
        }
        if let interval = settings.outputInterval {
            guard interval > 0, interval.isFinite else { throw SimulationError("--output-interval must be a positive number, not \(interval).") }
            sim.outputInterval = interval
            sim.explicitOutputTimes = nil
        }
        return sim.outputTimes
    }

    /// Runs the model's default, or `scenario`, with `settings`.
    public func run(scenario name: String? = nil, settings: RunSettings = RunSettings()) throws -> TimeCourse {
        let d = definition
        var scenario: ModelDefinition.Scenario? = nil
        if let name {
            guard let s = d.scenario(named: name) else {
                let names = d.scenarios.map(\.name)
                throw SimulationError(names.isEmpty
                    ? "the model defines no scenarios, so there is no scenario '\(name)'."
                    : "the model has no scenario '\(name)'\(didYouMean(name, among: names)); its scenarios are \(names.joined(separator: ", ")).")
            }
            scenario = s
        }

        // Values in force: file values, then the scenario, then the command line.
        for (i, p) in d.parameters.enumerated() { network.setParameter(i, p.value) }
        for (i, c) in d.compartments.enumerated() { network.setCompartmentSize(i, c.size) }
        var initial = d.species.map(\.initial)
        if let scenario {
            for (i, x) in scenario.parameters { network.setParameter(i, x) }
            for (i, x) in scenario.compartments { network.setCompartmentSize(i, x) }
            for (i, x) in scenario.initial { initial[i] = x }
        }
        for (name, value) in settings.overrides {
            guard value.isFinite else { throw SimulationError("--set \(name)=\(value): the value must be finite.") }
            switch d.symbol(named: name) {
            case .parameter(let i): network.setParameter(i, value)
            case .species(let i):
                guard value >= 0 else { throw SimulationError("--set \(name)=\(value): an initial concentration must be ≥ 0.") }
                initial[i] = value
            case .compartment(let i):
                guard value > 0 else { throw SimulationError("--set \(name)=\(value): a compartment size must be > 0.") }
                network.setCompartmentSize(i, value)
            case .observable, .time:
                throw SimulationError("--set \(name)=…: '\(name)' is \(name == "t" ? "time" : "an observable"); only parameters, species (initial concentrations) and compartment sizes can be set.")
            case nil:
                let names = d.parameters.map(\.name) + d.species.map(\.name) + d.compartments.map(\.name)
                throw SimulationError("--set \(name)=…: the model has no parameter, species or compartment '\(name)'\(didYouMean(name, among: names)).")
            }
        }

        let times = try outputTimes(settings)
        let tStart = d.simulation.tStart, tEnd = times.last!
        var options = BDFOptions(relativeTolerance: settings.rtol ?? d.simulation.rtol,
                                 absoluteTolerance: settings.atol ?? d.simulation.atol)
        options.maxSteps = 500_000
        let solver: BDFSolver<ReactionNetwork>
        do { solver = try BDFSolver(system: network, options: options) } catch let e as ODESolverError {
            throw SimulationError("invalid solver settings: \(e)")
        }

        // Events in time order (file order within a time): model events, then the scenario's.
        let allEvents = d.events + (scenario?.events ?? [])
        var schedule: [(time: Double, event: Int)] = []
        for (k, e) in allEvents.enumerated() { for time in e.times where time <= tEnd { schedule.append((time, k)) } }
        schedule.sort { ($0.time, $0.event) < ($1.time, $1.event) }

        let n = d.species.count
        let columns = d.species.map(\.name) + d.observables.map(\.name)
        var values = [Double](repeating: 0, count: times.count * columns.count)
        var y = initial
        var next = 0   // next scheduled event
        func applyEvents(at time: Double) {
            while next < schedule.count && schedule[next].time == time {
                // Simultaneous assignments: every right-hand side sees the values before the event.
                let event = allEvents[schedule[next].event]
                let newValues = y.withUnsafeBufferPointer { yp in
                    event.assignments.map { network.evaluate($0.expression, t: time, y: yp.baseAddress!) }
                }
                for (a, value) in zip(event.assignments, newValues) {
                    switch a.target {
                    case .species(let i): y[i] = value
                    case .parameter(let i): network.setParameter(i, value)
                    }
                }
                next += 1
            }
        }

        applyEvents(at: tStart)
        solver.reset(time: tStart, state: y)
        var row = 0
        func record(_ state: UnsafePointer<Double>, at time: Double) {
            let base = row * columns.count
            values.withUnsafeMutableBufferPointer { v in
                for i in 0..<n { v[base + i] = state[i] }
                network.observables(t: time, y: state, into: v.baseAddress! + base + n)
            }
            row += 1
        }
        do {
            while true {
                let stop = next < schedule.count ? schedule[next].time : tEnd
                try y.withUnsafeMutableBufferPointer { yp in
                    while row < times.count && (times[row] < stop || (times[row] == stop && next >= schedule.count)) {
                        try solver.advance(to: times[row], stopTime: stop, into: yp.baseAddress!)
                        record(yp.baseAddress!, at: times[row])
                    }
                }
                if next >= schedule.count { break }
                // Integrate exactly to the event, apply it, restart there.
                try y.withUnsafeMutableBufferPointer { yp in
                    _ = try solver.advance(to: stop, stopTime: stop, into: yp.baseAddress!)
                }
                applyEvents(at: stop)
                solver.reset(time: stop, state: y, keepStatistics: true)
            }
        } catch let e as ODESolverError {
            let which = name.map { " (scenario '\($0)')" } ?? ""
            throw SimulationError("the simulation of \(d.file)\(which) failed: \(e)")
        }
        return TimeCourse(scenario: name, columns: columns, times: times, values: values, statistics: solver.statistics)
    }
}
