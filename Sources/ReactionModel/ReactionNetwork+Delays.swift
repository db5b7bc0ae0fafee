/// The `delay(value, lag)` nodes of a model, each once (keyed by its text with observables
/// written out), compiled to evaluate on a past state: `value` in terms of state variables,
/// parameters, sizes and time only, so that a past state and time are all it needs.
final class DelayedValues {
    /// value and lag of each node, observables written out.
    let nodes: [(value: Expression, lag: Expression)]
    let index: [String: Int]
    let inlining: [String: Expression]
    var count: Int { nodes.count }
    /// Per node: the state variable its value is, when it is one (interpolated alone), else −1.
    var singleState: [Int] = []
    /// Compiled by `compile`, once the network's slots are laid out.
    var tape = ProgramTape(ProgramBuilder())
    var valuePrograms: [ProgramRange] = []
    var lagPrograms: [ProgramRange] = []

    /// The key of a node (its operands with observables written out).
    static func key(_ value: Expression, _ lag: Expression) -> String { "\(value)|\(lag)" }

    init(_ definition: ModelDefinition, inlining: [String: Expression]) {
        self.inlining = inlining
        var nodes: [(value: Expression, lag: Expression)] = []
        var index: [String: Int] = [:]
        // Inner nodes first (a lag may read a past value: it is filled before the node that
        // needs it). An observable's node is also reached through every expression it is
        // written into: the same key, the same slot.
        func visit(_ e: Expression) {
            guard e.containsDelay else { return }
            _ = e.replacingDelays { value, lag in
                let v = value.substituting { inlining[$0] }
                let l = lag.substituting { inlining[$0] }
                visit(v)
                visit(l)
                let key = DelayedValues.key(v, l)
                if index[key] == nil {
                    index[key] = nodes.count
                    nodes.append((v, l))
                }
                return .number(0)
            }
        }
        for expression in DelayedValues.expressions(of: definition) { visit(expression) }
        self.nodes = nodes
        self.index = index
    }

    /// Every expression of the model a past value can appear in: rate laws, observables, rate
    /// rules, and the events' (the scenarios' too) triggers, delays, priorities and assignments.
    static func expressions(of definition: ModelDefinition) -> [Expression] {
        var list = definition.rightHandSideExpressions
        for event in definition.events + definition.scenarios.flatMap(\.events) {
            list += event.assignments.map(\.expression)
            if let trigger = event.trigger {
                for c in trigger.condition.comparisons { list += [c.left, c.right] }
                list += [trigger.delay, trigger.priority].compactMap { $0 }
            }
        }
        return list
    }

    /// Compiles each value and lag against the network's slot layout. Their selects compare
    /// live: a past value is evaluated at its own instant, not on the branches held now.
    func compile(slot: (String) -> Int, symbols: [String: ModelDefinition.Symbol], delayBase: Int) {
        var builder = ProgramBuilder()
        valuePrograms = nodes.map { builder.compile($0.value, slot: slot) }
        // A lag is evaluated now: past values in it are the ones filled before.
        builder.delaySlot = self.slot(base: delayBase)
        lagPrograms = nodes.map { builder.compile($0.lag, slot: slot) }
        tape = ProgramTape(builder)
        singleState = nodes.map { node in
            if case .name(let n) = node.value, case .species(let i)? = symbols[n] { return i }
            return -1
        }
    }

    /// The program builder's lookup: the slot of a node, or nil (no delays: values now).
    func slot(base: Int) -> ((Expression) -> Int)? {
        guard !nodes.isEmpty else { return nil }
        return { [self] node in
            guard case .delay(let value, let lag) = node, let k = self.index(value, lag) else {
                preconditionFailure("a delay node the network did not collect: \(node)")
            }
            return base + k
        }
    }

    /// The index of the node `delay(value, lag)` as written (observables not yet written out).
    func index(_ value: Expression, _ lag: Expression) -> Int? {
        index[DelayedValues.key(value.substituting { inlining[$0] }, lag.substituting { inlining[$0] })]
    }

    /// `expression` with each delay node replaced by its value in `values` (the filled slots).
    func pastValuesSubstituted(in expression: Expression, _ values: UnsafePointer<Double>) -> Expression {
        expression.replacingDelays { value, lag in index(value, lag).map { .number(values[$0]) } }
    }
}

extension ReactionNetwork {
    /// Fills the past-value slots for the time and state in the slots: each value at t − lag,
    /// from the history (the initial state before the start), with the parameters then in force.
    /// Without a history, or with a zero lag, the value now. A negative lag gives NaN, which the
    /// solver reports as a non-finite right-hand side.
    @inline(never)
    func fillDelayedValues() {
        let slots = self.slots
        let t = slots[timeSlot]
        let delays = self.delays
        // The past slots start from the present ones once per fill: each general value then
        // overwrites the state, time and (when events changed them) the parameters.
        var pastPrepared = false
        for k in 0..<delays.count {
            let lag = delays.tape.evaluate(delays.lagPrograms[k], slots)
            var value: Double
            if !(lag >= 0) {
                value = .nan
            } else if let history, lag > 0 {
                let past = t - lag
                let i = delays.singleState[k]
                if i >= 0 {
                    value = history.component(i, at: past)
                } else {
                    if !pastPrepared {
                        pastSlots.update(from: slots, count: switchBase)
                        pastPrepared = true
                    }
                    history.state(at: past, into: pastSlots)
                    if history.parametersChanged { history.parameters(at: past, into: pastSlots + parameterBase) }
                    pastSlots[timeSlot] = past
                    value = delays.tape.evaluate(delays.valuePrograms[k], pastSlots)
                }
            } else {
                value = delays.tape.evaluate(delays.valuePrograms[k], slots)
            }
            slots[delayBase + k] = value
        }
    }

    /// Whether the model reads past values (`delay`), so that a run must keep a history.
    public var hasDelays: Bool { delayCount != 0 }

    /// A history sized for this network: its state and its parameter and compartment slots.
    public func makeHistory() -> StateHistory {
        StateHistory(dimension: speciesCount, valueWidth: observableBase - parameterBase)
    }

    /// The parameter and compartment values now, in the history's layout.
    public func withParameterSlots<R>(_ body: (UnsafePointer<Double>) -> R) -> R {
        body(slots + parameterBase)
    }

    /// The lags now, when none depends on the state or time (nil otherwise): their multiples
    /// after the start and after each event are where the solution's derivatives jump, and the
    /// longest bounds how far back the history is read.
    public func fixedLags() -> [Double]? {
        var lags: [Double] = []
        for (k, node) in delays.nodes.enumerated() {
            for n in node.lag.names {
                switch symbols[n] {
                case .parameter?, .compartment?: break
                default: return nil
                }
            }
            let x = delays.tape.evaluate(delays.lagPrograms[k], slots)
            if x > 0 && !lags.contains(x) { lags.append(x) }
        }
        return lags.sorted()
    }
}

extension ModelDefinition {
    /// The first `delay` node whose value (observables written out) reads another past value, or
    /// nil. Such a value would need the history of a past value; the run keeps states only.
    public var nestedDelay: Expression? {
        // (Writing observables out is costly on hostile chains: only for models with delays.)
        guard hasDelays else { return nil }
        let inlining = ReactionNetwork.allObservablesInlined(self, symbolTable)
        for expression in DelayedValues.expressions(of: self) where expression.containsDelay {
            var found: Expression?
            _ = expression.substituting { inlining[$0] }.replacingDelays { value, lag in
                if found == nil, value.containsDelay { found = .delay(value, lag) }
                return nil
            }
            if let found { return found }
        }
        return nil
    }

    /// Whether any expression of the model reads a past value.
    public var hasDelays: Bool { DelayedValues.expressions(of: self).contains(where: \.containsDelay) }
}

extension ModelDefinition {
    /// The model with every past value read as the value now (`delay(x, τ)` → `x`): the
    /// equations whose steady states are the delay equation's, with the Jacobian they have there.
    public var withPastValuesAsPresent: ModelDefinition {
        func present(_ e: Expression) -> Expression {
            e.containsDelay ? e.replacingDelays { value, _ in present(value) } : e
        }
        func present(_ c: Condition) -> Condition {
            switch c {
            case .comparison(let a, let r, let b): return .comparison(present(a), r, present(b))
            case .and(let a, let b): return .and(present(a), present(b))
            case .or(let a, let b): return .or(present(a), present(b))
            case .xor(let a, let b): return .xor(present(a), present(b))
            case .not(let a): return .not(present(a))
            case .constant: return c
            }
        }
        func present(_ event: Event) -> Event {
            var event = event
            for k in event.assignments.indices {
                event.assignments[k].expression = present(event.assignments[k].expression)
            }
            if var trigger = event.trigger {
                trigger.condition = present(trigger.condition)
                trigger.delay = trigger.delay.map(present)
                trigger.priority = trigger.priority.map(present)
                event.trigger = trigger
            }
            return event
        }
        var d = self
        for k in d.reactions.indices {
            switch d.reactions[k].kinetics {
            case .rate(let law): d.reactions[k].kinetics = .rate(present(law))
            case .massAction(let f, let b):
                d.reactions[k].kinetics = .massAction(forward: present(f), reverse: b.map(present))
            }
        }
        for k in d.observables.indices { d.observables[k].expression = present(d.observables[k].expression) }
        for k in d.species.indices { d.species[k].rateRule = d.species[k].rateRule.map(present) }
        d.events = d.events.map(present)
        for k in d.scenarios.indices { d.scenarios[k].events = d.scenarios[k].events.map(present) }
        return d
    }
}

extension ReactionNetwork {
    /// This network with past values read as present ones (`ModelDefinition.withPastValuesAsPresent`),
    /// at the same parameter and compartment values: what steady-state solves work on.
    public func withPastValuesAsPresent() -> ReactionNetwork {
        let other = ReactionNetwork(definition.withPastValuesAsPresent)
        other.slots.update(from: slots, count: timeSlot + 1)
        other.updateVolumes()
        other.updateProducts()
        return other
    }
}
