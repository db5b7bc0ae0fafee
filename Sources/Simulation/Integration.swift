import ODESolver
import ReactionModel

/// What an integration reports to: the state at the start (after events at t_start), every
/// internal solver step (the solution anywhere in it by `solver.interpolate`; a step may be cut
/// short at a state event found inside it), and the state right after each event. Time courses,
/// metrics and trajectories are observers of one integration loop.
protocol IntegrationObserver {
    mutating func start(t: Double, state: UnsafePointer<Double>, network: ReactionNetwork)
    /// `eventAtEnd`: assignments happen at `t1`, so an output there waits for `afterEvent`.
    mutating func step(
        from t0: Double, to t1: Double, eventAtEnd: Bool, solver: BDFSolver<ReactionNetwork>, network: ReactionNetwork)
        throws
    mutating func afterEvent(t: Double, state: UnsafePointer<Double>, network: ReactionNetwork)
}

/// One run, configured: initial state, time span, event schedule and output grid, with the
/// network's parameter and compartment values already set.
struct ConfiguredRun {
    var initial: [Double]
    var tStart: Double
    var tEnd: Double
    var outputTimes: OutputGrid
    /// Timed events in time order (file order within a time).
    var schedule: [(time: Double, event: ModelDefinition.Event)]
    /// State events (`when`), in file order (the model's, then the scenarios').
    var stateEvents: [ModelDefinition.Event] = []
    /// Their comparisons' root functions, all events' in one list, then the watched switches',
    /// compiled for the network.
    var rootFunctions: ReactionNetwork.CompiledExpressions? = nil
    /// The network's discontinuities: which are watched by root finding, which are stop times.
    var switches = SwitchPlan()
}

/// How a run follows the network's switches (`Switch`): a switch that depends on time alone,
/// affinely, is a stop time computed ahead from its slot and its `a + b·t`; every other one is
/// watched through its root functions, after the state events' comparisons.
struct SwitchPlan {
    /// Root functions of the watched switches, in order, with the relation that holds before a
    /// crossing.
    var watched: [(switchIndex: Int, expression: Expression, relation: Condition.Relation)] = []
    /// Every switch's argument (evaluated with all switches unset).
    var arguments: ReactionNetwork.CompiledExpressions? = nil
    /// The switches that are stop times, and their `a`, `b` (two programs each, in order).
    var timed: [Int] = []
    var affineTerms: ReactionNetwork.CompiledExpressions? = nil
    var count = 0

    init() {}

    init(_ network: ReactionNetwork) {
        let switches = network.switches
        count = switches.count
        guard !switches.isEmpty else { return }
        var terms: [Expression] = []
        for (k, s) in switches.enumerated() {
            if let (a, b) = s.affine {
                timed.append(k)
                terms += [a, b]
            } else {
                for root in s.rootFunctions(k) { watched.append((k, root.expression, root.relation)) }
            }
        }
        arguments = network.compile(switches.map(\.argument))
        if !terms.isEmpty { affineTerms = network.compile(terms) }
    }
}

/// The integration loop shared by time courses and sweeps.
///
/// Timed events and due delayed assignments are stop times: the solver never steps across
/// them. State events are watched through the root functions of their comparisons: after each
/// step their signs at the step's end are compared with those at its start, and a change is
/// located inside the step by root finding on the dense output (`BDFSolver.locateCrossing`).
/// At an event the assignments are applied all at once with values from just before it (or from
/// when a delayed event fired), the triggers are evaluated again, so that events may set off
/// others at the same instant, and the solver restarts there.
enum Integration {
    static func run<Observer: IntegrationObserver>(
        _ configured: ConfiguredRun, network: ReactionNetwork,
        solver: BDFSolver<ReactionNetwork>, state: inout [Double],
        observer: inout Observer, sensitivities: RunSensitivities? = nil
    ) throws {
        var loop = EventLoop(configured, network: network, solver: solver)
        loop.sensitivities = sensitivities
        try loop.run(state: &state, observer: &observer)
    }
}

/// The state of one run's events: where it is in the timed schedule, the truth of every
/// comparison and trigger, and the delayed assignments not yet due.
struct EventLoop {
    /// Assignments to make: an event's, with values already computed when they come from the
    /// moment of firing.
    struct Execution {
        var event: ModelDefinition.Event
        var values: [Double]?
        /// The index among the state events, nil for a timed event.
        var stateEvent: Int? = nil
    }

    /// A delayed event that has fired and is due at `time`.
    struct Pending {
        var time: Double
        var execution: Execution
    }

    let configured: ConfiguredRun
    let network: ReactionNetwork
    let solver: BDFSolver<ReactionNetwork>
    var t: Double
    var nextTimed = 0
    /// Whether the solver has stepped since the last restart (then `state` is stale).
    var stepped = false
    /// For each comparison of the state events (all events' in one list): its relation and
    /// whether it holds now.
    var relations: [Condition.Relation] = []
    var holds: [Bool] = []
    var triggerValue: [Bool]
    /// Delayed events, in order of due time (firing order within a time).
    var pending: [Pending] = []
    /// The non-persistent state events whose trigger turned false at the last `updateTriggers`.
    var cancelled = Set<Int>()
    /// State events that fired at the stop time ahead, where timed events also happen.
    var carried: [Execution] = []
    /// Assignments made in this run: a bound against models whose events never end.
    var executedCount = 0
    /// Chooses among simultaneous events of equal priority.
    var tieBreaker = RandomGenerator(seed: 0x5B3C_0DE5)
    /// Work arrays, allocated once per run.
    final class Scratch {
        var state: [Double]
        var rootsAtStart: [Double], rootsAtEnd: [Double], roots: [Double]
        var holds: [Bool]
        var samples: [Double] = []
        init(states: Int, roots: Int) {
            state = [Double](repeating: 0, count: states)
            rootsAtStart = [Double](repeating: 0, count: roots)
            rootsAtEnd = rootsAtStart
            self.roots = rootsAtStart
            holds = [Bool](repeating: false, count: roots)
        }
    }
    let scratch: Scratch
    /// Forward sensitivities, when the solver integrates them: their values at restarts and
    /// their jumps at events.
    var sensitivities: RunSensitivities? = nil
    /// How many of `relations` are the state events' (the rest are watched switches').
    let eventRootCount: Int
    /// Per timed switch (`SwitchPlan.timed`): its next change, time and value after it.
    var switchStops: [(time: Double, value: Double)?] = []
    /// The earliest of `switchStops`.
    var nextSwitchStop = Double.infinity
    /// Whether the last `updateTriggers` changed a switch (then the solver must restart).
    var switchesChanged = false
    /// Per switch: the start of its current run of flips and their count (see `refreeze`).
    var flipWindow: [(start: Double, count: Int)] = []
    /// Switches found chattering (flipping back and forth in place): left to compare live.
    var released = Set<Int>()
    final class SwitchScratch {
        var arguments: [Double]
        var values: [Double]
        var terms: [Double]
        init(_ plan: SwitchPlan) {
            arguments = [Double](repeating: 0, count: plan.count)
            values = arguments
            terms = [Double](repeating: 0, count: 2 * plan.timed.count)
        }
    }
    let switchScratch: SwitchScratch
    /// Delay equations: the run's solution so far, which the network reads past values from.
    let history: StateHistory?
    /// The lags, when fixed for the run: a jump at the start or at an event reaches the
    /// right-hand side again one and two lags later, where the solver restarts (as delay
    /// solvers do at breakpoints) instead of stepping over a kink with a high-order polynomial.
    let fixedLags: [Double]
    /// Those times still ahead, ascending.
    var breakpoints: [Double] = []
    /// More steps than this in the history, and the ones older than the longest lag go.
    var historyLimit = 4096

    init(_ configured: ConfiguredRun, network: ReactionNetwork, solver: BDFSolver<ReactionNetwork>) {
        self.configured = configured
        self.network = network
        self.solver = solver
        t = configured.tStart
        relations = configured.stateEvents.flatMap { $0.trigger!.condition.comparisons.map(\.relation) }
        eventRootCount = relations.count
        relations += configured.switches.watched.map(\.relation)
        holds = [Bool](repeating: false, count: relations.count)
        switchStops = [(time: Double, value: Double)?](repeating: nil, count: configured.switches.timed.count)
        flipWindow = [(start: Double, count: Int)](repeating: (-.infinity, 0), count: configured.switches.count)
        switchScratch = SwitchScratch(configured.switches)
        triggerValue = configured.stateEvents.map { $0.trigger!.initialValue }
        scratch = Scratch(states: configured.initial.count, roots: relations.count)
        history = network.hasDelays ? network.makeHistory() : nil
        fixedLags = history == nil ? [] : network.fixedLags() ?? []
    }

    var hasStateEvents: Bool { !configured.stateEvents.isEmpty }
    /// Whether anything is watched by root finding (state events or switches).
    var hasRoots: Bool { !relations.isEmpty }
    var hasSwitches: Bool { configured.switches.count > 0 }

    mutating func run<Observer: IntegrationObserver>(state: inout [Double], observer: inout Observer) throws {
        // The switches are this loop's: outside it the network's programs compare live again.
        defer {
            network.resetSwitches()
            network.history = nil
        }
        state = configured.initial
        t = configured.tStart
        sensitivities?.start()
        // Before the start, past values are the initial ones (so triggers at the start read them).
        if let history {
            network.history = history
            state.withUnsafeBufferPointer { y in
                network.withParameterSlots { history.reset(time: t, state: y.baseAddress!, parameters: $0) }
            }
        }
        // Timed events at t_start change the initial state; then state events whose condition is
        // true at the start and was false "before" it (initial_value = false) fire.
        try execute(timedEvents(at: t), at: t, state: &state)
        if let sensitivities {
            solver.reset(time: t, state: state, sensitivities: sensitivities.s, keepStatistics: false)
        } else {
            solver.reset(time: t, state: state, keepStatistics: false)
        }
        if let history {
            // From the start on, the state after its events.
            state.withUnsafeBufferPointer { history.restart(at: t, state: $0.baseAddress!) }
            network.withParameterSlots { history.recordParameters(at: t, $0) }
            addBreakpoints(after: t)
        }
        state.withUnsafeBufferPointer { observer.start(t: t, state: $0.baseAddress!, network: network) }
        stepped = false
        while true {
            let stop = min(
                nextTimed < configured.schedule.count ? configured.schedule[nextTimed].time : configured.tEnd,
                pending.first?.time ?? .infinity, nextSwitchStop, breakpoints.first ?? .infinity, configured.tEnd)
            if t < stop {
                let reached = try solver.step(stopTime: stop)
                if history != nil { recordStep() }
                // The last step ends within round-off of the stop: call it the stop.
                let t1 = solver.hasReached(stop) ? stop : reached
                try advance(to: t1, state: &state, observer: &observer)
                continue
            }
            let timed = timedEvents(at: stop)
            var due: [Execution] = []
            while let first = pending.first, first.time <= stop { due.append(pending.removeFirst().execution) }
            if stepped {
                try interpolate(at: stop, state: &state)
                stepped = false
            }
            let breakpoint = breakpoints.first == stop
            while let b = breakpoints.first, b <= stop { breakpoints.removeFirst() }
            if timed.isEmpty && due.isEmpty && carried.isEmpty && nextSwitchStop != stop {
                // A breakpoint of the delays alone: restart the solver there, nothing else.
                if breakpoint && stop < configured.tEnd {
                    restartSolver(at: stop, state: state)
                    continue
                }
                // Nothing due and no switch here: stop = t_end, and `state` is the final state.
                break
            }
            try execute(timed + due + carried, at: stop, state: &state)
            carried.removeAll()
            restart(at: stop, state: state, observer: &observer)
        }
    }

    /// The timed events at exactly `time`, in schedule order; moves past them.
    mutating func timedEvents(at time: Double) -> [Execution] {
        var list: [Execution] = []
        while nextTimed < configured.schedule.count && configured.schedule[nextTimed].time == time {
            list.append(Execution(event: configured.schedule[nextTimed].event, values: nil))
            nextTimed += 1
        }
        return list
    }

    func isDue(_ time: Double) -> Bool {
        (nextTimed < configured.schedule.count && configured.schedule[nextTimed].time == time)
            || (pending.first.map { $0.time == time } ?? false) || nextSwitchStop == time
    }

    mutating func restart<Observer: IntegrationObserver>(at time: Double, state: [Double], observer: inout Observer) {
        restartSolver(at: time, state: state)
        if let history {
            network.withParameterSlots { history.recordParameters(at: time, $0) }
            addBreakpoints(after: time)
        }
        state.withUnsafeBufferPointer { observer.afterEvent(t: time, state: $0.baseAddress!, network: network) }
    }

    /// The solver (and the history) start again at `time` from `state`.
    mutating func restartSolver(at time: Double, state: [Double]) {
        if let sensitivities {
            solver.reset(time: time, state: state, sensitivities: sensitivities.s, keepStatistics: true)
        } else {
            solver.reset(time: time, state: state, keepStatistics: true)
        }
        stepped = false
        if let history { state.withUnsafeBufferPointer { history.restart(at: time, state: $0.baseAddress!) } }
    }

    /// Keeps the step just taken in the history; beyond `historyLimit` steps, forgets those that
    /// no fixed lag can reach back to.
    mutating func recordStep() {
        guard let history else { return }
        solver.withLastStep { start, end, tn, h, order, nordsieck in
            history.record(start: start, end: end, tn: tn, h: h, order: order, nordsieck: nordsieck)
        }
        if history.stepCount > historyLimit, let longest = fixedLags.last, network.fixedLags() == fixedLags {
            history.discard(before: solver.currentTime - 2 * longest)
            historyLimit = max(4096, 2 * history.stepCount)
        }
    }

    /// The breakpoints one and two lags after a jump at `time` that fall inside the run.
    mutating func addBreakpoints(after time: Double) {
        guard breakpoints.count < 10_000 else { return }
        for lag in fixedLags {
            for k in 1...2 {
                let b = time + Double(k) * lag
                guard b < configured.tEnd else { break }
                let i = breakpoints.firstIndex { $0 >= b } ?? breakpoints.count
                if i == breakpoints.count || breakpoints[i] != b { breakpoints.insert(b, at: i) }
            }
        }
    }

    /// The state (and the sensitivities) at `time` inside the last step.
    func interpolate(at time: Double, state: inout [Double]) throws {
        try state.withUnsafeMutableBufferPointer { try solver.interpolate(at: time, into: $0.baseAddress!) }
        if let sensitivities {
            try sensitivities.s.withUnsafeMutableBufferPointer {
                try solver.interpolateSensitivities(at: time, into: $0.baseAddress!)
            }
        }
    }

    /// Reports the solver's step to `t1` to the observer, cut at the first state event inside it.
    mutating func advance<Observer: IntegrationObserver>(to t1: Double, state: inout [Double], observer: inout Observer)
        throws
    {
        guard hasRoots else {
            try observer.step(from: t, to: t1, eventAtEnd: isDue(t1), solver: solver, network: network)
            t = t1
            stepped = true
            return
        }
        while t < t1 {
            // Which comparisons change first. A pair of crossings inside one interval is
            // invisible to root finding (as in CVODE), so the step is scanned piecewise: at its
            // quarter points and at the output times inside it, which bounds what can be missed
            // by the resolution the user asked for, not by the solver's step size.
            var earliest = t1
            var earliestRoot = 0
            var changed = false
            var a = t
            for k in holds.indices { scratch.holds[k] = holds[k] }  // (an assignment would share, then copy)
            try rootValues(at: t, into: &scratch.rootsAtStart)
            fillSamplePoints(after: t, to: t1)
            for b in scratch.samples {
                try rootValues(at: b, into: &scratch.rootsAtEnd)
                for k in relations.indices where relations[k].holds(scratch.rootsAtEnd[k]) != scratch.holds[k] {
                    changed = true
                    let before = scratch.holds[k]
                    let relation = relations[k]
                    let crossing = try solver.locateCrossing(
                        from: a, value: scratch.rootsAtStart[k], to: b, value: scratch.rootsAtEnd[k]
                    ) { time in
                        try rootValues(at: time, into: &scratch.roots)
                        let g = scratch.roots[k]
                        return (g, relation.holds(g) != before)
                    }
                    if crossing < earliest {
                        earliest = crossing
                        earliestRoot = k
                    }
                }
                if changed { break }
                for k in relations.indices { scratch.holds[k] = relations[k].holds(scratch.rootsAtEnd[k]) }
                swap(&scratch.rootsAtStart, &scratch.rootsAtEnd)
                a = b
            }
            // A delayed event that fired earlier in this step and falls due inside it.
            let pendingInside = pending.first.map { $0.time < earliest } ?? false
            if pendingInside { earliest = pending.first!.time }
            if !changed && !pendingInside {
                try observer.step(from: t, to: t1, eventAtEnd: isDue(t1), solver: solver, network: network)
                t = t1
                stepped = true
                return
            }
            // The state at the happening, and what fires there. Triggers first: a non-persistent
            // event whose condition turns false now loses an assignment due now.
            try interpolate(at: earliest, state: &state)
            let fired = try updateTriggers(at: earliest, state: state)
            if earliest == t1 && isDue(t1) {
                // Timed events or due assignments at the same instant: `run` applies them all
                // together (one queue, one order by priority, outputs after all of them).
                carried += fired
                try observer.step(from: t, to: t1, eventAtEnd: true, solver: solver, network: network)
                t = t1
                stepped = true
                return
            }
            var executions: [Execution] = []
            while let first = pending.first, first.time <= earliest {
                executions.append(pending.removeFirst().execution)
            }
            executions += fired
            // A switch that changed here: the right-hand side takes its other branch from now
            // on, so the solver restarts here even with nothing to assign.
            let switched = switchesChanged
            try observer.step(
                from: t, to: earliest, eventAtEnd: !executions.isEmpty || switched, solver: solver, network: network)
            t = earliest
            stepped = true
            if !executions.isEmpty || switched {
                // The happening's time is the root's: it moves with the parameters (a delayed
                // assignment, due at `earliest`, is refused with sensitivities).
                if changed && !executions.isEmpty && earliestRoot < eventRootCount {
                    try sensitivities?.locate(root: earliestRoot, at: earliest, state: state)
                }
                defer { sensitivities?.eventTimeSensitivity = nil }
                if !executions.isEmpty { try execute(executions, at: earliest, state: &state) }
                restart(at: earliest, state: state, observer: &observer)
                return
            }
            // Nothing to assign (a condition turned false, or a delayed event was scheduled):
            // scan the rest of the step.
        }
    }

    /// The points at which a step (t0, t1] is scanned for state events: its quarter points and
    /// the output times inside it, ascending, ending with t1.
    /// (Into `scratch.samples`, reused: a merge of two ascending lists, no allocation.)
    func fillSamplePoints(after t0: Double, to t1: Double) {
        scratch.samples.removeAll(keepingCapacity: true)
        let outputs = configured.outputTimes
        var lo = outputs.firstIndex(after: t0)
        var quarter = 1
        while true {
            let q = quarter < 4 ? t0 + (t1 - t0) * Double(quarter) / 4 : t1
            if lo < outputs.count && outputs[lo] < min(q, t1) {
                scratch.samples.append(outputs[lo])
                lo += 1
            } else {
                scratch.samples.append(q)
                if quarter == 4 { return }
                quarter += 1
            }
        }
    }

    /// The root functions at `time` inside the last step.
    func rootValues(at time: Double, into roots: inout [Double]) throws {
        try scratch.state.withUnsafeMutableBufferPointer { try solver.interpolate(at: time, into: $0.baseAddress!) }
        rootValues(at: time, state: scratch.state, into: &roots)
    }

    func rootValues(at time: Double, state: [Double], into roots: inout [Double]) {
        guard let functions = configured.rootFunctions else { return }
        state.withUnsafeBufferPointer { y in
            roots.withUnsafeMutableBufferPointer { g in
                network.evaluate(functions, t: time, y: y.baseAddress!, into: g.baseAddress!)
            }
        }
    }

    /// Evaluates every comparison and trigger at (`time`, `state`): events whose trigger turns
    /// true fire (their assignments are returned when they have no delay, and scheduled when
    /// they have one); a non-persistent event whose trigger turns false loses its pending
    /// assignments.
    mutating func updateTriggers(at time: Double, state: [Double]) throws -> [Execution] {
        cancelled.removeAll(keepingCapacity: true)
        switchesChanged = hasSwitches ? refreeze(at: time, state: state) : false
        // (A state event whose trigger is a constant has no comparisons, but fires at the start
        // when its initial value is false.)
        guard hasRoots || hasStateEvents else { return [] }
        rootValues(at: time, state: state, into: &scratch.roots)
        for k in relations.indices { holds[k] = relations[k].holds(scratch.roots[k]) }
        var immediate: [Execution] = []
        var first = 0
        for (e, event) in configured.stateEvents.enumerated() {
            let trigger = event.trigger!
            let count = trigger.condition.comparisons.count
            let offset = first
            let value = trigger.condition.evaluate { holds[offset + $0] }
            first += count
            defer { triggerValue[e] = value }
            if triggerValue[e] && !value && !trigger.persistent {
                pending.removeAll { $0.execution.stateEvent == e }
                cancelled.insert(e)
            }
            guard !triggerValue[e] && value else { continue }
            let delay = trigger.delay.map { evaluate($0, at: time, state: state) } ?? 0
            guard delay >= 0 else {
                throw SimulationError(
                    "the delay of the event \(event.description.map { "'\($0)'" } ?? "when \(trigger.condition)") is "
                        + "negative (\(delay)) at t = \(time); a delay must be ≥ 0."
                )
            }
            // Even without a delay an event may run after others at the same instant (by
            // priority), so "values from the trigger time" is a real choice there too.
            let values =
                trigger.useValuesFromTriggerTime
                ? event.assignments.map { evaluate($0.expression, at: time, state: state) }
                : nil
            let execution = Execution(event: event, values: values, stateEvent: e)
            if delay == 0 {
                immediate.append(execution)
            } else {
                let due = time + delay
                let index = pending.firstIndex { $0.time > due } ?? pending.count
                pending.insert(Pending(time: due, execution: execution), at: index)
            }
        }
        return immediate
    }

    /// Sets every switch to the branch it takes right after (`time`, `state`), and the next stop
    /// of each timed switch; returns whether any switch changed. A switch's slot is its
    /// argument's value with every switch unset (nested conditions compare live), except for a
    /// timed switch at its own stop, which takes the value it was computed to take there, and at
    /// a boundary of its own (an argument exactly 0 or an integer), the value it takes on the way
    /// out. A switch that flips 50 times in a row within a millionth of the run (a sliding
    /// mode, where each branch drives the argument back across the other) is released: it
    /// compares live for the rest of the run, as without switches.
    mutating func refreeze(at time: Double, state: [Double]) -> Bool {
        let plan = configured.switches
        let switches = network.switches
        let sc = switchScratch
        for k in 0..<plan.count { sc.values[k] = network.switchValue(k) }
        network.releaseSwitches()
        if let arguments = plan.arguments {
            state.withUnsafeBufferPointer { y in
                sc.arguments.withUnsafeMutableBufferPointer {
                    network.evaluate(arguments, t: time, y: y.baseAddress!, into: $0.baseAddress!)
                }
            }
        }
        var changed = false
        let span = configured.tEnd - configured.tStart
        for k in 0..<plan.count {
            var value = switches[k].value(at: sc.arguments[k])
            if released.contains(k) { value = .nan }
            if !(value == sc.values[k]) && !value.isNaN {
                changed = true
                if sc.values[k].isFinite {
                    // A flip (not the first setting): count runs of flips close together.
                    if time - flipWindow[k].start > 1e-6 * span {
                        flipWindow[k] = (time, 0)
                    }
                    flipWindow[k].count += 1
                    if flipWindow[k].count > 50 {
                        released.insert(k)
                        value = .nan
                    }
                }
            }
            network.setSwitch(k, value)
        }
        guard let terms = plan.affineTerms else { return changed }
        for (j, k) in plan.timed.enumerated() {
            if let stop = switchStops[j], stop.time == time { network.setSwitch(k, stop.value) }
        }
        evaluateAffineTerms(terms, at: time, state: state)
        // Boundaries: the value on the way out.
        for (j, k) in plan.timed.enumerated() where !(switchStops[j]?.time == time) && !released.contains(k) {
            let x = sc.arguments[k]
            let b = sc.terms[2 * j + 1]
            switch switches[k].kind {
            case .less where x == 0 && b < 0: network.setSwitch(k, 1)
            case .floor where x == x.rounded() && b < 0: network.setSwitch(k, x - 1)
            case .ceil where x == x.rounded() && b > 0: network.setSwitch(k, x + 1)
            default: break
            }
        }
        evaluateAffineTerms(terms, at: time, state: state)
        nextSwitchStop = .infinity
        for (j, k) in plan.timed.enumerated() {
            let current = network.switchValue(k)
            if !(current == sc.values[k]) { changed = true }
            switchStops[j] = switches[k].nextChange(
                after: time, current: current, a: sc.terms[2 * j], b: sc.terms[2 * j + 1])
            if let stop = switchStops[j] { nextSwitchStop = min(nextSwitchStop, stop.time) }
        }
        return changed
    }

    func evaluateAffineTerms(_ terms: ReactionNetwork.CompiledExpressions, at time: Double, state: [Double]) {
        state.withUnsafeBufferPointer { y in
            switchScratch.terms.withUnsafeMutableBufferPointer {
                network.evaluate(terms, t: time, y: y.baseAddress!, into: $0.baseAddress!, frozen: true)
            }
        }
    }

    /// The index of the event to run next: the highest priority (evaluated now); among equal
    /// priorities a pseudo-random one (SBML's rule, so that no event always wins), drawn from a
    /// generator with a fixed seed per run, so a run is reproducible; events without a priority
    /// after those with one, in queue order.
    mutating func nextByPriority(_ queue: ArraySlice<Execution>, at time: Double, state: [Double]) -> Int {
        guard queue.contains(where: { $0.event.trigger?.priority != nil }) else { return queue.startIndex }
        var best: [Int] = []
        var bestValue = -Double.infinity
        for k in queue.indices {
            guard let e = queue[k].event.trigger?.priority else { continue }
            var value = evaluate(e, at: time, state: state)
            if value.isNaN { value = -.infinity }  // NaN: lowest
            if best.isEmpty || value > bestValue {
                best = [k]
                bestValue = value
            } else if value == bestValue {
                best.append(k)
            }
        }
        return best.count == 1 ? best[0] : best[tieBreaker.integer(below: best.count)]
    }

    func evaluate(_ e: Expression, at time: Double, state: [Double]) -> Double {
        state.withUnsafeBufferPointer { network.evaluate(e, t: time, y: $0.baseAddress!) }
    }

    /// Applies `executions` one event after another at `time` (each event's assignments all at
    /// once, computed from the state just before it unless computed when it fired). After each
    /// event the triggers are evaluated again: events that fire join the queue, and SBML's rule
    /// for simultaneous events applies: a queued non-persistent event whose trigger has turned
    /// false is dropped.
    /// With nothing to apply, the triggers are still evaluated (at the start of a run).
    mutating func execute(_ executions: [Execution], at time: Double, state: inout [Double]) throws {
        var queue = executions[...]
        var rounds = 0
        if queue.isEmpty { queue += try updateTriggers(at: time, state: state) }
        while !queue.isEmpty {
            let execution = queue.remove(at: nextByPriority(queue, at: time, state: state))
            executedCount += 1
            if executedCount > 1_000_000 {
                throw SimulationError(
                    "more than 1 000 000 events in one run (the last at t = \(time)); the events' conditions keep "
                        + "being met (a Zeno model?)."
                )
            }
            let event = execution.event
            let values = execution.values ?? event.assignments.map { evaluate($0.expression, at: time, state: state) }
            let jump = sensitivities?.prepareJump(event, at: time, state: state)
            for (assignment, value) in zip(event.assignments, values) {
                switch assignment.target {
                case .species(let i): state[i] = value
                case .parameter(let i): network.setParameter(i, value)
                }
            }
            if let jump { sensitivities?.finishJump(jump, at: time, state: state) }
            let fired = try updateTriggers(at: time, state: state)
            if !cancelled.isEmpty { queue.removeAll { $0.stateEvent.map(cancelled.contains) ?? false } }
            queue += fired
            rounds += 1
            if rounds > 10_000 {
                throw SimulationError(
                    "events keep setting each other off at t = \(time) (more than 10000 in a row); check the "
                        + "conditions of the state events."
                )
            }
        }
    }
}

/// Hands species, observables and chosen parameters at the output times (by dense output) to
/// a sink, one row at a time. An output at an event time shows the state after the event.
struct GridRecorder<Sink: RowSink>: IntegrationObserver {
    let times: OutputGrid
    let width: Int
    let speciesCount: Int
    let observableCount: Int
    /// Parameters written after the observables (`RunSettings.outputParameters`).
    let parameterColumns: [Int]
    var sink: Sink
    var row = 0
    /// The first error of the sink (start and afterEvent cannot throw; `step` rethrows it).
    var failure: Error? = nil
    /// Checked at every step: a set flag ends the run with `Interrupted`.
    var stop: StopFlag? = nil
    /// Sensitivity columns after the parameter columns, when the run has them.
    let sensitivities: SensitivityColumns?
    let scratch: Scratch

    /// A species state and a row, allocated once per run.
    final class Scratch {
        let state: UnsafeMutablePointer<Double>
        let row: UnsafeMutablePointer<Double>
        init(states: Int, width: Int) {
            state = .allocate(capacity: max(states, 1))
            state.initialize(repeating: 0, count: max(states, 1))
            row = .allocate(capacity: max(width, 1))
            row.initialize(repeating: 0, count: max(width, 1))
        }
        deinit {
            state.deallocate()
            row.deallocate()
        }
    }

    init(
        _ configured: ConfiguredRun, speciesCount: Int, observableCount: Int, parameterColumns: [Int] = [],
        sensitivities: SensitivityColumns? = nil, sink: Sink
    ) {
        times = configured.outputTimes
        self.speciesCount = speciesCount
        self.observableCount = observableCount
        self.parameterColumns = parameterColumns
        self.sensitivities = sensitivities
        width = speciesCount + observableCount + parameterColumns.count + (sensitivities?.count ?? 0)
        self.sink = sink
        scratch = Scratch(
            states: speciesCount * (1 + (sensitivities?.sensitivities.parameters.count ?? 0)), width: width)
    }

    /// Records a row at `t`; `s`, the state sensitivities there, when the run has them.
    mutating func record(
        _ state: UnsafePointer<Double>, at t: Double, network: ReactionNetwork, sensitivities s: UnsafePointer<Double>?
    ) {
        let v = scratch.row
        let n = speciesCount
        for i in 0..<n { v[i] = state[i] }
        network.observables(t: t, y: state, into: v + n)
        let quantities = n + observableCount
        for (k, p) in parameterColumns.enumerated() { v[quantities + k] = network.parameterValue(p) }
        if let sensitivities, let s {
            sensitivities.write(
                t: t, state: state, s: s, quantities: v, into: v + quantities + parameterColumns.count)
        }
        if failure == nil {
            do { try sink.row(t, v, count: width) } catch { failure = error }
        }
        row += 1
    }

    mutating func recordAll(through t: Double, inclusive: Bool, state: UnsafePointer<Double>, network: ReactionNetwork)
    {
        while row < times.count && (times[row] < t || (inclusive && times[row] == t)) {
            if let sensitivities {
                sensitivities.sensitivities.s.withUnsafeBufferPointer {
                    record(state, at: times[row], network: network, sensitivities: $0.baseAddress)
                }
            } else {
                record(state, at: times[row], network: network, sensitivities: nil)
            }
        }
    }

    mutating func start(t: Double, state: UnsafePointer<Double>, network: ReactionNetwork) {
        recordAll(through: t, inclusive: true, state: state, network: network)
    }

    mutating func step(
        from t0: Double, to t1: Double, eventAtEnd: Bool, solver: BDFSolver<ReactionNetwork>, network: ReactionNetwork
    ) throws {
        if let failure { throw failure }
        if let stop, stop.isSet { throw Interrupted() }
        // Outputs in (t0, t1]; one at t1 waits for the event there, if any.
        let includeEnd = !eventAtEnd
        while row < times.count && (times[row] < t1 || (includeEnd && times[row] == t1)) {
            let t = times[row]
            try solver.interpolate(at: t, into: scratch.state)
            if sensitivities != nil {
                let s = scratch.state + speciesCount
                try solver.interpolateSensitivities(at: t, into: s)
                record(scratch.state, at: t, network: network, sensitivities: s)
            } else {
                record(scratch.state, at: t, network: network, sensitivities: nil)
            }
        }
    }

    mutating func afterEvent(t: Double, state: UnsafePointer<Double>, network: ReactionNetwork) {
        recordAll(through: t, inclusive: true, state: state, network: network)
    }
}
