import ODESolver
import ReactionModel

/// Local sensitivities of summary metrics (peak, time to peak, AUC, …) by parameters, from one
/// forward-sensitivity run: what `stat3sim sensitivity` ranks.
public struct MetricSensitivities: Sendable {
    public var metrics: [Metric]
    /// The quantities differentiated by (parameters, compartments, species' initial values).
    public var parameters: [String]
    /// Their values in force for the run.
    public var parameterValues: [Double]
    /// The metrics' values, as the sensitivity run locates them (see `MetricSensitivityObserver`).
    public var metricValues: [Double]
    /// dM_m/dp_k at `derivatives[m * parameters.count + k]`.
    public var derivatives: [Double]

    public func derivative(metric m: Int, parameter k: Int) -> Double { derivatives[m * parameters.count + k] }

    /// d ln M / d ln p = (p / M) dM/dp: NaN when M = 0, zero when p = 0.
    public func normalized(metric m: Int, parameter k: Int) -> Double {
        let p = parameterValues[k]
        if p == 0 { return 0 }
        return derivative(metric: m, parameter: k) * p / metricValues[m]
    }
}

extension Simulator {
    /// The metric kinds that have a local sensitivity, and why the others do not.
    static func checkDifferentiable(_ metric: Metric) throws {
        switch metric.kind {
        case .halfLife:
            throw SimulationError(
                "\(metric.column): half_life has no local sensitivity here (it is read off sampled points by "
                    + "linear interpolation); use gsa for it.")
        case .regime:
            throw SimulationError(
                "\(metric.column): regime takes the values 0, 1 and 2 only, so its local sensitivity is zero or "
                    + "undefined; use gsa for it.")
        default: break
        }
    }

    /// The parameters `stat3sim sensitivity` ranks by default: every parameter of the model that
    /// no event (of the model or the scenarios) sets or reads; and those left out.
    public func rankableParameters(scenario name: String?) throws -> (ranked: [String], setByEvents: [String]) {
        let scenarios = try Simulator.scenarios(named: name, in: definition)
        let events = definition.events + scenarios.flatMap(\.events)
        var excluded = Set<String>()
        for event in events {
            for assignment in event.assignments where !isSpecies(assignment.target) {
                excluded.insert(assignment.targetName)
                for n in network.inliningObservables(assignment.expression).names
                where definition.parameters.contains(where: { $0.name == n }) {
                    excluded.insert(n)
                }
            }
        }
        let names = definition.parameters.map(\.name)
        return (names.filter { !excluded.contains($0) }, names.filter { excluded.contains($0) })
    }

    private func isSpecies(_ target: ModelDefinition.Assignment.Target) -> Bool {
        if case .species = target { return true }
        return false
    }

    /// Sensitivities of `metrics` by `parameters` for the default run or `scenario`: one run with
    /// forward sensitivities (error control on), the metrics and their derivatives computed on its
    /// dense output; steady states through the steady-state Jacobian.
    public func metricSensitivities(
        scenario name: String?, settings: RunSettings, metrics: [Metric], parameters: [String]
    ) throws -> MetricSensitivities {
        for metric in metrics { try Simulator.checkDifferentiable(metric) }
        var settings = settings
        settings.sensitivities = SensitivityRequest(parameters: parameters)
        settings.outputParameters = []
        let prepared = try prepare(scenario: name, settings: settings)
        let run = prepared.sensitivities!.sensitivities
        var observer = MetricSensitivityObserver(
            metrics: metrics, definition: definition, sensitivities: run, tEnd: prepared.configured.tEnd)
        var state = prepared.configured.initial
        do {
            try Integration.run(
                prepared.configured, network: network, solver: prepared.solver, state: &state, observer: &observer,
                sensitivities: run)
        } catch let e as ODESolverError {
            let which = name.map { " (scenario '\($0)')" } ?? ""
            throw SimulationError("the simulation of \(definition.file)\(which) failed: \(e)", solverError: e)
        }
        let tEnd = prepared.configured.tEnd
        var values = observer.values(duration: tEnd - prepared.configured.tStart)
        if metrics.contains(where: { $0.kind == .steadyState }) {
            let steady = try steadyStateSensitivities(
                from: state, finalSensitivities: run.s, parameters: run.parameters, settings: settings, t: tEnd)
            for (m, metric) in metrics.enumerated() where metric.kind == .steadyState {
                let (value, derivatives) = observer.target(metric.target, state: steady.state, s: steady.s, t: tEnd)
                values.metric[m] = value
                for k in parameters.indices { values.derivatives[m * parameters.count + k] = derivatives[k] }
            }
        }
        return MetricSensitivities(
            metrics: metrics, parameters: parameters, parameterValues: prepared.sensitivities!.values,
            metricValues: values.metric, derivatives: values.derivatives)
    }

    /// The steady state reached from the run's final state (Newton, as the steady_state metric
    /// polishes it) and its sensitivities s* = dy*/dp: with J the Jacobian there,
    ///
    ///     J_I s* = −(∂f/∂p)_I   (rows of the independent species)
    ///     L s*   = L s(t_end) + (∂L/∂p)(y(t_end) − y*)   (the conservation laws, in amounts)
    ///
    /// since the conserved totals are those of the state at the end (events may have changed
    /// them earlier). Constant species keep their final sensitivity. With `totalsFrom`, `sEnd`
    /// are the sensitivities at that state instead (the totals are conserved from there on).
    func steadyStateSensitivities(
        from final: [Double], finalSensitivities sEnd: [Double], parameters: [Int], settings: RunSettings, t: Double,
        totalsFrom: [Double]? = nil
    ) throws -> (state: [Double], s: [Double]) {
        let totalsState = totalsFrom ?? final
        let solver = try SteadyStateSolver(network: network, options: solverOptions(settings))
        let atol = settings.atol ?? definition.simulation.atol
        guard let (steady, _) = solver.newton(from: final, t: t),
            zip(steady, final).allSatisfy({ abs($0 - $1) <= 1e-3 * abs($1) + atol })
        else {
            throw SimulationError(
                "steady_state: Newton from the state at t = \(t.plainText) does not converge within 0.1 % of it: "
                    + "either the run has not settled (give a later --t-end) or its steady state is not isolated "
                    + "(dead-end complexes, say), and then it has no local sensitivity.")
        }
        let n = network.speciesCount
        let unknowns = solver.independent + solver.dependent
        let r = unknowns.count
        let isUnknown = Set(unknowns)
        var jacobian = [Double](repeating: 0, count: n * n)
        var f = [Double](repeating: 0, count: n)
        var fp = [Double](repeating: 0, count: n)
        steady.withUnsafeBufferPointer { y in
            f.withUnsafeMutableBufferPointer { network.rhs(t: t, y: y.baseAddress!, dydt: $0.baseAddress!) }
            f.withUnsafeBufferPointer { fv in
                jacobian.withUnsafeMutableBufferPointer {
                    network.jacobian(t: t, y: y.baseAddress!, dydt: fv.baseAddress!, jacobian: $0.baseAddress!)
                }
            }
        }
        let lu = DenseLU(dimension: max(r, 1), backend: .native)
        for (row, i) in solver.independent.enumerated() {
            for (column, v) in unknowns.enumerated() { lu.matrix[row + column * r] = jacobian[i + v * n] }
        }
        let laws = solver.lawIndependent.count
        for k in 0..<laws {
            let row = solver.independent.count + k
            for (column, v) in unknowns.enumerated() {
                lu.matrix[row + column * r] =
                    column < solver.independent.count
                    ? solver.lawIndependent[k][column] : solver.lawDependent[k][column - solver.independent.count]
            }
        }
        guard r == 0 || lu.factorize() else {
            throw SimulationError(
                "steady_state: the steady state is not isolated (its Jacobian on the conserved subspace is "
                    + "singular), so it has no local sensitivity.")
        }
        var s = sEnd
        var b = [Double](repeating: 0, count: max(r, 1))
        for (m, k) in parameters.enumerated() {
            for i in 0..<n { fp[i] = 0 }
            steady.withUnsafeBufferPointer { y in
                f.withUnsafeBufferPointer { fv in
                    fp.withUnsafeMutableBufferPointer {
                        network.parameterDerivative(
                            t: t, y: y.baseAddress!, dydt: fv.baseAddress!, parameter: k, derivative: $0.baseAddress!)
                    }
                }
            }
            let sEndM = Array(sEnd[(m * n)..<((m + 1) * n)])
            for (row, i) in solver.independent.enumerated() {
                var value = -fp[i]
                // Constant species are no unknowns: their sensitivity moves the rates too.
                for c in 0..<n where !isUnknown.contains(c) { value -= jacobian[i + c * n] * sEndM[c] }
                b[row] = value
            }
            var compartment: Int? = nil
            if case .compartment(let c) = network.sensitivityParameter(k) { compartment = c }
            for law in 0..<laws {
                var value = 0.0
                for (column, v) in unknowns.enumerated() {
                    let coefficient =
                        column < solver.independent.count
                        ? solver.lawIndependent[law][column]
                        : solver.lawDependent[law][column - solver.independent.count]
                    value += coefficient * sEndM[v]
                    // A law's coefficients are amounts: stoichiometry × the species' compartment size.
                    if let compartment, definition.species[v].compartment == compartment {
                        value += coefficient / network.compartmentSize(compartment) * (totalsState[v] - steady[v])
                    }
                }
                b[solver.independent.count + law] = value
            }
            if r > 0 { b.withUnsafeMutableBufferPointer { lu.solve($0.baseAddress!) } }
            for (column, v) in unknowns.enumerated() { s[m * n + v] = b[column] }
        }
        return (steady, s)
    }
}

/// Samples a sensitivity run like `MetricsObserver` (four points per internal step, value_at
/// times, the states after events) and keeps each metric target's value and sensitivities
/// there. Extrema are located on the dense output: where the target's rate of change (f for a
/// species, ∇O·f for an observable) changes sign between two samples, bisection finds the time;
/// there d(peak)/dp = s_X(t*) and d(t*)/dp = −ṡ_X / Ẍ (both time derivatives by central
/// differences of the dense output, inside the step). Starts, ends and the two sides of events are
/// candidates too, with d(t*)/dp = 0.
struct MetricSensitivityObserver: IntegrationObserver {
    let metrics: [(kind: Metric.Kind, target: Int)]
    let targets: [(species: Bool, index: Int)]
    let names: [String]
    let run: RunSensitivities
    let n: Int
    let parameterCount: Int
    let observableCount: Int
    /// The run's end: its last sample is a candidate extremum.
    let tEnd: Double

    /// An extremum so far: value, time, and derivatives of the value and the time by each parameter.
    struct Extremum {
        var value: Double
        var time = 0.0
        var derivatives: [Double]
        var timeDerivatives: [Double]
    }
    var peaks: [Extremum], minima: [Extremum]
    var area: [Double], areaDerivatives: [[Double]]
    var last: [Double], lastDerivatives: [[Double]], lastRate: [Double]
    var lastTime = 0.0
    var valueAt: [(value: Double, derivatives: [Double])?]

    // Scratch, reused
    var y: [Double], s: [Double], f: [Double], observables: [Double], observableS: [Double], observableRates: [Double]

    init(metrics: [Metric], definition: ModelDefinition, sensitivities: RunSensitivities, tEnd: Double) {
        self.tEnd = tEnd
        let resolved = MetricTargets(metrics, definition: definition)
        self.metrics = resolved.metrics
        targets = resolved.targets
        names = resolved.names
        run = sensitivities
        n = definition.species.count
        parameterCount = sensitivities.parameters.count
        observableCount = definition.observables.count
        let zeros = [Double](repeating: 0, count: parameterCount)
        peaks = targets.map { _ in Extremum(value: -.infinity, derivatives: zeros, timeDerivatives: zeros) }
        minima = targets.map { _ in Extremum(value: .infinity, derivatives: zeros, timeDerivatives: zeros) }
        area = [Double](repeating: 0, count: targets.count)
        areaDerivatives = targets.map { _ in zeros }
        last = area
        lastRate = area
        lastDerivatives = areaDerivatives
        valueAt = resolved.metrics.map { _ in nil }
        y = [Double](repeating: 0, count: n)
        s = [Double](repeating: 0, count: n * parameterCount)
        f = y
        observables = [Double](repeating: 0, count: observableCount)
        observableS = [Double](repeating: 0, count: max(observableCount * parameterCount, 1))
        observableRates = observables
    }

    /// A target's value and its derivative by each parameter at (t, state) with state sensitivities `s`.
    func target(_ name: String, state: [Double], s: [Double], t: Double) -> (Double, [Double]) {
        let k = names.firstIndex(of: name)!
        var copy = self
        copy.y = state
        copy.s = s
        copy.evaluate(t: t)
        return copy.values(of: k)
    }

    /// Fills the observables, their sensitivities and rates at (t, y) with `s`.
    mutating func evaluate(t: Double) {
        let network = run.network
        y.withUnsafeBufferPointer { yp in
            f.withUnsafeMutableBufferPointer { network.rhs(t: t, y: yp.baseAddress!, dydt: $0.baseAddress!) }
            guard observableCount > 0 else { return }
            observables.withUnsafeMutableBufferPointer {
                network.observables(t: t, y: yp.baseAddress!, into: $0.baseAddress!)
            }
            s.withUnsafeBufferPointer { sp in
                observableS.withUnsafeMutableBufferPointer {
                    network.observableSensitivities(
                        t: t, y: yp.baseAddress!, sensitivities: sp.baseAddress!, parameters: run.parameters,
                        into: $0.baseAddress!)
                }
            }
            f.withUnsafeBufferPointer { fp in
                observableRates.withUnsafeMutableBufferPointer {
                    network.observableDerivatives(
                        t: t, y: yp.baseAddress!, along: fp.baseAddress!, into: $0.baseAddress!)
                }
            }
        }
    }

    func values(of k: Int) -> (Double, [Double]) {
        let target = targets[k]
        if target.species {
            return (y[target.index], (0..<parameterCount).map { s[$0 * n + target.index] })
        }
        return (
            observables[target.index], (0..<parameterCount).map { observableS[$0 * observableCount + target.index] }
        )
    }

    func rate(of k: Int) -> Double {
        let target = targets[k]
        return target.species ? f[target.index] : observableRates[target.index]
    }

    /// The state and sensitivities at t inside the last step, evaluated.
    mutating func interpolate(_ t: Double, solver: BDFSolver<ReactionNetwork>) throws {
        try y.withUnsafeMutableBufferPointer { try solver.interpolate(at: t, into: $0.baseAddress!) }
        try s.withUnsafeMutableBufferPointer { try solver.interpolateSensitivities(at: t, into: $0.baseAddress!) }
        evaluate(t: t)
    }

    /// Takes the evaluated sample at t; `boundary`: a start, an end or a side of an event (an
    /// extremum can sit there without the rate changing sign); `first`: no area from before.
    mutating func sample(_ t: Double, first: Bool, boundary: Bool) {
        for k in targets.indices {
            let (value, derivatives) = values(of: k)
            if boundary {
                if value > peaks[k].value {
                    peaks[k] = Extremum(
                        value: value, time: t, derivatives: derivatives,
                        timeDerivatives: [Double](repeating: 0, count: parameterCount))
                }
                if value < minima[k].value {
                    minima[k] = Extremum(
                        value: value, time: t, derivatives: derivatives,
                        timeDerivatives: [Double](repeating: 0, count: parameterCount))
                }
            }
            if !first {
                let width = 0.5 * (t - lastTime)
                area[k] += width * (value + last[k])
                for p in 0..<parameterCount {
                    areaDerivatives[k][p] += width * (derivatives[p] + lastDerivatives[k][p])
                }
            }
            last[k] = value
            lastDerivatives[k] = derivatives
            lastRate[k] = rate(of: k)
        }
        lastTime = t
        for (m, metric) in metrics.enumerated() {
            if case .valueAt(let time) = metric.kind, time == t {
                valueAt[m] = (last[metric.target], lastDerivatives[metric.target])
            }
        }
    }

    mutating func start(t: Double, state: UnsafePointer<Double>, network: ReactionNetwork) {
        for i in 0..<n { y[i] = state[i] }
        s = run.s
        evaluate(t: t)
        sample(t, first: true, boundary: true)
    }

    mutating func afterEvent(t: Double, state: UnsafePointer<Double>, network: ReactionNetwork) {
        for i in 0..<n { y[i] = state[i] }
        s = run.s
        evaluate(t: t)
        sample(t, first: true, boundary: true)
    }

    mutating func step(
        from t0: Double, to t1: Double, eventAtEnd: Bool, solver: BDFSolver<ReactionNetwork>, network: ReactionNetwork
    ) throws {
        var times: [Double] = []
        for metric in metrics {
            guard case .valueAt(let time) = metric.kind, time > t0, time < t1 || (time == t1 && !eventAtEnd) else {
                continue
            }
            times.append(time)
        }
        for j in 1...4 { times.append(j == 4 ? t1 : t0 + (t1 - t0) * Double(j) / 4) }
        times.sort()
        for t in times where t > lastTime {
            let a = lastTime
            let rates = lastRate
            try interpolate(t, solver: solver)
            // Interior extrema between the last sample and this one (both inside this step).
            var located = false
            for k in targets.indices {
                let b = rate(of: k)
                let sign: Double = rates[k] > 0 && b <= 0 ? 1 : (rates[k] < 0 && b >= 0 ? -1 : 0)
                if sign == 0 { continue }
                try locateExtremum(k, from: a, to: t, sign: sign, t0: t0, t1: t1, solver: solver)
                located = true
            }
            if located { try interpolate(t, solver: solver) }
            // The last sample before an event, and the end of the run, can be extrema themselves.
            sample(t, first: false, boundary: t == t1 && (eventAtEnd || t1 == tEnd))
        }
    }

    /// Bisection on the target's rate in [a, b] (sign · rate from + to −), then the extremum's
    /// value, its sensitivities and its time's sensitivities.
    mutating func locateExtremum(
        _ k: Int, from a: Double, to b: Double, sign: Double, t0: Double, t1: Double, solver: BDFSolver<ReactionNetwork>
    ) throws {
        var lo = a
        var hi = b
        for _ in 0..<200 {
            let mid = 0.5 * (lo + hi)
            if mid <= lo || mid >= hi { break }
            try interpolate(mid, solver: solver)
            if sign * rate(of: k) > 0 { lo = mid } else { hi = mid }
        }
        let tStar = 0.5 * (lo + hi)
        try interpolate(tStar, solver: solver)
        let (value, derivatives) = values(of: k)
        let better = sign > 0 ? value > peaks[k].value : value < minima[k].value
        guard better else { return }
        // ṡ_X and Ẍ at t* by central differences of the dense output, inside the step.
        let delta = 1e-3 * (t1 - t0)
        let left = max(t0, tStar - delta)
        let right = min(t1, tStar + delta)
        try interpolate(left, solver: solver)
        let (_, derivativesLeft) = values(of: k)
        let rateLeft = rate(of: k)
        try interpolate(right, solver: solver)
        let (_, derivativesRight) = values(of: k)
        let rateRight = rate(of: k)
        let curvature = (rateRight - rateLeft) / (right - left)
        let timeDerivatives = (0..<parameterCount).map { p in
            curvature == 0 ? 0 : -((derivativesRight[p] - derivativesLeft[p]) / (right - left)) / curvature
        }
        let extremum = Extremum(value: value, time: tStar, derivatives: derivatives, timeDerivatives: timeDerivatives)
        if sign > 0 { peaks[k] = extremum } else { minima[k] = extremum }
    }

    /// Every metric's value and derivatives (steady_state is filled in by the caller).
    func values(duration: Double) -> (metric: [Double], derivatives: [Double]) {
        var values: [Double] = []
        var derivatives: [Double] = []
        for (m, metric) in metrics.enumerated() {
            let k = metric.target
            switch metric.kind {
            case .peak:
                values.append(peaks[k].value)
                derivatives += peaks[k].derivatives
            case .timeToPeak:
                values.append(peaks[k].time)
                derivatives += peaks[k].timeDerivatives
            case .min:
                values.append(minima[k].value)
                derivatives += minima[k].derivatives
            case .final, .steadyState:
                values.append(last[k])
                derivatives += lastDerivatives[k]
            case .auc:
                values.append(area[k])
                derivatives += areaDerivatives[k]
            case .mean:
                values.append(area[k] / duration)
                derivatives += areaDerivatives[k].map { $0 / duration }
            case .valueAt:
                values.append(valueAt[m]?.value ?? .nan)
                derivatives += valueAt[m]?.derivatives ?? [Double](repeating: .nan, count: parameterCount)
            case .halfLife, .regime:
                values.append(.nan)
                derivatives += [Double](repeating: .nan, count: parameterCount)
            }
        }
        return (values, derivatives)
    }
}
