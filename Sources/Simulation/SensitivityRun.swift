import ODESolver
import ReactionModel

/// Forward sensitivities a run asks for (`run --sensitivities`): by which quantities, and how to
/// write them.
public struct SensitivityRequest: Sendable, Equatable {
    /// Parameters, compartments (their size) and species (their initial value), by name.
    public var parameters: [String]
    /// Write d ln X / d ln P = (P/X) dX/dP instead of dX/dP.
    public var normalized = false
    /// Include the sensitivities in the solver's local error test (CVODES's `errconS`): slower,
    /// but their accuracy is then controlled as the state's is.
    public var errorControl = true

    public init(parameters: [String], normalized: Bool = false, errorControl: Bool = true) {
        self.parameters = parameters
        self.normalized = normalized
        self.errorControl = errorControl
    }

    /// The column of quantity `x` (a species or observable) and parameter `p`.
    public static func columnName(_ x: String, _ p: String, normalized: Bool) -> String {
        normalized ? "dln(\(x))/dln(\(p))" : "d(\(x))/d(\(p))"
    }
}

/// The sensitivities of one run at its restarts, and their jumps at events.
///
/// At an event at time τ with assignments y⁺ = g(y⁻, p) (other components unchanged), the state
/// sensitivity jumps to
///
///     s⁺ = g_y s⁻ + g_p + (g_y f⁻ + g_t − f⁺) dτ/dp,
///
/// where dτ/dp is zero for a timed event and, for a state event whose root function h crosses
/// zero, dτ/dp = −(h_y s⁻ + h_p) / (h_y f⁻ + h_t) (the event time moves with the parameters).
/// This is the jump CVODES' users and AMICI implement; derivatives are symbolic (observables
/// inlined) and evaluated at the event, which is rare enough not to need compiled programs.
final class RunSensitivities {
    let network: ReactionNetwork
    /// System parameters (`ReactionNetwork.sensitivityIndex`), in request order.
    let parameters: [Int]
    let n: Int
    /// s_m at the last restart, or interpolated at the event being executed: `s[m*n + i]`.
    var s: [Double]
    /// dτ/dp_m of the happening being executed; nil at a timed instant.
    var eventTimeSensitivity: [Double]? = nil
    /// The state events' root functions with observables inlined, in `rootFunctions` order.
    let roots: [Expression]

    init(network: ReactionNetwork, parameters: [Int], roots: [Expression]) {
        self.network = network
        self.parameters = parameters
        n = network.speciesCount
        s = [Double](repeating: 0, count: n * parameters.count)
        self.roots = roots.map(network.inliningObservables)
    }

    /// s(t_start): e_i for the initial value of species i, zero for everything else.
    func start() {
        for k in s.indices { s[k] = 0 }
        for (m, k) in parameters.enumerated() {
            if case .initial(let i) = network.sensitivityParameter(k) { s[m * n + i] = 1 }
        }
    }

    /// An expression's partial derivatives at (t, y): by species, by system parameter, by t.
    struct Gradient {
        var species: [(index: Int, value: Double)] = []
        var parameters: [Int: Double] = [:]
        var time = 0.0
    }

    func gradient(_ e: Expression, t: Double, state: [Double]) -> Gradient {
        var g = Gradient()
        let derivatives = e.derivatives { _ in true }
        state.withUnsafeBufferPointer { y in
            for name in e.names {
                guard let d = derivatives[name] else { continue }
                let value = network.evaluate(d, t: t, y: y.baseAddress!)
                switch network.definition.symbol(named: name) {
                case .species(let j)?: g.species.append((j, value))
                case .parameter?, .compartment?: g.parameters[network.sensitivityIndex(named: name)!] = value
                case .time?: g.time = value
                default: break
                }
            }
        }
        return g
    }

    func rhs(t: Double, state: [Double]) -> [Double] {
        var f = [Double](repeating: 0, count: n)
        state.withUnsafeBufferPointer { y in
            f.withUnsafeMutableBufferPointer { network.rhs(t: t, y: y.baseAddress!, dydt: $0.baseAddress!) }
        }
        return f
    }

    /// Sets `eventTimeSensitivity` for a state event located at `t` by root function `root`, with
    /// `s` already interpolated there.
    func locate(root: Int, at t: Double, state: [Double]) throws {
        let h = gradient(roots[root], t: t, state: state)
        let f = rhs(t: t, state: state)
        var rate = h.time
        for (j, value) in h.species { rate += value * f[j] }
        guard rate != 0, rate.isFinite else {
            throw SimulationError(
                "the sensitivities are undefined at t = \(t.plainText): an event's condition reaches its threshold "
                    + "there without crossing it (its rate of change is \(rate.plainText)), so the event time does not "
                    + "depend smoothly on the parameters.")
        }
        eventTimeSensitivity = parameters.indices.map { m in
            var dh = h.parameters[parameters[m]] ?? 0
            for (j, value) in h.species { dh += value * s[m * n + j] }
            return -dh / rate
        }
    }

    /// What `finishJump` needs of the state before the assignments.
    struct Jump {
        var fBefore: [Double]?
        /// For each assigned species: its new sensitivity row before the −f⁺ dτ/dp term.
        var rows: [(species: Int, values: [Double])]
    }

    /// The first half of a jump, before `event`'s assignments change `state` (values of the
    /// parameters in force before them).
    func prepareJump(_ event: ModelDefinition.Event, at t: Double, state: [Double]) -> Jump {
        let dtau = eventTimeSensitivity
        let fBefore = dtau.map { _ in rhs(t: t, state: state) }
        var rows: [(species: Int, values: [Double])] = []
        for assignment in event.assignments {
            guard case .species(let i) = assignment.target else { continue }
            let g = gradient(network.inliningObservables(assignment.expression), t: t, state: state)
            let values = parameters.indices.map { m -> Double in
                var value = g.parameters[parameters[m]] ?? 0
                for (j, dg) in g.species { value += dg * s[m * n + j] }
                if let dtau, let fBefore {
                    var rate = g.time
                    for (j, dg) in g.species { rate += dg * fBefore[j] }
                    value += rate * dtau[m]
                }
                return value
            }
            rows.append((i, values))
        }
        return Jump(fBefore: fBefore, rows: rows)
    }

    /// The second half: `state` is the state after the assignments.
    func finishJump(_ jump: Jump, at t: Double, state: [Double]) {
        var assigned = [Bool](repeating: false, count: n)
        for (i, _) in jump.rows { assigned[i] = true }
        if let dtau = eventTimeSensitivity, let fBefore = jump.fBefore {
            let fAfter = rhs(t: t, state: state)
            for m in parameters.indices {
                for i in 0..<n where !assigned[i] { s[m * n + i] += (fBefore[i] - fAfter[i]) * dtau[m] }
            }
            for (i, values) in jump.rows {
                for m in parameters.indices { s[m * n + i] = values[m] - fAfter[i] * dtau[m] }
            }
        } else {
            for (i, values) in jump.rows {
                for m in parameters.indices { s[m * n + i] = values[m] }
            }
        }
    }
}

/// The sensitivity columns of a recorded row: dX/dP (or d ln X / d ln P) for every quantity X
/// (species, then observables) of each parameter in turn.
final class SensitivityColumns {
    let sensitivities: RunSensitivities
    let normalized: Bool
    let observableCount: Int
    /// Parameter values at the start of the run (events may not change them).
    let values: [Double]
    let observableScratch: UnsafeMutablePointer<Double>
    let stateScratch: UnsafeMutablePointer<Double>

    var count: Int { sensitivities.parameters.count * (sensitivities.n + observableCount) }

    init(_ sensitivities: RunSensitivities, normalized: Bool, values: [Double]) {
        self.sensitivities = sensitivities
        self.normalized = normalized
        self.values = values
        observableCount = sensitivities.network.definition.observables.count
        let width = max(sensitivities.parameters.count * max(observableCount, sensitivities.n), 1)
        observableScratch = .allocate(capacity: width)
        observableScratch.initialize(repeating: 0, count: width)
        stateScratch = .allocate(capacity: width)
        stateScratch.initialize(repeating: 0, count: width)
    }

    deinit {
        observableScratch.deallocate()
        stateScratch.deallocate()
    }

    /// Writes the columns at (t, state) with state sensitivities `s` into `row` (the row's
    /// species and observables are in `row[0 ..< n + nO]`, `output` is where the columns start).
    func write(
        t: Double, state: UnsafePointer<Double>, s: UnsafePointer<Double>, quantities: UnsafePointer<Double>,
        into output: UnsafeMutablePointer<Double>
    ) {
        let n = sensitivities.n
        let nO = observableCount
        let parameters = sensitivities.parameters
        sensitivities.network.observableSensitivities(
            t: t, y: state, sensitivities: s, parameters: parameters, into: observableScratch)
        var column = 0
        for m in parameters.indices {
            for i in 0..<n {
                output[column] = scaled(s[m * n + i], m, quantities[i])
                column += 1
            }
            for o in 0..<nO {
                output[column] = scaled(observableScratch[m * nO + o], m, quantities[n + o])
                column += 1
            }
        }
    }

    @inline(__always)
    func scaled(_ derivative: Double, _ m: Int, _ x: Double) -> Double {
        normalized ? derivative * values[m] / x : derivative
    }
}

extension Simulator {
    /// The system parameters of `request`, checked: each name a parameter, compartment or species,
    /// named once; and the model's events such that the jumps above are all the sensitivities do.
    func sensitivityParameters(_ request: SensitivityRequest, _ configured: ConfiguredRun) throws -> [Int] {
        let d = definition
        guard !request.parameters.isEmpty else {
            throw SimulationError("sensitivities: name at least one parameter, compartment or species.")
        }
        var seen = Set<String>()
        let indices = try request.parameters.map { name -> Int in
            guard seen.insert(name).inserted else {
                throw SimulationError("sensitivities: '\(excerpt(name))' is named twice.")
            }
            guard let k = network.sensitivityIndex(named: name) else {
                if case .observable? = d.symbol(named: name) {
                    throw SimulationError(
                        "sensitivities by '\(excerpt(name))': it is an observable; sensitivities are taken by "
                            + "parameters, compartment sizes and initial values, and given for observables.")
                }
                throw SimulationError(
                    "sensitivities by '\(excerpt(name))': \(Simulator.noSettable(named: name, in: d))")
            }
            return k
        }
        if network.hasDelays {
            throw SimulationError(
                "sensitivities: the model reads past values (delay), and sensitivities of delay equations are not "
                    + "supported yet.")
        }
        let events = configured.schedule.map(\.event) + configured.stateEvents
        for event in events {
            let which = event.description.map { "the event '\($0)'" } ?? "an event"
            if event.trigger?.delay != nil {
                throw SimulationError(
                    "sensitivities: \(which) has a delay; sensitivities of models with delayed events are not "
                        + "supported yet.")
            }
            for assignment in event.assignments {
                guard case .parameter(let i) = assignment.target else { continue }
                let target = d.parameters[i].name
                if indices.contains(network.sensitivityIndex(of: .parameter(i))) {
                    throw SimulationError(
                        "sensitivities by '\(target)': \(which) sets \(target), so after it the run no longer "
                            + "depends on its value; take sensitivities by a parameter no event sets.")
                }
                let names = network.inliningObservables(assignment.expression).names
                for name in names {
                    let dependsOnState: Bool
                    if case .species? = d.symbol(named: name) { dependsOnState = true } else { dependsOnState = false }
                    if dependsOnState || network.sensitivityIndex(named: name).map(indices.contains) == true {
                        throw SimulationError(
                            "sensitivities: \(which) sets the parameter \(target) to \(assignment.expression), "
                                + "which depends on '\(name)'; sensitivities through parameters that events set "
                                + "from the state or from the parameters asked for are not supported yet.")
                    }
                }
            }
        }
        return indices
    }
}
