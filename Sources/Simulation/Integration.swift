import ODESolver
import ReactionModel

/// What an integration reports to: the state at the start (after events at t_start), every
/// internal solver step (the solution anywhere in it by `solver.interpolate`), and the state right
/// after each event. Time courses, metrics and trajectories are observers of one integration loop.
protocol IntegrationObserver {
    mutating func start(t: Double, state: UnsafePointer<Double>, network: ReactionNetwork)
    mutating func step(from t0: Double, to t1: Double, solver: BDFSolver<ReactionNetwork>, network: ReactionNetwork) throws
    mutating func afterEvent(t: Double, state: UnsafePointer<Double>, network: ReactionNetwork)
}

/// One run, configured: initial state, time span, event schedule and output grid, with the
/// network's parameter and compartment values already set.
struct ConfiguredRun {
    var initial: [Double]
    var tStart: Double
    var tEnd: Double
    var outputTimes: [Double]
    /// Events in time order (file order within a time).
    var schedule: [(time: Double, event: ModelDefinition.Event)]

    /// Whether an event happens at exactly `t`.
    func hasEvent(at t: Double) -> Bool { schedule.contains { $0.time == t } }
}

/// The integration loop shared by time courses and sweeps: steps the solver to each event (never
/// across it), applies the event's assignments all at once with the values just before it,
/// restarts the solver there, and goes on to t_end.
enum Integration {
    static func run<Observer: IntegrationObserver>(_ configured: ConfiguredRun, network: ReactionNetwork,
                                                  solver: BDFSolver<ReactionNetwork>, state: inout [Double],
                                                  observer: inout Observer) throws {
        state = configured.initial
        var next = 0
        func applyEvents(at time: Double) {
            while next < configured.schedule.count && configured.schedule[next].time == time {
                let event = configured.schedule[next].event
                let values = state.withUnsafeBufferPointer { y in
                    event.assignments.map { network.evaluate($0.expression, t: time, y: y.baseAddress!) }
                }
                for (assignment, value) in zip(event.assignments, values) {
                    switch assignment.target {
                    case .species(let i): state[i] = value
                    case .parameter(let i): network.setParameter(i, value)
                    }
                }
                next += 1
            }
        }
        applyEvents(at: configured.tStart)
        solver.reset(time: configured.tStart, state: state, keepStatistics: false)
        state.withUnsafeBufferPointer { observer.start(t: configured.tStart, state: $0.baseAddress!, network: network) }
        var t = configured.tStart
        var stepped = false   // since the last (re)start: `state` is current otherwise
        while true {
            let stop = next < configured.schedule.count ? configured.schedule[next].time : configured.tEnd
            while t < stop {
                let reached = try solver.step(stopTime: stop)
                // The last step ends within round-off of the stop: call it the stop.
                let t1 = solver.hasReached(stop) ? stop : reached
                try observer.step(from: t, to: t1, solver: solver, network: network)
                t = t1
                stepped = true
            }
            if stepped {
                try state.withUnsafeMutableBufferPointer { try solver.interpolate(at: stop, into: $0.baseAddress!) }
            }
            if next >= configured.schedule.count { break }
            applyEvents(at: stop)
            solver.reset(time: stop, state: state, keepStatistics: true)
            stepped = false
            state.withUnsafeBufferPointer { observer.afterEvent(t: stop, state: $0.baseAddress!, network: network) }
        }
    }
}

/// Records species and observables at the output times by dense output. An output at an event
/// time shows the state after the event.
struct GridRecorder: IntegrationObserver {
    let times: [Double]
    let width: Int
    let speciesCount: Int
    let configured: ConfiguredRun
    var values: [Double]
    var row = 0
    var scratch: [Double]

    init(_ configured: ConfiguredRun, speciesCount: Int, observableCount: Int) {
        self.configured = configured
        times = configured.outputTimes
        self.speciesCount = speciesCount
        width = speciesCount + observableCount
        values = [Double](repeating: 0, count: times.count * width)
        scratch = [Double](repeating: 0, count: speciesCount)
    }

    mutating func record(_ state: UnsafePointer<Double>, at t: Double, network: ReactionNetwork) {
        let base = row * width
        let n = speciesCount
        values.withUnsafeMutableBufferPointer { v in
            for i in 0..<n { v[base + i] = state[i] }
            network.observables(t: t, y: state, into: v.baseAddress! + base + n)
        }
        row += 1
    }

    mutating func recordAll(through t: Double, inclusive: Bool, state: UnsafePointer<Double>, network: ReactionNetwork) {
        while row < times.count && (times[row] < t || (inclusive && times[row] == t)) {
            record(state, at: times[row], network: network)
        }
    }

    mutating func start(t: Double, state: UnsafePointer<Double>, network: ReactionNetwork) {
        recordAll(through: t, inclusive: true, state: state, network: network)
    }

    mutating func step(from t0: Double, to t1: Double, solver: BDFSolver<ReactionNetwork>, network: ReactionNetwork) throws {
        // Outputs in (t0, t1]; one at t1 waits for the event there, if any.
        let includeEnd = !configured.hasEvent(at: t1)
        while row < times.count && (times[row] < t1 || (includeEnd && times[row] == t1)) {
            let t = times[row]
            // Borrow the scratch buffer (a swap, not a copy) while `record` mutates self.
            var y: [Double] = []
            swap(&y, &scratch)
            defer { swap(&y, &scratch) }
            try y.withUnsafeMutableBufferPointer { try solver.interpolate(at: t, into: $0.baseAddress!) }
            y.withUnsafeBufferPointer { record($0.baseAddress!, at: t, network: network) }
        }
    }

    mutating func afterEvent(t: Double, state: UnsafePointer<Double>, network: ReactionNetwork) {
        recordAll(through: t, inclusive: true, state: state, network: network)
    }
}
