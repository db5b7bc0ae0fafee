import ODESolver

/// A model compiled for the solver: the species concentrations are the ODE state; parameters,
/// compartment sizes, observables and time live in one slot array that every compiled expression
/// reads. Rates, observables and the exact Jacobian (symbolic derivatives of every rate law, with
/// observables substituted) are programs on one tape; `rhs` and `jacobian` allocate nothing.
///
/// A final class because events change parameters during a run, and the solver must see that.
/// Each thread of a sweep needs its own copy (`copy()`): evaluation uses the instance's stack.
public final class ReactionNetwork: ODESystem {
    public let definition: ModelDefinition
    public let speciesCount: Int
    let parameterBase: Int
    let compartmentBase: Int
    let observableBase: Int
    let timeSlot: Int

    /// The slot array: species | parameters | compartments | observables | t.
    let slots: UnsafeMutablePointer<Double>
    let slotCount: Int
    let tape: ProgramTape

    /// Observable programs, in an order where each depends only on earlier ones.
    let observablePrograms: [ProgramRange]
    let observableOrder: [Int]
    /// The observables that rate laws use (directly or through other observables), in dependency
    /// order: `rhs` evaluates only these. (The Jacobian's programs have observables substituted.)
    let rateObservableOrder: UnsafeMutablePointer<Int>
    let rateObservableCount: Int
    /// Mass-action reactions whose rate constants are plain parameters or numbers are evaluated
    /// without the stack machine: flux = k_f Π c^ν − k_r Π c^ν with integer ν by multiplication.
    /// `fastKind[r]`: 0 program, 1 fast. Side 2r is the forward term k_f Π c^ν, 2r + 1 the reverse
    /// one: its constant's slot (−1 = none), and its factors (slot, ν).
    let fastKind: UnsafeMutablePointer<UInt8>
    let fastConstantSlot: UnsafeMutablePointer<Int>
    let fastFactors: CompressedRows<(slot: Int, power: Int)>
    /// Rate (flux per unit volume of the reaction's compartment) of each reaction.
    let ratePrograms: UnsafeMutablePointer<ProgramRange>
    let reactionCount: Int
    /// Per reaction, the species it changes.
    let changes: CompressedRows<Change>
    /// Compartment of each reaction (for V_reaction) and of each species.
    let reactionCompartment: [Int]
    /// Jacobian terms: per reaction r, ∂rate_r/∂c_j as a program (index: j), for every j that can
    /// be nonzero.
    let derivatives: ProgramRows
    /// Numeric rate constants of the fast path (their slots follow t).
    let fastConstants: [Double]
    /// Rate constants `c·k` of the fast path (a number times a parameter or compartment size, as
    /// BioNetGen writes statistical factors): slot ← factor × slots[source], kept current by
    /// `setParameter` and `setCompartmentSize`.
    let fastProducts: [(slot: Int, factor: Double, source: Int)]
    /// What each name stands for (`definition.symbolTable`).
    let symbols: [String: ModelDefinition.Symbol]
    /// The discontinuities of the right-hand side (`Switch`); switch k's slot is
    /// `switchBase + k`, NaN (compare live) unless the integration loop has set it.
    public let switches: [Switch]
    let switchBase: Int
    /// Room to keep the switches while `load` evaluates live.
    let switchSave: UnsafeMutablePointer<Double>
    /// Switch index by `Switch.key`, and observables written out, for `switchingBuilder`.
    let switchIndex: [String: Int]
    let switchInlining: [String: Expression]
    /// Compiled on first use, for forward sensitivities only (see `ReactionNetwork+Sensitivities`).
    lazy var parameterTerms = buildParameterTerms()
    lazy var observableTerms = buildObservableTerms()
    lazy var inlinedObservables = buildInlinedObservables()
    /// The model's past values (`delay` nodes): delay k's value lives in slot `delayBase + k`,
    /// filled from `history` before every evaluation (`fillDelayedValues`).
    let delays: DelayedValues
    let delayBase: Int
    /// `delays.count`, read in the right-hand side without going through the object.
    let delayCount: Int
    /// Where a past state is assembled to evaluate a delayed expression on (switches unset).
    let pastSlots: UnsafeMutablePointer<Double>
    /// The run's solution so far, which past values are read from; nil outside a time course
    /// (steady states), where a past value is the value now.
    public var history: StateHistory?

    /// Compiles `definition` with its default values (file values; apply scenarios afterwards).
    public init(_ definition: ModelDefinition) {
        self.definition = definition
        let nS = definition.species.count
        let nP = definition.parameters.count
        let nC = definition.compartments.count
        let nO = definition.observables.count
        speciesCount = nS
        parameterBase = nS
        compartmentBase = nS + nP
        observableBase = nS + nP + nC
        timeSlot = nS + nP + nC + nO
        // Slots for the numeric rate constants of the fast path follow t; at most one per rate
        // constant.
        let constantCapacity = 2 * definition.reactions.count
        let switches = Switch.collect(definition)
        self.switches = switches
        switchBase = timeSlot + 1 + constantCapacity
        switchSave = .allocate(capacity: max(switches.count, 1))
        switchSave.initialize(repeating: .nan, count: max(switches.count, 1))
        let symbols = definition.symbolTable
        self.symbols = symbols
        let inlining = ReactionNetwork.allObservablesInlined(definition, symbols)
        switchInlining = inlining
        let delays = DelayedValues(definition, inlining: inlining)
        // The switches' slots, then a copy of each that live evaluation leaves in place, for the
        // root functions of floor and ceil (`Switch.slotName`), then the past values.
        delayBase = switchBase + 2 * switches.count
        slotCount = delayBase + delays.count
        slots = .allocate(capacity: slotCount)
        slots.initialize(repeating: 0, count: slotCount)
        for k in 0..<(2 * switches.count) { slots[switchBase + k] = .nan }

        var switchIndex: [String: Int] = [:]
        for (k, s) in switches.enumerated() { switchIndex[Switch.key(s.kind, s.argument)] = k }
        self.switchIndex = switchIndex
        let slotOf: (String) -> Int = { [symbols, nS, nP, nC, switchBase] name in
            if let k = Switch.index(ofSlotName: name) { return switchBase + switches.count + k }
            switch symbols[name]! {
            case .species(let i): return i
            case .parameter(let i): return nS + i
            case .compartment(let i): return nS + nP + i
            case .observable(let i): return nS + nP + nC + i
            case .time: return nS + nP + nC + nO
            }
        }
        let observableNames = definition.observables.map { $0.expression.names }
        func observableIndex(_ name: String) -> Int? {
            if case .observable(let j)? = symbols[name] { return j }
            return nil
        }

        var builder = ProgramBuilder()
        builder.switchSlot = ReactionNetwork.switchSlot(switchIndex, switchInlining, switchBase)
        builder.delaySlot = delays.slot(base: delayBase)
        let order = ReactionNetwork.observableOrder(definition, observableNames, observableIndex)
        observableOrder = order
        var observablePrograms: [ProgramRange] = []
        for i in 0..<nO {
            observablePrograms.append(builder.compile(definition.observables[i].expression, slot: slotOf))
        }
        self.observablePrograms = observablePrograms

        // Rate rules are compiled as pseudo-reactions after the reactions: rate = the rule,
        // changing only its own quantity with coefficient 1 (see `updateVolumes`).
        let ruleSpecies = definition.species.indices.filter { definition.species[$0].rateRule != nil }
        let needed = ReactionNetwork.rateObservables(definition, ruleSpecies, observableNames, observableIndex)
        let rateObservables = order.filter { needed.contains($0) }
        rateObservableCount = rateObservables.count
        rateObservableOrder = .buffer(rateObservables)

        let reactionTotal = definition.reactions.count + ruleSpecies.count
        let fast = FastPath(definition, symbols, reactionTotal: reactionTotal, timeSlot: timeSlot)
        fastKind = .buffer(fast.kind)
        fastConstantSlot = .buffer(fast.constantSlot)
        fastFactors = CompressedRows(fast.factors)
        fastConstants = fast.constants
        fastProducts = fast.products

        // Rate laws.
        let rateExpressions =
            definition.reactions.map { ReactionNetwork.ratePerVolume($0, in: definition) }
            + ruleSpecies.map { definition.species[$0].rateRule! }
        reactionCount = rateExpressions.count
        ratePrograms = .buffer(rateExpressions.map { builder.compile($0, slot: slotOf) })

        let changes = ReactionNetwork.changes(definition, ruleSpecies)
        self.changes = CompressedRows(changes)
        // A rule's "compartment" is its own quantity's, so that its coefficient is V/V = 1 exactly.
        reactionCompartment =
            definition.reactions.map { reaction in
                let first = reaction.reactants.first?.species ?? reaction.products.first!.species
                return definition.species[first].compartment
            } + ruleSpecies.map { definition.species[$0].compartment }

        derivatives = ProgramRows(
            ReactionNetwork.jacobianTerms(
                definition, symbols, rateObservables, rateExpressions, changes, &builder, slotOf))
        tape = ProgramTape(builder)
        delays.compile(slot: slotOf, symbols: symbols, delayBase: delayBase)
        self.delays = delays
        delayCount = delays.count
        pastSlots = .allocate(capacity: slotCount)
        pastSlots.initialize(repeating: .nan, count: slotCount)

        for (k, x) in fastConstants.enumerated() { slots[timeSlot + 1 + k] = x }
        for (i, p) in definition.parameters.enumerated() { slots[parameterBase + i] = p.value }
        for (i, c) in definition.compartments.enumerated() { slots[compartmentBase + i] = c.size }
        for (i, s) in definition.species.enumerated() { slots[i] = s.initial }
        updateVolumes()
        updateProducts()
    }

    deinit {
        slots.deallocate()
        pastSlots.deallocate()
        switchSave.deallocate()
        ratePrograms.deallocate()
        rateObservableOrder.deallocate()
        fastKind.deallocate()
        fastConstantSlot.deallocate()
    }

    // MARK: Steps of the compilation

    /// Every observable written out in terms of species, parameters, sizes and time.
    static func allObservablesInlined(
        _ definition: ModelDefinition, _ symbols: [String: ModelDefinition.Symbol]
    ) -> [String: Expression] {
        var inlined: [String: Expression] = [:]
        var visiting = Set<String>()
        func inline(_ name: String) -> Expression? {
            if let done = inlined[name] { return done }
            guard case .observable(let i)? = symbols[name], visiting.insert(name).inserted else { return nil }
            let e = definition.observables[i].expression.substituting(inline)
            inlined[name] = e
            return e
        }
        for o in definition.observables { _ = inline(o.name) }
        return inlined
    }

    /// The builder's switch lookup: a node's switch by its key (observables written out).
    static func switchSlot(_ index: [String: Int], _ inlining: [String: Expression], _ base: Int) -> (
        (Switch.Kind, Expression) -> Int
    )? {
        guard !index.isEmpty else { return nil }
        return { kind, argument in
            let key = Switch.key(kind, argument.substituting { inlining[$0] })
            return index[key].map { base + $0 } ?? -1
        }
    }

    /// A program builder whose selects, abs, sign, floor and ceil follow the network's switches.
    func switchingBuilder() -> ProgramBuilder {
        var builder = ProgramBuilder()
        builder.switchSlot = ReactionNetwork.switchSlot(switchIndex, switchInlining, switchBase)
        builder.delaySlot = delays.slot(base: delayBase)
        return builder
    }

    /// Switch k's slot: NaN when not set (the programs compare live), else its branch.
    public func switchValue(_ k: Int) -> Double { slots[switchBase + k] }
    public func setSwitch(_ k: Int, _ value: Double) {
        slots[switchBase + k] = value
        slots[switchBase + switches.count + k] = value
    }
    /// Unsets every switch: the programs compare live again.
    public func releaseSwitches() {
        for k in switches.indices { slots[switchBase + k] = .nan }
    }

    /// Unsets every switch and its copy (the end of a run).
    public func resetSwitches() {
        for k in 0..<(2 * switches.count) { slots[switchBase + k] = .nan }
    }

    /// Observables in dependency order: depth first, without recursion (chains of observables
    /// naming the previous one can be as long as the model).
    private static func observableOrder(
        _ definition: ModelDefinition, _ observableNames: [[String]], _ observableIndex: (String) -> Int?
    ) -> [Int] {
        let nO = definition.observables.count
        var order: [Int] = []
        var done = [Bool](repeating: false, count: nO)
        for root in 0..<nO where !done[root] {
            var path: [(observable: Int, next: Int)] = [(root, 0)]
            done[root] = true
            while let (i, next) = path.last {
                let names = observableNames[i]
                if next < names.count {
                    path[path.count - 1].next += 1
                    if let j = observableIndex(names[next]), !done[j] {
                        done[j] = true
                        path.append((j, 0))
                    }
                } else {
                    path.removeLast()
                    order.append(i)
                }
            }
        }
        return order
    }

    /// The observables the rate laws and rate rules need, with their dependencies.
    private static func rateObservables(
        _ definition: ModelDefinition, _ ruleSpecies: [Int], _ observableNames: [[String]],
        _ observableIndex: (String) -> Int?
    ) -> Set<Int> {
        var needed = Set<Int>()
        func need(_ name: String) {
            guard let first = observableIndex(name), needed.insert(first).inserted else { return }
            var pending = [first]
            while let j = pending.popLast() {
                for inner in observableNames[j] {
                    if let k = observableIndex(inner), needed.insert(k).inserted { pending.append(k) }
                }
            }
        }
        for reaction in definition.reactions {
            switch reaction.kinetics {
            case .rate(let law): law.names.forEach(need)
            case .massAction(let f, let r):
                f.names.forEach(need)
                r?.names.forEach(need)
            }
        }
        for s in ruleSpecies { definition.species[s].rateRule!.names.forEach(need) }
        return needed
    }

    /// The mass-action fast path: constants that are a parameter or a number, integer orders.
    private struct FastPath {
        var kind: [UInt8] = []
        /// Per side (2r forward, 2r + 1 reverse): the constant's slot and the factors.
        var constantSlot: [Int] = []
        var factors: [[(slot: Int, power: Int)]] = []
        /// Numbers become extra constant slots after t.
        var constants: [Double] = []
        /// Products `c·k` take a slot there too, filled from their parameter's.
        var products: [(slot: Int, factor: Double, source: Int)] = []

        init(
            _ definition: ModelDefinition, _ symbols: [String: ModelDefinition.Symbol], reactionTotal: Int,
            timeSlot: Int
        ) {
            let nS = definition.species.count
            let nP = definition.parameters.count
            var constants: [Double] = []
            var products: [(slot: Int, factor: Double, source: Int)] = []
            func slotOfName(_ n: String) -> Int? {
                if case .parameter(let i)? = symbols[n] { return nS + i }
                if case .compartment(let i)? = symbols[n] { return nS + nP + i }
                return nil
            }
            func slotOfConstant(_ e: Expression?) -> Int? {
                switch e {
                case nil: return -1
                case .number(let x)?:
                    constants.append(x)
                    return timeSlot + constants.count
                case .name(let n)?:
                    return slotOfName(n)
                case .multiply(.number(let c), .name(let n))?:
                    // c·k rounds once, as the general program's first product does.
                    guard let source = slotOfName(n) else { return nil }
                    constants.append(0)
                    products.append((timeSlot + constants.count, c, source))
                    return timeSlot + constants.count
                default: return nil
                }
            }
            func factorsOf(_ terms: [(species: Int, coefficient: Double)]) -> [(slot: Int, power: Int)] {
                terms.map { ($0.species, Int($0.coefficient)) }
            }
            for r in 0..<reactionTotal {
                kind.append(0)
                constantSlot += [-1, -1]
                factors += [[], []]
                guard r < definition.reactions.count else { continue }
                let reaction = definition.reactions[r]
                guard case .massAction(let f, let rev) = reaction.kinetics,
                    let fs = slotOfConstant(f), let rs = slotOfConstant(rev),
                    (reaction.reactants + reaction.products).allSatisfy({
                        $0.coefficient == $0.coefficient.rounded() && $0.coefficient <= 8
                    })
                else { continue }
                kind[r] = 1
                constantSlot[2 * r] = fs
                constantSlot[2 * r + 1] = rs
                factors[2 * r] = factorsOf(reaction.reactants)
                if rev != nil { factors[2 * r + 1] = factorsOf(reaction.products) }
            }
            (self.constants, self.products) = (constants, products)
        }
    }

    /// A species a reaction changes: the net stoichiometry ν, and the coefficient of the rate in
    /// the species' equation, ν · V_reaction / V_species (set by `updateVolumes`).
    struct Change {
        let species: Int
        let stoichiometry: Double
        var coefficient: Double
    }

    /// Stoichiometry (net change) of each reaction, constant species excluded; each rate rule
    /// changes its own quantity by 1.
    private static func changes(_ definition: ModelDefinition, _ ruleSpecies: [Int]) -> [[Change]] {
        var rows: [[Change]] = []
        for reaction in definition.reactions {
            var net: [Int: Double] = [:]
            var order: [Int] = []
            for (s, c) in reaction.reactants {
                if net[s] == nil { order.append(s) }
                net[s, default: 0] -= c
            }
            for (s, c) in reaction.products {
                if net[s] == nil { order.append(s) }
                net[s, default: 0] += c
            }
            rows.append(
                order.filter { net[$0]! != 0 && !definition.species[$0].constant }.map {
                    Change(species: $0, stoichiometry: net[$0]!, coefficient: net[$0]!)
                })
        }
        for s in ruleSpecies { rows.append([Change(species: s, stoichiometry: 1, coefficient: 1)]) }
        return rows
    }

    /// Jacobian terms: observables substituted, then ∂/∂species for every species the rate
    /// mentions, for the reactions that change something. Only the observables rate laws use
    /// (`rateObservables`, in dependency order) are written out (the loader bounds how deep that
    /// makes a rate law).
    private static func jacobianTerms(
        _ definition: ModelDefinition, _ symbols: [String: ModelDefinition.Symbol], _ rateObservables: [Int],
        _ rateExpressions: [Expression], _ changes: [[Change]], _ builder: inout ProgramBuilder,
        _ slotOf: (String) -> Int
    ) -> [[(index: Int, program: ProgramRange)]] {
        var inlined: [String: Expression] = [:]
        for i in rateObservables {
            let o = definition.observables[i]
            inlined[o.name] = o.expression.substituting { inlined[$0] }
        }
        var terms = [[(index: Int, program: ProgramRange)]](repeating: [], count: rateExpressions.count)
        for (r, e) in rateExpressions.enumerated() where !changes[r].isEmpty {
            let full = e.substituting { inlined[$0] }
            let derivatives = full.derivatives { if case .species? = symbols[$0] { return true } else { return false } }
            for name in full.names {
                guard case .species(let j)? = symbols[name], let derivative = derivatives[name] else { continue }
                if derivative == .number(0) { continue }
                terms[r].append((j, builder.compile(derivative, slot: slotOf)))
            }
        }
        return terms
    }

    /// An independent instance with the same current parameter and compartment values.
    public func copy() -> ReactionNetwork {
        let other = ReactionNetwork(definition)
        other.slots.update(from: slots, count: timeSlot + 1)
        other.updateVolumes()
        other.updateProducts()
        return other
    }

    /// Rate per unit volume: mass action k_f Π reactants^ν − k_r Π products^ν, or the given law.
    static func ratePerVolume(_ reaction: ModelDefinition.Reaction, in definition: ModelDefinition) -> Expression {
        func massAction(_ k: Expression, _ terms: [(species: Int, coefficient: Double)]) -> Expression {
            var e = k
            for (s, c) in terms {
                let name = Expression.name(definition.species[s].name)
                e = .multiply(e, c == 1 ? name : .power(name, .number(c)))
            }
            return e
        }
        switch reaction.kinetics {
        case .rate(let law):
            return law
        case .massAction(let forward, let reverse):
            let f = massAction(forward, reaction.reactants)
            guard let reverse else { return f }
            return .subtract(f, massAction(reverse, reaction.products))
        }
    }

    // MARK: Values

    /// Parameter, compartment-size and species-initial values in force (after scenarios).
    public func parameterValue(_ i: Int) -> Double { slots[parameterBase + i] }
    public func setParameter(_ i: Int, _ value: Double) {
        slots[parameterBase + i] = value
        if !fastProducts.isEmpty { updateProducts() }
    }
    public func compartmentSize(_ i: Int) -> Double { slots[compartmentBase + i] }
    public func setCompartmentSize(_ i: Int, _ value: Double) {
        slots[compartmentBase + i] = value
        updateVolumes()
        if !fastProducts.isEmpty { updateProducts() }
    }

    /// The fast path's `c·k` constants from their parameters' values.
    func updateProducts() {
        for (slot, factor, source) in fastProducts { slots[slot] = factor * slots[source] }
    }

    /// Recomputes stoichiometry · V_reaction / V_species after a compartment size changed.
    func updateVolumes() {
        for r in 0..<reactionCount {
            let vr = slots[compartmentBase + reactionCompartment[r]]
            for k in changes.start[r]..<changes.start[r + 1] {
                let change = changes.entries[k]
                let vs = slots[compartmentBase + definition.species[change.species].compartment]
                changes.entries[k].coefficient = change.stoichiometry * vr / vs
            }
        }
    }

    /// Loads a state and time into the slots and evaluates the observables: their values at that
    /// instant (every switch compares live, whatever branch the right-hand side is held to), or
    /// with `frozen`, as the right-hand side sees them.
    @inline(__always)
    func load(t: Double, y: UnsafePointer<Double>, frozen: Bool = false) {
        slots.update(from: y, count: speciesCount)
        slots[timeSlot] = t
        if delayCount != 0 { fillDelayedValues() }
        let held = !frozen && !switches.isEmpty
        if held {
            switchSave.update(from: slots + switchBase, count: switches.count)
            releaseSwitches()
        }
        for i in observableOrder {
            slots[observableBase + i] = tape.evaluate(observablePrograms[i], slots)
        }
        if held { (slots + switchBase).update(from: switchSave, count: switches.count) }
    }

    /// Runs `body` with every switch unset (live comparisons), then restores them.
    @inline(__always)
    func live<T>(_ body: () -> T) -> T {
        guard !switches.isEmpty else { return body() }
        switchSave.update(from: slots + switchBase, count: switches.count)
        releaseSwitches()
        defer { (slots + switchBase).update(from: switchSave, count: switches.count) }
        return body()
    }

    /// Observable values at (t, y), into `output` (in declaration order).
    public func observables(t: Double, y: UnsafePointer<Double>, into output: UnsafeMutablePointer<Double>) {
        load(t: t, y: y)
        for i in 0..<definition.observables.count { output[i] = slots[observableBase + i] }
    }

    /// Evaluates an expression of the model at (t, y) (used for event assignments; not hot).
    public func evaluate(_ expression: Expression, t: Double, y: UnsafePointer<Double>) -> Double {
        load(t: t, y: y)
        let now = delayCount == 0 ? expression : delays.pastValuesSubstituted(in: expression, slots + delayBase)
        return now.evaluate { self.slots[self.slot(of: $0)] }
    }

    /// Expressions compiled against this network's slots, for values needed at every step outside
    /// the right-hand side (the root functions of state events).
    public final class CompiledExpressions {
        let tape: ProgramTape
        let programs: [ProgramRange]
        public var count: Int { programs.count }
        init(tape: ProgramTape, programs: [ProgramRange]) {
            self.tape = tape
            self.programs = programs
        }
    }

    public func compile(_ expressions: [Expression]) -> CompiledExpressions {
        var builder = switchingBuilder()
        let programs = expressions.map { builder.compile($0, slot: slot(of:)) }
        return CompiledExpressions(tape: ProgramTape(builder), programs: programs)
    }

    /// The values of `compiled` at (t, y), into `output`; allocates nothing.
    /// The values at that instant (switches compare live), or with `frozen` on the branches the
    /// switches hold.
    public func evaluate(
        _ compiled: CompiledExpressions, t: Double, y: UnsafePointer<Double>, into output: UnsafeMutablePointer<Double>,
        frozen: Bool = false
    ) {
        load(t: t, y: y, frozen: frozen)
        if frozen {
            for (k, program) in compiled.programs.enumerated() { output[k] = compiled.tape.evaluate(program, slots) }
        } else {
            live {
                for (k, program) in compiled.programs.enumerated() {
                    output[k] = compiled.tape.evaluate(program, slots)
                }
            }
        }
    }

    func slot(of name: String) -> Int {
        if let k = Switch.index(ofSlotName: name) { return switchBase + switches.count + k }
        switch symbols[name]! {
        case .species(let i): return i
        case .parameter(let i): return parameterBase + i
        case .compartment(let i): return compartmentBase + i
        case .observable(let i): return observableBase + i
        case .time: return timeSlot
        }
    }

    // MARK: ODESystem

    public var dimension: Int { speciesCount }
    public var providesJacobian: Bool { true }
    public func componentName(_ index: Int) -> String { definition.species[index].name }

    /// Every (species changed by reaction r, species r's rate depends on) pair.
    public var jacobianPattern: [(row: Int, column: Int)]? {
        var pattern: [(row: Int, column: Int)] = []
        for r in 0..<reactionCount {
            for d in derivatives.start[r]..<derivatives.start[r + 1] {
                for k in changes.start[r]..<changes.start[r + 1] {
                    pattern.append((changes.entries[k].species, derivatives.entries[d].index))
                }
            }
        }
        return pattern
    }

    public func rhs(t: Double, y: UnsafePointer<Double>, dydt: UnsafeMutablePointer<Double>) {
        // Pointers in locals: stores through them could alias the object's fields, so the
        // compiler would otherwise reload every field after every store.
        let slots = self.slots
        let tape = self.tape
        let changes = self.changes
        let fastKind = self.fastKind
        let ratePrograms = self.ratePrograms
        let n = speciesCount
        let reactions = reactionCount
        slots.update(from: y, count: n)
        slots[timeSlot] = t
        if delayCount != 0 { fillDelayedValues() }
        for k in 0..<rateObservableCount {
            let i = rateObservableOrder[k]
            slots[observableBase &+ i] = tape.evaluate(observablePrograms[i], slots)
        }
        dydt.update(repeating: 0, count: n)
        var r = 0
        while r < reactions {
            if changes.start[r] != changes.start[r &+ 1] {
                let rate = fastKind[r] == 1 ? massActionRate(r, slots) : tape.evaluate(ratePrograms[r], slots)
                changes.add(rate, row: r, to: dydt)
            }
            r &+= 1
        }
    }

    /// k_f Π c^ν − k_r Π c^ν straight from the slots.
    @inline(__always)
    func massActionRate(_ r: Int, _ slots: UnsafeMutablePointer<Double>) -> Double {
        let forward = massActionTerm(2 &* r, slots)
        if fastConstantSlot[2 &* r &+ 1] < 0 { return forward }
        return forward - massActionTerm(2 &* r &+ 1, slots)
    }

    /// One side's k Π c^ν.
    @inline(__always)
    func massActionTerm(_ side: Int, _ slots: UnsafeMutablePointer<Double>) -> Double {
        let factors = fastFactors.entries
        var term = slots[fastConstantSlot[side]]
        var e = fastFactors.start[side]
        let end = fastFactors.start[side &+ 1]
        while e < end {
            let c = slots[factors[e].slot]
            var p = factors[e].power
            while p > 0 {
                term *= c
                p &-= 1
            }
            e &+= 1
        }
        return term
    }

    public func jacobian(
        t: Double, y: UnsafePointer<Double>, dydt: UnsafePointer<Double>,
        jacobian J: UnsafeMutablePointer<Double>
    ) {
        // Derivative programs have observables substituted: species, parameters, sizes and t only.
        slots.update(from: y, count: speciesCount)
        slots[timeSlot] = t
        if delayCount != 0 { fillDelayedValues() }
        let n = speciesCount
        let derivatives = self.derivatives
        let changes = self.changes
        var r = 0
        while r < reactionCount {
            var d = derivatives.start[r]
            let end = derivatives.start[r &+ 1]
            while d < end {
                let (j, program) = derivatives.entries[d]
                let value = tape.evaluate(program, slots)
                if value != 0 { changes.add(value, row: r, to: J + j &* n) }
                d &+= 1
            }
            r &+= 1
        }
    }

    public var providesSparseJacobian: Bool { true }

    /// The Jacobian straight into the solver's compressed columns: entry p of `jacobianPattern`
    /// is (species k changed by reaction r, species j that r's rate depends on), so walking the
    /// same reactions, derivatives and changes in the same order finds each term's position.
    public func sparseJacobian(
        t: Double, y: UnsafePointer<Double>, dydt: UnsafePointer<Double>, positions: UnsafePointer<Int>,
        values: UnsafeMutablePointer<Double>
    ) {
        slots.update(from: y, count: speciesCount)
        slots[timeSlot] = t
        if delayCount != 0 { fillDelayedValues() }
        let derivatives = self.derivatives
        let changes = self.changes
        let entries = changes.entries
        var p = 0
        var r = 0
        while r < reactionCount {
            let first = changes.start[r]
            let last = changes.start[r &+ 1]
            var d = derivatives.start[r]
            let end = derivatives.start[r &+ 1]
            if first == last {
                r &+= 1
                continue
            }
            while d < end {
                let value = tape.evaluate(derivatives.entries[d].program, slots)
                var k = first
                while k < last {
                    values[positions[p]] += entries[k].coefficient * value
                    p &+= 1
                    k &+= 1
                }
                d &+= 1
            }
            r &+= 1
        }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension UnsafeMutablePointer {
    /// A buffer holding `elements` (at least one slot, so that an empty model still has a valid pointer).
    static func buffer(_ elements: [Pointee]) -> UnsafeMutablePointer<Pointee> {
        let p = UnsafeMutablePointer<Pointee>.allocate(capacity: Swift.max(elements.count, 1))
        p.initialize(from: elements, count: elements.count)
        return p
    }
}

extension CompressedRows where Entry == ReactionNetwork.Change {
    /// `target[species] += coefficient · value` for every change in row `r`.
    @inline(__always)
    func add(_ value: Double, row r: Int, to target: UnsafeMutablePointer<Double>) {
        let entries = self.entries
        var k = start[r]
        let end = start[r &+ 1]
        while k < end {
            target[entries[k].species] += entries[k].coefficient * value
            k &+= 1
        }
    }
}
