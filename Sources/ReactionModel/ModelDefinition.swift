import Foundation

/// The name index of a `ModelDefinition`, built on first use. Shared by copies of an unchanged
/// definition, which may be read from several threads, hence the lock.
final class SymbolCache: @unchecked Sendable {
    private let lock = NSLock()
    private var built: [String: ModelDefinition.Symbol]?

    func table(_ build: () -> [String: ModelDefinition.Symbol]) -> [String: ModelDefinition.Symbol] {
        lock.lock()
        defer { lock.unlock() }
        if let built { return built }
        let table = build()
        built = table
        return table
    }
}

/// A model as the file describes it, after validation: every name resolved, every number checked.
/// Order is file order (species, reactions and observables keep the order the modeller wrote).
public struct ModelDefinition: Sendable {
    public init(
        file: String, name: String, timeUnit: String? = nil, concentrationUnit: String? = nil,
        description: String? = nil, references: [String] = [], compartments: [Compartment],
        species: [Species], parameters: [Parameter], observables: [Observable], reactions: [Reaction],
        events: [Event], simulation: Simulation = Simulation(), scenarios: [Scenario] = []
    ) {
        self.file = file
        self.name = name
        self.timeUnit = timeUnit
        self.concentrationUnit = concentrationUnit
        self.description = description
        self.references = references
        self.compartments = compartments
        self.species = species
        self.parameters = parameters
        self.observables = observables
        self.reactions = reactions
        self.events = events
        self.simulation = simulation
        self.scenarios = scenarios
    }

    public struct Compartment: Sendable, Equatable {
        public init(name: String, size: Double, unit: String? = nil, description: String? = nil) {
            self.name = name
            self.size = size
            self.unit = unit
            self.description = description
        }

        public var name: String
        public var size: Double
        public var unit: String?
        public var description: String?
    }

    public struct Species: Sendable, Equatable {
        public init(
            name: String, initial: Double, compartment: Int, constant: Bool, unit: String? = nil,
            description: String? = nil,
            rateRule: Expression? = nil, isParameter: Bool = false, mayBeNegative: Bool = false
        ) {
            self.name = name
            self.initial = initial
            self.compartment = compartment
            self.constant = constant
            self.unit = unit
            self.description = description
            self.rateRule = rateRule
            self.isParameter = isParameter
            self.mayBeNegative = mayBeNegative
        }

        public var name: String
        /// Initial concentration in its compartment.
        public var initial: Double
        public var compartment: Int
        /// A boundary species: in rate laws, never changed by reactions.
        public var constant: Bool
        public var unit: String?
        public var description: String?
        /// A rate rule (`[rate_rules]`): d(value)/dt, in concentration per time; reactions do not
        /// change a species that has one.
        public var rateRule: Expression?
        /// Declared in `[parameters]` and given a rate rule, which makes it a state variable. It is
        /// kept here, after the species, so that it is integrated, written to the output, swept,
        /// set by events and scenarios like one; `compartment` means nothing for it, and writers
        /// give it back as a parameter.
        public var isParameter: Bool
        /// `may_be_negative = true`: a quantity that may be below zero (a membrane potential, a
        /// displacement), so its initial value may be negative too. SBML allows any species to be
        /// negative; the import sets this for those that start below zero.
        public var mayBeNegative: Bool = false
        /// `atol = …`: this species' own absolute tolerance, in its units, in place of
        /// `[simulation] atol`: a species far smaller than the others (nanomolar beside molar, a
        /// trace intermediate) is only resolved by an absolute tolerance below its own size. The
        /// SBML import sets one for every species it reads without tolerances (see
        /// `ModelDefinition.scaledAbsoluteTolerances`). A command line `--atol` overrides it.
        public var absoluteTolerance: Double? = nil
    }

    public struct Parameter: Sendable, Equatable {
        public init(name: String, value: Double, unit: String? = nil, description: String? = nil) {
            self.name = name
            self.value = value
            self.unit = unit
            self.description = description
        }

        public var name: String
        public var value: Double
        public var unit: String?
        public var description: String?
    }

    public struct Observable: Sendable, Equatable {
        public init(name: String, expression: Expression, text: String, unit: String? = nil, description: String? = nil)
        {
            self.name = name
            self.expression = expression
            self.text = text
            self.unit = unit
            self.description = description
        }

        public var name: String
        public var expression: Expression
        public var text: String
        public var unit: String?
        public var description: String?
    }

    public struct Reaction: Sendable, Equatable {
        public init(
            id: String, equation: String, reactants: [(species: Int, coefficient: Double)],
            products: [(species: Int, coefficient: Double)], reversible: Bool, kinetics: Kinetics,
            description: String? = nil
        ) {
            self.id = id
            self.equation = equation
            self.reactants = reactants
            self.products = products
            self.reversible = reversible
            self.kinetics = kinetics
            self.description = description
        }

        public enum Kinetics: Sendable, Equatable {
            /// Rate constants (expressions, usually a parameter name); reverse only for `<->`.
            case massAction(forward: Expression, reverse: Expression?)
            /// Flux per unit volume of the reaction's compartment.
            case rate(Expression)
        }
        public var id: String
        public var equation: String
        /// (species index, coefficient), merged per species, in equation order.
        public var reactants: [(species: Int, coefficient: Double)]
        public var products: [(species: Int, coefficient: Double)]
        public var reversible: Bool
        public var kinetics: Kinetics
        public var description: String?

        public static func == (a: Reaction, b: Reaction) -> Bool {
            a.id == b.id && a.equation == b.equation && a.reversible == b.reversible && a.kinetics == b.kinetics
                && a.description == b.description
                && a.reactants.map(\.species) == b.reactants.map(\.species)
                && a.reactants.map(\.coefficient) == b.reactants.map(\.coefficient)
                && a.products.map(\.species) == b.products.map(\.species)
                && a.products.map(\.coefficient) == b.products.map(\.coefficient)
        }
    }

    public struct Assignment: Sendable, Equatable {
        public init(target: Target, targetName: String, expression: Expression) {
            self.target = target
            self.targetName = targetName
            self.expression = expression
        }

        public enum Target: Sendable, Equatable {
            case species(Int)
            case parameter(Int)
        }
        public var target: Target
        public var targetName: String
        public var expression: Expression
    }

    public struct Event: Sendable, Equatable {
        public init(
            times: [Double], assignments: [ModelDefinition.Assignment], description: String? = nil,
            trigger: Trigger? = nil
        ) {
            self.times = times
            self.assignments = assignments
            self.description = description
            self.trigger = trigger
        }

        /// A state event (`when`): fires each time its condition turns from false to true, at the
        /// moment root finding locates; SBML's trigger with its attributes.
        public struct Trigger: Sendable, Equatable {
            public init(
                condition: Condition, initialValue: Bool = true, persistent: Bool = true,
                delay: Expression? = nil, useValuesFromTriggerTime: Bool = true, priority: Expression? = nil
            ) {
                self.condition = condition
                self.initialValue = initialValue
                self.persistent = persistent
                self.delay = delay
                self.useValuesFromTriggerTime = useValuesFromTriggerTime
                self.priority = priority
            }

            public var condition: Condition
            /// The condition's value taken just before t_start: when false, a condition already
            /// true at the start fires there.
            public var initialValue: Bool
            /// With a delay: whether the assignments still happen when the condition turns false
            /// before they are due.
            public var persistent: Bool
            /// Time from firing to the assignments, evaluated when the event fires; nil = none.
            public var delay: Expression?
            /// With a delay: assignments computed when the event fires (true) or when they happen.
            public var useValuesFromTriggerTime: Bool
            /// Among events due at the same instant, higher priorities go first (evaluated then);
            /// nil = after all events with a priority, in file order.
            public var priority: Expression?
        }

        /// Times of a timed event (`at`); empty for a state event.
        public var times: [Double]
        public var trigger: Trigger?
        public var assignments: [Assignment]
        public var description: String?
    }

    public struct Simulation: Sendable, Equatable {
        public init(
            tStart: Double = 0, tEnd: Double = 100, outputInterval: Double? = nil, explicitOutputTimes: [Double]? = nil,
            rtol: Double = 1e-6, atol: Double = 1e-9
        ) {
            self.tStart = tStart
            self.tEnd = tEnd
            self.outputInterval = outputInterval
            self.explicitOutputTimes = explicitOutputTimes
            self.rtol = rtol
            self.atol = atol
        }

        public var tStart = 0.0
        public var tEnd = 100.0
        /// Either an interval or explicit times; `outputTimes` resolves them.
        public var outputInterval: Double? = nil
        public var explicitOutputTimes: [Double]? = nil
        public var rtol = 1e-6
        public var atol = 1e-9

        /// The output grid: t_start, t_start + Δ, …, t_end (the last interval may be shorter),
        /// or the explicit times.
        public var outputTimes: [Double] {
            if let explicit = explicitOutputTimes { return explicit }
            let interval = outputInterval ?? (tEnd - tStart) / 100
            var times: [Double] = []
            var k = 0
            while true {
                let t = tStart + Double(k) * interval
                if t >= tEnd - 1e-9 * interval { break }
                times.append(t)
                k += 1
            }
            times.append(tEnd)
            return times
        }
    }

    public struct Scenario: Sendable, Equatable {
        public var name: String
        public var description: String?
        public var parameters: [(index: Int, value: Double)]
        public var initial: [(index: Int, value: Double)]
        public var compartments: [(index: Int, value: Double)]
        public var events: [Event]

        public static func == (a: Scenario, b: Scenario) -> Bool {
            a.name == b.name && a.events == b.events
                && a.parameters.map(\.index) == b.parameters.map(\.index)
                && a.parameters.map(\.value) == b.parameters.map(\.value)
                && a.initial.map(\.index) == b.initial.map(\.index) && a.initial.map(\.value) == b.initial.map(\.value)
                && a.compartments.map(\.index) == b.compartments.map(\.index)
                && a.compartments.map(\.value) == b.compartments.map(\.value)
        }
    }

    /// The `[sweep]` table: defaults of `stat3sim sweep`, in the command line's own syntax
    /// (checked by the sweep, which knows its meaning).
    /// The `[sweep]` table: what `stat3sim sweep MODEL` does without flags (a flag replaces its entry).
    public struct Sweep: Sendable, Equatable {
        public var vary: [SweepRange] = []
        public var samples: Int? = nil
        public var method: SamplingMethod? = nil
        public var seed: UInt64? = nil
        /// A CSV file of points, relative to the model's folder.
        public var points: String? = nil
        public var scenario: ScenarioSelection? = nil
        public var metrics: [MetricSpec] = []
        public var tEnd: Double? = nil
        /// The output file, relative to the model's folder.
        public var out: String? = nil
        /// The line of each key in the file, for the sweep's own messages about its values.
        public var lines: [String: Int] = [:]
        public init() {}
    }

    public var file: String
    public var name: String
    public var timeUnit: String?
    public var concentrationUnit: String?
    public var description: String?
    public var references: [String]
    // Changing a list of names invalidates the name index (`symbols`).
    public var compartments: [Compartment] { didSet { symbols = SymbolCache() } }
    public var species: [Species] { didSet { symbols = SymbolCache() } }
    public var parameters: [Parameter] { didSet { symbols = SymbolCache() } }
    public var observables: [Observable] { didSet { symbols = SymbolCache() } }
    public var reactions: [Reaction]
    public var events: [Event]
    public var simulation: Simulation
    public var scenarios: [Scenario]
    public var sweep = Sweep()

    /// The most state variables (species, and parameters with rate rules) a model may have: the
    /// solver stores its Jacobian densely (n² numbers), 800 MB at this limit.
    public static let maximumStateVariables = 10_000

    /// The most nodes a rate law may have with the observables it uses written out (as the
    /// Jacobian differentiates it): observables that use another one twice double at each step.
    public static let maximumRateLawSize = 10_000_000

    /// What a name stands for in expressions.
    public enum Symbol: Sendable, Equatable {
        case species(Int)
        case parameter(Int)
        case compartment(Int)
        case observable(Int)
        case time
    }

    public func symbol(named name: String) -> Symbol? {
        if name == "t" { return .time }
        return symbolTable[name]
    }

    /// Every name and what it stands for (the first declaration when a name is declared twice,
    /// species before parameters, compartments and observables), built once per change of the
    /// names: looking names up one by one in the lists made loading large models quadratic.
    public var symbolTable: [String: Symbol] {
        symbols.table {
            var table: [String: Symbol] = ["t": .time]
            table.reserveCapacity(species.count + parameters.count + compartments.count + observables.count + 1)
            for (i, o) in observables.enumerated().reversed() { table[o.name] = .observable(i) }
            for (i, c) in compartments.enumerated().reversed() { table[c.name] = .compartment(i) }
            for (i, p) in parameters.enumerated().reversed() { table[p.name] = .parameter(i) }
            for (i, s) in species.enumerated().reversed() { table[s.name] = .species(i) }
            table["t"] = .time
            return table
        }
    }

    private var symbols = SymbolCache()

    public func scenario(named name: String) -> Scenario? { scenarios.first { $0.name == name } }

    /// The expressions the right-hand side is made of, in this order: observables, rate rules, and
    /// each reaction's rate law or mass-action constants.
    public var rightHandSideExpressions: [Expression] {
        var list: [Expression] = observables.map(\.expression) + species.compactMap(\.rateRule)
        for r in reactions {
            switch r.kinetics {
            case .rate(let law): list.append(law)
            case .massAction(let f, let b): list += [f] + (b.map { [$0] } ?? [])
            }
        }
        return list
    }

    /// Whether `e` is constant between events: it names only parameters, compartment sizes,
    /// boundary species (`constant = true`) and observables of those, which change only at events
    /// (not time, nor a species that is not constant, nor a parameter with a rate rule). An
    /// equality of such quantities changes only at events, where triggers are evaluated anyway,
    /// so it is a valid trigger.
    public func changesOnlyAtEvents(_ e: Expression) -> Bool {
        let symbols = symbolTable
        var seen = Set<String>()
        var pending = e.names
        while let name = pending.popLast() {
            guard seen.insert(name).inserted else { continue }
            switch symbols[name] {
            case .time?, nil: return false
            case .species(let i)?: if !species[i].constant || species[i].rateRule != nil { return false }
            case .observable(let i)?: pending += observables[i].expression.names
            case .parameter?, .compartment?: break
            }
        }
        return true
    }
}
