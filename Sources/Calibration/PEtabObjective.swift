import Foundation
import ReactionModel
import Simulation

/// The negative log-likelihood of a PEtab problem's measurements, its prior term and χ², and
/// their gradients on the parameter scale from forward sensitivities.
public struct PEtabObjectiveValue: Sendable {
    /// −log L of the measurements (the prior excluded).
    public var nll: Double
    /// −log of the objective priors of the estimated parameters (0 when none has one).
    public var priorNLL: Double
    /// Σ ((m̃ − h̃)/σ)² over the measurements, on the observables' transformed scales.
    public var chi2: Double
    /// ∂nll/∂θ by estimated parameter id, θ on the parameter's scale (with `gradient: true`).
    public var gradient: [String: Double]?
    /// ∂priorNLL/∂θ, likewise.
    public var priorGradient: [String: Double]?
    /// The Fisher information of the measurements on the parameter scale (with `fisher: true`):
    /// row-major n × n over `problem.estimated`, Σ (∂h̃/∂θ)ᵀ(∂h̃/∂θ)/σ² plus the noise
    /// parameters' share (2 (∂σ/∂θ)ᵀ(∂σ/∂θ)/σ² for normal noise, 1× for Laplace). It is the
    /// Gauss–Newton Hessian of `nll` that Fides and Data2Dynamics fit with: positive
    /// semi-definite, and from the first-order sensitivities alone.
    public var fisher: [Double]?
    /// The Gauss–Newton part of the prior term's Hessian on the parameter scale (its diagonal).
    public var priorFisher: [Double]?
    public var measurements: Int
    /// Simulations whose sensitivities ran on the state's steps because under error control they
    /// exhausted the step budget (`PEtabObjective.run`).
    public var relaxedSensitivityRuns = 0
    /// The simulated observable h of every measurement, in the measurement table's order.
    public var simulations: [Double] = []
    /// The noise σ of every measurement (the noise formula's value), likewise.
    public var noise: [Double] = []
}

/// Evaluates a problem at parameter values: one simulation per pair of conditions (in parallel),
/// the observables and noise models at every measurement.
public final class PEtabObjective: @unchecked Sendable {
    public let problem: PEtabProblem
    public let rtol: Double
    public let atol: Double
    private(set) var experiments: [Experiment] = []
    /// Initial assignments with the targets of other assignments written out (over parameters,
    /// compartments and species the file gives numbers for).
    let assignments: [(target: String, expression: Expr)]
    let observables: [String: PEtabProblem.Observable]
    let cache = FormulaCache()
    /// Position of each estimated parameter in `problem.estimated` (the Fisher matrix's order).
    let estimatedIndex: [String: Int]
    /// Runs the conditions of one evaluation in parallel (off when the caller runs several
    /// evaluations at once, as a multi-start fit does).
    public var parallelConditions = true
    /// Most solver steps between stops of a simulation (nil: the simulator's default).
    public var maxSteps: Int? = nil

    /// The measurements of one simulation condition (after one preequilibration condition).
    struct Experiment {
        var preequilibration: String?
        var simulation: String
        var times: [Double]
        var rows: [Int]
        var simulator: Simulator
        /// The preequilibration's simulator (output at the end times of ever longer runs).
        var steadySimulator: Simulator?
        /// For measurements at t = inf: the simulation condition's steady state.
        var infinitySimulator: Simulator?
    }

    public init(problem: PEtabProblem, rtol: Double = 1e-10, atol: Double = 1e-12) throws {
        self.problem = problem
        self.rtol = rtol
        self.atol = atol
        observables = Dictionary(problem.observables.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var expressions = Dictionary(
            problem.initialAssignments.map { ($0.target, $0.expression) }, uniquingKeysWith: { a, _ in a })
        // Write out assignments that use other assignments' targets (a chain at most as long as
        // there are assignments; a loop is refused).
        for _ in 0...expressions.count {
            var changed = false
            for (target, e) in expressions {
                let names = Set(e.names)
                guard names.contains(where: { expressions[$0] != nil }) else { continue }
                expressions[target] = e.substituting { expressions[$0] }
                changed = true
            }
            if !changed { break }
        }
        if let (target, _) = expressions.first(where: { entry in entry.value.names.contains { expressions[$0] != nil } }
        ) {
            throw PEtabError(
                "the initial assignments of the model form a loop through '\(target)'.", file: problem.modelFile)
        }
        assignments = problem.initialAssignments.map { ($0.target, expressions[$0.target]!) }
        estimatedIndex = Dictionary(
            problem.estimated.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        var groups: [String: [Int]] = [:]
        var order: [String] = []
        for (k, m) in problem.measurements.enumerated() {
            let key = (m.preequilibrationConditionId ?? "") + "\u{1}" + m.simulationConditionId
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(k)
        }
        let comparisons = Self.timeComparisons(problem.model)
        let theta = linearValues()
        let estimated = Set(problem.estimated.map(\.id))
        // A run stops at the piecewise switches of its condition: a timed event without assignments.
        func stops(_ d: inout ModelDefinition, condition: String, tEnd: Double) throws {
            let plan = plan(condition: condition, theta: theta, estimated: estimated)
            let times = try switchTimes(comparisons, plan: plan, tEnd: tEnd, condition: condition)
            if !times.isEmpty {
                d.events.append(ModelDefinition.Event(times: times, assignments: [], description: "piecewise switch"))
            }
        }
        experiments = try order.map { key in
            let rows = groups[key]!
            let first = problem.measurements[rows[0]]
            var times = Array(Set(rows.map { problem.measurements[$0].time }.filter(\.isFinite))).sorted()
            let infinity = rows.contains { problem.measurements[$0].time.isInfinite }
            if times.isEmpty || times.last! <= 0 { times.append(1) }  // a run needs an end after its start
            var d = problem.model
            d.simulation.tStart = 0
            d.simulation.tEnd = times.last!
            d.simulation.outputInterval = nil
            d.simulation.explicitOutputTimes = times
            try stops(&d, condition: first.simulationConditionId, tEnd: times.last!)
            // A run to the steady state of `condition` (output at the end times of ever longer runs).
            func steadySimulator(_ condition: String) throws -> Simulator {
                var s = problem.model
                s.simulation.tStart = 0
                s.simulation.tEnd = Preequilibration.times.last!
                s.simulation.outputInterval = nil
                s.simulation.explicitOutputTimes = Preequilibration.times
                try stops(&s, condition: condition, tEnd: Preequilibration.times.last!)
                return Simulator(s)
            }
            return Experiment(
                preequilibration: first.preequilibrationConditionId, simulation: first.simulationConditionId,
                times: times, rows: rows, simulator: Simulator(d),
                steadySimulator: try first.preequilibrationConditionId.map(steadySimulator),
                infinitySimulator: infinity ? try steadySimulator(first.simulationConditionId) : nil)
        }
    }

    /// Simulations one evaluation runs: one per pair of conditions, plus its preequilibration.
    public var simulationCount: Int { experiments.reduce(0) { $0 + ($1.preequilibration == nil ? 1 : 2) } }

    /// The values of the parameter table's parameters (linear scale): the nominal values, with
    /// `values` in place of those it gives.
    public func linearValues(_ values: [String: Double] = [:]) -> [String: Double] {
        var theta: [String: Double] = [:]
        for p in problem.parameters { theta[p.id] = values[p.id] ?? p.nominalValue }
        return theta
    }

    /// The objective at the nominal values, or at `values` (linear scale, by parameter id) where
    /// it gives them; with `gradient`, its derivatives by the estimated parameters on their scales;
    /// with `fisher` (implies `gradient`), the Fisher information too.
    public func evaluate(values: [String: Double] = [:], gradient: Bool = false, fisher: Bool = false) throws
        -> PEtabObjectiveValue
    {
        let theta = linearValues(values)
        let gradient = gradient || fisher
        let estimated = Set(problem.estimated.map(\.id))
        var results = [Result<ExperimentValue, Error>?](repeating: nil, count: experiments.count)
        let lock = NSLock()
        let work = { (k: Int) in
            let r = Result {
                try self.evaluate(
                    self.experiments[k], theta: theta, gradient: gradient, fisher: fisher, estimated: estimated)
            }
            lock.lock()
            results[k] = r
            lock.unlock()
        }
        if parallelConditions {
            DispatchQueue.concurrentPerform(iterations: experiments.count, execute: work)
        } else {
            for k in experiments.indices { work(k) }
        }
        let n = problem.estimated.count
        var total = PEtabObjectiveValue(
            nll: 0, priorNLL: 0, chi2: 0, gradient: gradient ? [:] : nil, priorGradient: gradient ? [:] : nil,
            measurements: problem.measurements.count)
        total.simulations = [Double](repeating: .nan, count: problem.measurements.count)
        total.noise = total.simulations
        if fisher { total.fisher = [Double](repeating: 0, count: n * n) }
        for r in results {
            let v = try r!.get()
            for (k, h) in v.simulations { total.simulations[k] = h }
            for (k, sigma) in v.noise { total.noise[k] = sigma }
            total.nll += v.nll
            total.chi2 += v.chi2
            if v.relaxedSensitivities { total.relaxedSensitivityRuns += 1 }
            if gradient { for (p, g) in v.gradient { total.gradient![p, default: 0] += g } }
            if fisher { for k in 0..<(n * n) { total.fisher![k] += v.fisher[k] } }
        }
        if gradient {
            // On the parameter's scale: dθ_lin/dθ = θ ln 10 (log10), θ (log), 1 (lin).
            let chain = problem.estimated.map { $0.scale.linearDerivative(theta[$0.id]!) }
            for (i, p) in problem.estimated.enumerated() {
                total.gradient![p.id] = (total.gradient![p.id] ?? 0) * chain[i]
            }
            if fisher {
                for i in 0..<n { for j in 0..<n { total.fisher![i * n + j] *= chain[i] * chain[j] } }
            }
        }
        let prior = priorTerm(theta)
        total.priorNLL = prior.value
        if gradient { total.priorGradient = prior.gradient }
        if fisher { total.priorFisher = problem.estimated.map { prior.curvature[$0.id] ?? 0 } }
        return total
    }

    struct ExperimentValue {
        var nll = 0.0
        var chi2 = 0.0
        /// By parameter id, on the linear scale.
        var gradient: [String: Double] = [:]
        /// (measurement index, simulated h).
        var simulations: [(measurement: Int, value: Double)] = []
        /// (measurement index, σ).
        var noise: [(measurement: Int, value: Double)] = []
        /// Fisher information on the linear scale (n × n over the estimated parameters), when asked.
        var fisher: [Double] = []
        /// The sensitivities ran without error control (`PEtabObjective.run`).
        var relaxedSensitivities = false
    }
}

extension PEtabProblem.Scale {
    /// d(linear value)/d(value on this scale) at the linear value `x`.
    func linearDerivative(_ x: Double) -> Double {
        switch self {
        case .lin: return 1
        case .log: return x
        case .log10: return x * M_LN10
        }
    }

    /// `x` (linear) on this scale.
    public func scaled(_ x: Double) -> Double {
        switch self {
        case .lin: return x
        case .log: return Foundation.log(x)
        case .log10: return Foundation.log10(x)
        }
    }
}
