import ODESolver
import ReactionModel

/// One sweep job's private workspace: its own compiled network (evaluation uses the network's
/// stack, and points change its parameters), solver and metric buffers, reused for every point
/// the job computes.
final class Workspace {
    let simulator: Simulator
    let specification: SweepSpecification
    let network: ReactionNetwork
    let solver: BDFSolver<ReactionNetwork>
    var metrics: MetricsObserver
    let recordTrajectories: Bool
    var state: [Double]
    var derivative: [Double]
    var observableScratch: [Double]
    var shifted: [Double]
    /// Built when a steady_state metric is asked for.
    var steadySolver: SteadyStateSolver? = nil

    init(simulator: Simulator, specification: SweepSpecification, trajectories: Bool) throws {
        self.simulator = simulator
        self.specification = specification
        network = simulator.network.copy()
        do {
            solver = try BDFSolver(system: network, options: simulator.solverOptions(specification.settings))
        } catch let e as ODESolverError {
            throw SimulationError("invalid solver settings: \(e)", solverError: e)
        }
        metrics = MetricsObserver(metrics: specification.metrics, definition: simulator.definition)
        recordTrajectories = trajectories
        let n = simulator.definition.species.count
        state = .init(repeating: 0, count: n)
        derivative = state
        shifted = state
        observableScratch = .init(repeating: 0, count: simulator.definition.observables.count)
    }

    /// Computes one point: its CSV row, its trajectory rows (when asked) and its status.
    func compute(point number: Int) throws -> (row: String, trajectory: String?, status: OrderedWriter.Status) {
        let plan = specification.plan
        let (values, scenario) = plan.point(number)
        let d = simulator.definition
        var prefix = "\(number)"
        if specification.hasScenarioColumn { prefix += "," + OutputWriter.csvField(scenario ?? "default") }
        for v in values { prefix += "," + v.exactText }
        let emptyMetrics = String(repeating: ",", count: specification.metrics.count)

        // The default values (and scenario, and --set) first; a configuration error is the
        // sweep's, not the point's.
        var configured = try simulator.configure(network, scenario: scenario, settings: specification.settings)
        do {
            for (name, value) in zip(plan.names, values) {
                try Simulator.override(
                    name, value, definition: d, network: network, initial: &configured.initial, flag: "point \(number):"
                )
            }
        } catch let e as SimulationError {
            return (prefix + ",failed," + OutputWriter.csvField(e.message) + emptyMetrics + "\n", nil, .failed)
        }

        metrics.reset(for: configured)
        var trajectory: String? = nil
        do {
            if recordTrajectories {
                let rows = StoredRows(capacity: configured.outputTimes.count * (d.species.count + d.observables.count))
                var observer = Both(
                    first: metrics,
                    second: GridRecorder(
                        configured, speciesCount: d.species.count, observableCount: d.observables.count, sink: rows))
                try Integration.run(configured, network: network, solver: solver, state: &state, observer: &observer)
                metrics = observer.first
                if let failure = observer.second.failure { throw failure }
                trajectory = trajectoryRows(number, scenario, observer.second)
            } else {
                try Integration.run(configured, network: network, solver: solver, state: &state, observer: &metrics)
            }
        } catch let e as ODESolverError {
            return (
                prefix + ",failed," + OutputWriter.csvField(e.description) + emptyMetrics + "\n", trajectory, .failed
            )
        }

        var (results, unsettled) = metrics.results(rate: { self.rate(ofTarget: $0, at: configured.tEnd) })
        // steady_state: polish the final state with the steady-state solver's Newton; when it
        // converges next to where the run ended, that is the steady state (settled or nearly).
        if specification.metrics.contains(where: { $0.kind == .steadyState }),
            let steady = polishedSteadyState(at: configured)
        {
            for (m, metric) in specification.metrics.enumerated() where metric.kind == .steadyState {
                results[m] = targetValue(metric.target, in: steady, t: configured.tEnd)
            }
            unsettled.removeAll()
        }
        // A sustained response is bistable when the unstimulated start settles elsewhere under the
        // same final parameters: the run's history decided.
        for (m, metric) in specification.metrics.enumerated() where metric.kind == .regime && results[m] == 1 {
            if steadySolver == nil {
                steadySolver = try? SteadyStateSolver(
                    network: network, options: simulator.solverOptions(specification.settings))
            }
            guard let solver = steadySolver,
                let fromRest = try? solver.solve(from: configured.initial, t: configured.tEnd)
            else { continue }
            let k = metrics.metrics[m].target
            let rise = metrics.peak(k) - metrics.baseline(k)
            if abs(targetValue(metric.target, in: fromRest.state, t: configured.tEnd) - metrics.last(k)) > 0.1 * rise {
                results[m] = 2
            }
        }
        var status = OrderedWriter.Status.ok
        var message = ""
        if !unsettled.isEmpty {
            status = .unsettled
            let names = unsettled.map { specification.metrics[$0].target }
            message = "did not settle by t = \(configured.tEnd.plainText): " + names.joined(separator: " ")
        }
        var row = prefix + "," + (status == .ok ? "ok" : "unsettled") + "," + OutputWriter.csvField(message)
        for value in results { row += "," + (value.isNaN ? "" : value.exactText) }
        return (row + "\n", trajectory, status)
    }

    /// The steady state next to the final state (every species within 0.1 % of it, or of the
    /// absolute tolerance), or nil.
    func polishedSteadyState(at configured: ConfiguredRun) -> [Double]? {
        if steadySolver == nil {
            steadySolver = try? SteadyStateSolver(
                network: network, options: simulator.solverOptions(specification.settings))
        }
        guard let solver = steadySolver, let (steady, _) = solver.newton(from: state, t: configured.tEnd) else {
            return nil
        }
        let atol = specification.settings.atol ?? simulator.definition.simulation.atol
        for (a, b) in zip(steady, state) where abs(a - b) > 1e-3 * abs(b) + atol { return nil }
        return steady
    }

    func targetValue(_ name: String, in y: [Double], t: Double) -> Double {
        switch simulator.definition.symbol(named: name) {
        case .species(let i): return y[i]
        case .observable(let i):
            y.withUnsafeBufferPointer { yp in
                observableScratch.withUnsafeMutableBufferPointer {
                    network.observables(t: t, y: yp.baseAddress!, into: $0.baseAddress!)
                }
            }
            return observableScratch[i]
        default: return .nan
        }
    }

    /// d(target)/dt at the final state: f for species; a directional difference along f for
    /// observables (exact to first order; the settling test needs only its size).
    func rate(ofTarget k: Int, at t: Double) -> Double {
        let target = metrics.targets[k]
        let n = state.count
        state.withUnsafeBufferPointer { y in
            derivative.withUnsafeMutableBufferPointer { network.rhs(t: t, y: y.baseAddress!, dydt: $0.baseAddress!) }
        }
        if target.species { return derivative[target.index] }
        let duration = max(metrics.configured.tEnd - metrics.configured.tStart, 1e-12)
        let epsilon = 1e-6 * duration
        for i in 0..<n { shifted[i] = state[i] + epsilon * derivative[i] }
        let base = targetValue(metrics.targetNames[k], in: state, t: t)
        let moved = targetValue(metrics.targetNames[k], in: shifted, t: t + epsilon)
        return (moved - base) / epsilon
    }

    func trajectoryRows(_ number: Int, _ scenario: String?, _ recorder: GridRecorder<StoredRows>) -> String {
        var text = ""
        let label = specification.hasScenarioColumn ? "," + OutputWriter.csvField(scenario ?? "default") : ""
        for (row, t) in recorder.times.enumerated() {
            text += "\(number)\(label),\(t.exactText)"
            for c in 0..<recorder.width {
                text += "," + recorder.sink.values[row * recorder.width + c].exactText
            }
            text += "\n"
        }
        return text
    }
}

/// Two observers of one integration.
struct Both<A: IntegrationObserver, B: IntegrationObserver>: IntegrationObserver {
    var first: A
    var second: B

    mutating func start(t: Double, state: UnsafePointer<Double>, network: ReactionNetwork) {
        first.start(t: t, state: state, network: network)
        second.start(t: t, state: state, network: network)
    }

    mutating func step(
        from t0: Double, to t1: Double, eventAtEnd: Bool, solver: BDFSolver<ReactionNetwork>, network: ReactionNetwork
    ) throws {
        try first.step(from: t0, to: t1, eventAtEnd: eventAtEnd, solver: solver, network: network)
        try second.step(from: t0, to: t1, eventAtEnd: eventAtEnd, solver: solver, network: network)
    }

    mutating func afterEvent(t: Double, state: UnsafePointer<Double>, network: ReactionNetwork) {
        first.afterEvent(t: t, state: state, network: network)
        second.afterEvent(t: t, state: state, network: network)
    }
}
