import Foundation
import ReactionModel
import Simulation

/// What a run sets, and how its inputs depend on the estimated parameters.
struct RunPlan {
    /// Model parameters, compartments and species (initial values) with their values.
    var values: [String: Double] = [:]
    /// d(input)/dθ by parameter id (linear scale) for every input that depends on an estimated
    /// parameter: parameters and compartments (their values), species (their initial values).
    var dependencies: [String: [String: Double]] = [:]
    /// Species whose initial value the condition sets (so initial assignments leave them).
    var setSpecies: Set<String> = []

    var overrides: [(name: String, value: Double)] { values.keys.sorted().map { ($0, values[$0]!) } }
    var sensitivityNames: [String] { dependencies.keys.filter { !dependencies[$0]!.isEmpty }.sorted() }
}

/// The steady state of a preequilibration condition is taken at the end of ever longer runs.
enum Preequilibration {
    static let times: [Double] = [1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8]
}

extension PEtabObjective {
    /// The values a condition sets: the parameter table's (model parameters and compartments),
    /// then the condition's; NaN keeps the value in force.
    func plan(condition id: String, theta: [String: Double], estimated: Set<String>) -> RunPlan {
        var plan = RunPlan()
        for p in problem.parameters {
            switch problem.model.symbol(named: p.id) {
            case .parameter?, .compartment?:
                plan.values[p.id] = theta[p.id]!
                if estimated.contains(p.id) { plan.dependencies[p.id] = [p.id: 1] }
            default: break
            }
        }
        let condition = problem.conditions.first { $0.id == id }!
        for (target, value) in condition.overrides {
            switch value {
            case .number(let x) where x.isNaN: continue
            case .number(let x):
                plan.values[target] = x
                plan.dependencies[target] = nil
            case .parameter(let p):
                plan.values[target] = theta[p]!
                plan.dependencies[target] = estimated.contains(p) ? [p: 1] : nil
            }
            if case .species? = problem.model.symbol(named: target) { plan.setSpecies.insert(target) }
        }
        return plan
    }

    /// Initial assignments computed again with the plan's values, with their derivatives.
    func applyInitialAssignments(_ plan: inout RunPlan) {
        let d = problem.model
        func value(_ name: String) -> Double {
            if let v = plan.values[name] { return v }
            switch d.symbol(named: name) {
            case .parameter(let i)?: return d.parameters[i].value
            case .compartment(let i)?: return d.compartments[i].size
            case .species(let i)?: return d.species[i].initial
            default: return .nan
            }
        }
        var computed: [(String, Double, [String: Double])] = []
        for (target, e) in assignments where plan.values[target] == nil && !plan.setSpecies.contains(target) {
            var deps: [String: Double] = [:]
            for n in e.names {
                guard let dn = plan.dependencies[n], !dn.isEmpty else { continue }
                let partial = cache.derivative(e, n).evaluate(value)
                for (p, x) in dn { deps[p, default: 0] += partial * x }
            }
            computed.append((target, e.evaluate(value), deps))
        }
        for (target, x, deps) in computed {
            plan.values[target] = x
            plan.dependencies[target] = deps.isEmpty ? nil : deps
        }
    }

    func settings(_ plan: RunPlan, sensitivities: Bool) -> RunSettings {
        var s = RunSettings()
        s.overrides = plan.overrides
        s.rtol = rtol
        s.atol = atol
        s.maxSteps = maxSteps
        if sensitivities, !plan.sensitivityNames.isEmpty {
            s.sensitivities = SensitivityRequest(parameters: plan.sensitivityNames)
        }
        return s
    }

    /// A run of `simulator`; with sensitivities under error control that exhaust the step budget,
    /// the run again with the sensitivities on the state's own steps (CVODES without `errconS`).
    /// Sensitivities can need far more steps than the state: at a point of Fujita 2010 that fits
    /// reach (a turnover rate of 414/s, species a few decades above the absolute tolerance) the
    /// sensitivities of one condition under error control take 346,419 steps, the state 363; a
    /// fit's budget of 10,000 would fail every step into that region.
    func run(_ simulator: Simulator, _ settings: RunSettings) throws -> (TimeCourse, relaxed: Bool) {
        do {
            return (try simulator.run(settings: settings), false)
        } catch let e as SimulationError {
            guard var relaxed = settings.sensitivities, relaxed.errorControl, let kind = e.solverError?.kind else {
                throw e
            }
            switch kind {
            case .tooManySteps, .stepSizeTooSmall, .repeatedErrorTestFailures: break
            default: throw e
            }
            relaxed.errorControl = false
            var again = settings
            again.sensitivities = relaxed
            return (try simulator.run(settings: again), true)
        }
    }

    /// d(column)/dθ at `row` of a run made with `plan`'s sensitivities.
    func derivatives(_ course: TimeCourse, _ index: [String: Int], _ plan: RunPlan, quantity: String, row: Int)
        -> [String: Double]
    {
        var result: [String: Double] = [:]
        for name in plan.sensitivityNames {
            guard let c = index[SensitivityRequest.columnName(quantity, name, normalized: false)] else { continue }
            let s = course.value(row: row, column: c)
            if s == 0 { continue }
            for (p, x) in plan.dependencies[name]! { result[p, default: 0] += s * x }
        }
        return result
    }

    func failure(_ e: Error, _ experiment: Experiment, preequilibration: Bool) -> PEtabError {
        let which =
            preequilibration
            ? "the preequilibration (condition '\(experiment.preequilibration!)')"
            : "the simulation of condition '\(experiment.simulation)'"
                + (experiment.preequilibration.map { " after preequilibration '\($0)'" } ?? "")
        return PEtabError("\(which) failed: \(e)", file: problem.measurementFile)
    }

    /// The steady state of the preequilibration condition and its derivatives.
    func preequilibrate(_ experiment: Experiment, theta: [String: Double], gradient: Bool, estimated: Set<String>)
        throws
        -> (state: [String: Double], dependencies: [String: [String: Double]])
    {
        var plan = plan(condition: experiment.preequilibration!, theta: theta, estimated: estimated)
        applyInitialAssignments(&plan)
        return try steadyState(
            experiment.steadySimulator!, plan: plan, gradient: gradient,
            what: "the preequilibration (condition '\(experiment.preequilibration!)')")
    }

    /// The steady state a run with `plan` settles to and its derivatives: Newton from the end of a
    /// plain run to 1e8 time units, with the sensitivities by a linear solve
    /// (`Simulator.settledSteadyState`); where that cannot be used (events that change the state,
    /// a steady state that is not isolated), the state at the end of a run to 1e8 with
    /// sensitivities, checked to have settled against the one before.
    func steadyState(_ simulator: Simulator, plan: RunPlan, gradient: Bool, what: String) throws
        -> (state: [String: Double], dependencies: [String: [String: Double]])
    {
        let runSettings = settings(plan, sensitivities: gradient)
        if let (steady, s) = try? simulator.settledSteadyState(
            settings: runSettings, settleTime: Preequilibration.times.last!)
        {
            var state: [String: Double] = [:]
            var dependencies: [String: [String: Double]] = [:]
            let names = runSettings.sensitivities?.parameters ?? []
            let n = problem.model.species.count
            for (i, species) in problem.model.species.enumerated() {
                state[species.name] = steady[i]
                var d: [String: Double] = [:]
                for (m, name) in names.enumerated() where s[m * n + i] != 0 {
                    for (p, x) in plan.dependencies[name]! { d[p, default: 0] += s[m * n + i] * x }
                }
                if !d.isEmpty { dependencies[species.name] = d }
            }
            return (state, dependencies)
        }
        let course: TimeCourse
        do { course = try simulator.run(settings: runSettings) } catch {
            throw PEtabError("\(what) failed: \(error)", file: problem.measurementFile)
        }
        let index = Dictionary(course.columns.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let last = course.times.count - 1
        var state: [String: Double] = [:]
        var dependencies: [String: [String: Double]] = [:]
        for s in problem.model.species {
            let c = index[s.name]!
            let x = course.value(row: last, column: c)
            let before = course.value(row: last - 1, column: c)
            if abs(x - before) > 1e-6 * max(abs(x), 1e-6) + atol {
                throw PEtabError(
                    "\(what) does not settle: '\(s.name)' is \(before) at t = \(course.times[last - 1]) and \(x) at "
                        + "t = \(course.times[last]).", file: problem.measurementFile)
            }
            state[s.name] = x
            if gradient {
                let d = derivatives(course, index, plan, quantity: s.name, row: last)
                if !d.isEmpty { dependencies[s.name] = d }
            }
        }
        return (state, dependencies)
    }

    func evaluate(
        _ experiment: Experiment, theta: [String: Double], gradient: Bool, fisher: Bool = false,
        estimated: Set<String>
    ) throws -> ExperimentValue {
        var plan = plan(condition: experiment.simulation, theta: theta, estimated: estimated)
        if experiment.preequilibration != nil {
            let steady = try preequilibrate(experiment, theta: theta, gradient: gradient, estimated: estimated)
            for s in problem.model.species where !plan.setSpecies.contains(s.name) {
                plan.values[s.name] = steady.state[s.name]!
                plan.dependencies[s.name] = steady.dependencies[s.name]
            }
        } else {
            applyInitialAssignments(&plan)
        }
        let course: TimeCourse?
        var relaxedSensitivities = false
        if experiment.rows.contains(where: { problem.measurements[$0].time.isFinite }) {
            do {
                let (run, relaxed) = try run(experiment.simulator, settings(plan, sensitivities: gradient))
                course = run
                relaxedSensitivities = relaxed
            } catch { throw failure(error, experiment, preequilibration: false) }
        } else {
            course = nil
        }
        let steady = try experiment.infinitySimulator.map {
            try steadyState(
                $0, plan: plan, gradient: gradient,
                what: "the steady state of condition '\(experiment.simulation)' (measurements at t = inf)")
        }
        let index =
            course.map { Dictionary($0.columns.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a }) } ?? [:]
        let rowOf =
            course.map { Dictionary($0.times.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a }) } ?? [:]
        var result = ExperimentValue()
        result.relaxedSensitivities = relaxedSensitivities
        let n = estimatedIndex.count
        if fisher { result.fisher = [Double](repeating: 0, count: n * n) }
        let d = problem.model
        for k in experiment.rows {
            let m = problem.measurements[k]
            let atSteadyState = m.time.isInfinite
            let row = atSteadyState ? 0 : rowOf[m.time]!
            let formulas = cache.formulas(m, observables[m.observableId]!)
            func value(_ name: String) -> Double {
                if name == "time" { return m.time }
                switch d.symbol(named: name) {
                case .species? where atSteadyState: return steady!.state[name]!
                case .species?, .observable?: return course!.value(row: row, column: index[name]!)
                case .parameter(let i)?: return plan.values[name] ?? d.parameters[i].value
                case .compartment(let i)?: return plan.values[name] ?? d.compartments[i].size
                case .time?: return m.time
                case nil: return theta[name] ?? .nan
                }
            }
            let h = formulas.observable.evaluate(value)
            result.simulations.append((k, h))
            let sigma = formulas.noise.evaluate(value)
            result.noise.append((k, sigma))
            let term = try likelihood(m, observables[m.observableId]!, h: h, sigma: sigma)
            result.nll += term.nll
            result.chi2 += term.chi2
            guard gradient else { continue }
            // d/dθ of h and σ through every name they use.
            func total(_ partials: [(String, Expr)]) -> [String: Double] {
                var g: [String: Double] = [:]
                for (name, partial) in partials {
                    let dn: [String: Double]
                    switch d.symbol(named: name) {
                    case .species? where atSteadyState: dn = steady!.dependencies[name] ?? [:]
                    case .species?, .observable?:
                        dn = derivatives(course!, index, plan, quantity: name, row: row)
                    case .parameter?, .compartment?: dn = plan.dependencies[name] ?? [:]
                    case .time?: dn = [:]
                    case nil: dn = name != "time" && estimated.contains(name) ? [name: 1] : [:]
                    }
                    if dn.isEmpty { continue }
                    let x = partial.evaluate(value)
                    for (p, v) in dn { g[p, default: 0] += x * v }
                }
                return g
            }
            let dh = total(formulas.observablePartials)
            let dsigma = total(formulas.noisePartials)
            for (p, v) in dh { result.gradient[p, default: 0] += term.dh * v }
            for (p, v) in dsigma { result.gradient[p, default: 0] += term.dsigma * v }
            if fisher {
                addOuterProduct(dh, weight: term.fisherWeights.h, to: &result.fisher, dimension: n)
                addOuterProduct(dsigma, weight: term.fisherWeights.sigma, to: &result.fisher, dimension: n)
            }
        }
        return result
    }

    /// `matrix` += weight · v vᵀ over the estimated parameters (v by parameter id).
    func addOuterProduct(_ v: [String: Double], weight: Double, to matrix: inout [Double], dimension n: Int) {
        let entries = v.compactMap { id, x in estimatedIndex[id].map { ($0, x) } }
        for (i, a) in entries { for (j, b) in entries { matrix[i * n + j] += weight * a * b } }
    }

    /// One datum's −log-likelihood and (m̃ − h̃)²/σ², with the derivatives of the former by h and σ
    /// and the datum's Fisher information per (∂h)² and per (∂σ)²: (dh̃/dh)²/σ² and 2/σ² for normal
    /// noise, (dh̃/dh)²/σ² and 1/σ² for Laplace noise (|m̃ − h̃|/σ is then exponential).
    func likelihood(_ m: PEtabProblem.Measurement, _ o: PEtabProblem.Observable, h: Double, sigma: Double) throws
        -> (nll: Double, chi2: Double, dh: Double, dsigma: Double, fisherWeights: (h: Double, sigma: Double))
    {
        let y = m.measurement
        let (mt, ht, dht, jacobian): (Double, Double, Double, Double)
        switch o.transformation {
        case .lin: (mt, ht, dht, jacobian) = (y, h, 1, 0)
        case .log: (mt, ht, dht, jacobian) = (log(y), log(h), 1 / h, log(y))
        case .log10: (mt, ht, dht, jacobian) = (log10(y), log10(h), 1 / (h * M_LN10), log(y * M_LN10))
        }
        guard sigma > 0, sigma.isFinite else {
            throw PEtabError(
                "the noise of '\(o.id)' at t = \(m.time) in '\(m.simulationConditionId)' is \(sigma); it must be "
                    + "positive.", file: problem.measurementFile, line: m.line)
        }
        guard ht.isFinite else {
            throw PEtabError(
                "the simulated '\(o.id)' at t = \(m.time) in '\(m.simulationConditionId)' is \(h)"
                    + (o.transformation == .lin ? "" : ", which has no \(o.transformation.rawValue)") + ".",
                file: problem.measurementFile, line: m.line)
        }
        let r = mt - ht
        let chi2 = (r / sigma) * (r / sigma)
        switch o.distribution {
        case .normal:
            let nll = 0.5 * log(2 * Double.pi * sigma * sigma) + 0.5 * chi2 + jacobian
            return (
                nll, chi2, -r / (sigma * sigma) * dht, 1 / sigma - r * r / (sigma * sigma * sigma),
                (dht * dht / (sigma * sigma), 2 / (sigma * sigma))
            )
        case .laplace:
            let nll = log(2 * sigma) + abs(r) / sigma + jacobian
            let sign: Double = r > 0 ? 1 : (r < 0 ? -1 : 0)
            return (
                nll, chi2, -sign / sigma * dht, 1 / sigma - abs(r) / (sigma * sigma),
                (dht * dht / (sigma * sigma), 1 / (sigma * sigma))
            )
        }
    }
}

/// Observable and noise formulas with their placeholders bound, and their partial derivatives,
/// computed once per binding.
final class FormulaCache: @unchecked Sendable {
    struct Formulas {
        var observable: Expr
        var noise: Expr
        var observablePartials: [(String, Expr)]
        var noisePartials: [(String, Expr)]
    }
    private let lock = NSLock()
    private var formulas: [String: Formulas] = [:]
    private var partials: [String: Expr] = [:]

    func formulas(_ m: PEtabProblem.Measurement, _ o: PEtabProblem.Observable) -> Formulas {
        let key = ([o.id] + m.observableParameters.map(\.description) + ["|"] + m.noiseParameters.map(\.description))
            .joined(separator: "\u{1}")
        lock.lock()
        if let f = formulas[key] {
            lock.unlock()
            return f
        }
        lock.unlock()
        func bind(_ e: Expr) -> Expr {
            e.substituting { name in
                let bound: PEtabProblem.Value?
                if let k = placeholder(name, "observableParameter", o.id), k <= m.observableParameters.count {
                    bound = m.observableParameters[k - 1]
                } else if let k = placeholder(name, "noiseParameter", o.id), k <= m.noiseParameters.count {
                    bound = m.noiseParameters[k - 1]
                } else {
                    bound = nil
                }
                switch bound {
                case .number(let x)?: return .number(x)
                case .parameter(let p)?: return .name(p)
                case nil: return nil
                }
            }
        }
        let h = bind(o.formula)
        let sigma = bind(o.noiseFormula)
        func partials(_ e: Expr) -> [(String, Expr)] {
            e.derivatives(where: { _ in true }).map { ($0.key, $0.value.simplified) }.sorted { $0.0 < $1.0 }
        }
        let f = Formulas(observable: h, noise: sigma, observablePartials: partials(h), noisePartials: partials(sigma))
        lock.lock()
        formulas[key] = f
        lock.unlock()
        return f
    }

    /// ∂e/∂name (for initial assignments).
    func derivative(_ e: Expr, _ name: String) -> Expr {
        let key = "\(e)\u{1}\(name)"
        lock.lock()
        if let d = partials[key] {
            lock.unlock()
            return d
        }
        lock.unlock()
        let d = e.derivative(with: name).simplified
        lock.lock()
        partials[key] = d
        lock.unlock()
        return d
    }
}
