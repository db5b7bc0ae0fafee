import ODESolver
import ReactionModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A summary number of a time course, `KIND:TARGET` on the command line, column `TARGET__KIND`.
public struct Metric: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case peak, timeToPeak, final, min, mean, auc, halfLife, steadyState
        case valueAt(Double)
        /// 0 returns to baseline, 1 sustained, 2 bistable (see `definition`).
        case regime

        /// The kind in the sweep vocabulary (value_at without its time).
        public var vocabulary: MetricKind {
            switch self {
            case .peak: return .peak
            case .timeToPeak: return .timeToPeak
            case .final: return .final
            case .min: return .min
            case .mean: return .mean
            case .auc: return .auc
            case .halfLife: return .halfLife
            case .steadyState: return .steadyState
            case .valueAt: return .valueAt
            case .regime: return .regime
            }
        }

        /// The kind of a metric as written: its name, and value_at's time.
        public init(_ kind: MetricKind, time: Double?) {
            switch kind {
            case .peak: self = .peak
            case .timeToPeak: self = .timeToPeak
            case .final: self = .final
            case .min: self = .min
            case .mean: self = .mean
            case .auc: self = .auc
            case .halfLife: self = .halfLife
            case .steadyState: self = .steadyState
            case .valueAt: self = .valueAt(time ?? 0)
            case .regime: self = .regime
            }
        }

        var name: String {
            if case .valueAt(let t) = self { return "value_at@\(t.plainText)" }
            return vocabulary.rawValue
        }

        var definition: String {
            if case .valueAt(let t) = self { return "value at t = \(t.plainText) (after any event at that time)" }
            return vocabulary.definition
        }
    }

    public var kind: Kind
    public var target: String
    public var column: String { "\(target)__\(kind.name)" }

    public init(kind: Kind, target: String) {
        self.kind = kind
        self.target = target
    }

    /// The metric `spec` asks for, its target checked against the model. The message says what
    /// is wrong without naming where the metric came from: the caller adds that.
    public init(_ spec: MetricSpec, definition: ModelDefinition) throws {
        switch definition.symbol(named: spec.target) {
        case .species, .observable: break
        default:
            let names = definition.species.map(\.name) + definition.observables.map(\.name)
            throw SimulationError(
                "'\(excerpt(spec.target))' is not a species or observable of the "
                    + "model\(didYouMean(spec.target, among: names))."
            )
        }
        self.init(kind: Kind(spec.kind, time: spec.time), target: spec.target)
    }

    /// Peak, time to peak, AUC and final value of every observable (or every species if none).
    public static func defaults(for definition: ModelDefinition) -> [Metric] {
        let targets =
            definition.observables.isEmpty ? definition.species.map(\.name) : definition.observables.map(\.name)
        return targets.flatMap { t in [Kind.peak, .timeToPeak, .auc, .final].map { Metric(kind: $0, target: t) } }
    }
}

/// The distinct targets of a list of metrics (each species or observable once, in first-use
/// order) and each metric pointing at its target: what observers of a run accumulate per target.
struct MetricTargets {
    var targets: [(species: Bool, index: Int)] = []
    var names: [String] = []
    var metrics: [(kind: Metric.Kind, target: Int)] = []

    init(_ list: [Metric], definition: ModelDefinition) {
        for m in list {
            if !names.contains(m.target) {
                names.append(m.target)
                switch definition.symbol(named: m.target)! {
                case .species(let i): targets.append((true, i))
                case .observable(let i): targets.append((false, i))
                default: preconditionFailure("metric targets are checked when parsed")
                }
            }
            metrics.append((m.kind, names.firstIndex(of: m.target)!))
        }
    }
}

/// Computes metrics while the solver integrates: samples every internal step at four evenly
/// spaced points by dense output, keeping running extrema, the trapezoid integral and, for
/// half-lives, the sampled curve. Metrics that need only values at given times (`final`,
/// `value_at`) skip the sampling: the step's end at t_end and the value_at times are all they read.
/// Buffers are reused across points.
struct MetricsObserver: IntegrationObserver {
    /// Targets as (isSpecies, index) and the metrics, each pointing at its target.
    let targets: [(species: Bool, index: Int)]
    let targetNames: [String]
    let metrics: [(kind: Metric.Kind, target: Int)]
    let needsCurve: [Bool]
    /// Whether any metric reads the course between output times (peak, minimum, integral, ...).
    let samplesSteps: Bool
    /// Whether any target is an observable (then a sample evaluates the observables).
    let readsObservables: Bool
    /// The value_at metrics: (index among the metrics, time).
    let valueAtTimes: [(metric: Int, time: Double)]
    var configured: ConfiguredRun
    let speciesCount: Int

    /// Per-run accumulators, `Accumulator.count` slots per target in one flat buffer, so that a
    /// sample touches one array (one uniqueness check) however many targets there are.
    var accumulators: [Double]
    enum Accumulator: Int, CaseIterable { case peak, peakTime, minimum, area, last, baseline }
    var lastTime = 0.0
    var curveTimes: [[Double]], curveValues: [[Double]]
    var valueAt: [Double?]
    // Scratch
    var state: [Double]
    var observables: [Double]

    init(metrics: [Metric], definition: ModelDefinition) {
        let resolved = MetricTargets(metrics, definition: definition)
        targets = resolved.targets
        targetNames = resolved.names
        self.metrics = resolved.metrics
        let list = resolved.metrics
        let names = resolved.names
        needsCurve = names.indices.map { t in list.contains { $0.1 == t && ($0.0 == .halfLife) } }
        samplesSteps = list.contains {
            switch $0.kind {
            case .final, .valueAt: return false
            default: return true
            }
        }
        readsObservables = resolved.targets.contains { !$0.species }
        valueAtTimes = list.enumerated().compactMap { m, metric in
            if case .valueAt(let time) = metric.kind { return (m, time) }
            return nil
        }
        speciesCount = definition.species.count
        configured = ConfiguredRun(initial: [], tStart: 0, tEnd: 0, outputTimes: OutputGrid(explicit: []), schedule: [])
        let n = names.count
        accumulators = .init(repeating: 0, count: n * Accumulator.allCases.count)
        curveTimes = .init(repeating: [], count: n)
        curveValues = curveTimes
        valueAt = .init(repeating: nil, count: list.count)
        state = .init(repeating: 0, count: definition.species.count)
        observables = .init(repeating: 0, count: definition.observables.count)
    }

    /// Target k's accumulator.
    func value(_ accumulator: Accumulator, _ k: Int) -> Double {
        accumulators[k * Accumulator.allCases.count + accumulator.rawValue]
    }
    func peak(_ k: Int) -> Double { value(.peak, k) }
    func last(_ k: Int) -> Double { value(.last, k) }
    func baseline(_ k: Int) -> Double { value(.baseline, k) }

    mutating func reset(for run: ConfiguredRun) {
        configured = run
        let width = Accumulator.allCases.count
        for k in targets.indices {
            accumulators[k * width + Accumulator.peak.rawValue] = -.infinity
            accumulators[k * width + Accumulator.minimum.rawValue] = .infinity
            accumulators[k * width + Accumulator.area.rawValue] = 0
            curveTimes[k].removeAll(keepingCapacity: true)
            curveValues[k].removeAll(keepingCapacity: true)
        }
        for k in valueAt.indices { valueAt[k] = nil }
    }

    /// Target values of the state in `state` at time t.
    mutating func sample(_ t: Double, _ y: UnsafePointer<Double>, network: ReactionNetwork, first: Bool) {
        if readsObservables {
            observables.withUnsafeMutableBufferPointer { network.observables(t: t, y: y, into: $0.baseAddress!) }
        }
        let width = Accumulator.allCases.count
        let (peak, peakTime, minimum, area, last) = (0, 1, 2, 3, 4)
        let halfStep = 0.5 * (t - lastTime)
        observables.withUnsafeBufferPointer { observables in
            accumulators.withUnsafeMutableBufferPointer { a in
                for (k, target) in targets.enumerated() {
                    let v = target.species ? y[target.index] : observables[target.index]
                    let slot = a.baseAddress! + k * width
                    if v > slot[peak] {
                        slot[peak] = v
                        slot[peakTime] = t
                    }
                    if v < slot[minimum] { slot[minimum] = v }
                    if !first { slot[area] += halfStep * (v + slot[last]) }
                    slot[last] = v
                }
            }
        }
        for (k, curve) in needsCurve.enumerated() where curve {
            curveTimes[k].append(t)
            curveValues[k].append(value(.last, k))
        }
        lastTime = t
        for (m, time) in valueAtTimes where time == t { valueAt[m] = value(.last, metrics[m].target) }
    }

    mutating func start(t: Double, state y: UnsafePointer<Double>, network: ReactionNetwork) {
        sample(t, y, network: network, first: true)
        let width = Accumulator.allCases.count
        for k in targets.indices {
            accumulators[k * width + Accumulator.baseline.rawValue] =
                accumulators[k * width + Accumulator.last.rawValue]
        }
    }

    mutating func step(
        from t0: Double, to t1: Double, eventAtEnd: Bool, solver: BDFSolver<ReactionNetwork>, network: ReactionNetwork
    ) throws {
        // value_at times inside the step (at t1 only when no event happens there).
        for (_, time) in valueAtTimes where time > t0 && (time < t1 || (time == t1 && !eventAtEnd)) {
            try sampleAt(time, solver: solver, network: network)
        }
        guard samplesSteps else {
            // Only the end is read: the last step ends exactly at t_end.
            if t1 >= configured.tEnd && t1 > lastTime { try sampleAt(t1, solver: solver, network: network) }
            return
        }
        for j in 1...4 {
            let t = j == 4 ? t1 : t0 + (t1 - t0) * Double(j) / 4
            if t <= lastTime { continue }
            try sampleAt(t, solver: solver, network: network)
        }
    }

    mutating func sampleAt(_ t: Double, solver: BDFSolver<ReactionNetwork>, network: ReactionNetwork) throws {
        var y: [Double] = []
        swap(&y, &state)
        defer { swap(&y, &state) }
        try y.withUnsafeMutableBufferPointer { try solver.interpolate(at: t, into: $0.baseAddress!) }
        y.withUnsafeBufferPointer { sample(t, $0.baseAddress!, network: network, first: false) }
    }

    mutating func afterEvent(t: Double, state y: UnsafePointer<Double>, network: ReactionNetwork) {
        // A jump: the curve continues from the new value (no area over zero time).
        sample(t, y, network: network, first: true)
    }

    /// The metric values at the end of the run, and a note when a steady state was not reached.
    /// `rate` gives each target's rate of change at t_end.
    func results(rate: (Int) -> Double) -> (values: [Double], unsettled: [Int]) {
        let duration = configured.tEnd - configured.tStart
        var values: [Double] = []
        var unsettled: [Int] = []
        for (m, metric) in metrics.enumerated() {
            let k = metric.target
            let (peak, peakTime, minimum, area, last) = (
                value(.peak, k), value(.peakTime, k), value(.minimum, k), value(.area, k), value(.last, k)
            )
            switch metric.kind {
            case .peak: values.append(peak)
            case .timeToPeak: values.append(peakTime)
            case .final: values.append(last)
            case .min: values.append(minimum)
            case .auc: values.append(area)
            case .mean: values.append(area / duration)
            case .valueAt: values.append(valueAt[m] ?? .nan)
            case .halfLife:
                let halfway = last + 0.5 * (peak - last)
                var result = Double.nan
                let times = curveTimes[k]
                let curve = curveValues[k]
                if peak > last, let start = times.firstIndex(of: peakTime) {
                    for i in (start + 1)..<times.count where curve[i] <= halfway {
                        let (ta, va, tb, vb) = (times[i - 1], curve[i - 1], times[i], curve[i])
                        let tc = vb == va ? tb : ta + (halfway - va) * (tb - ta) / (vb - va)
                        result = tc - peakTime
                        break
                    }
                }
                values.append(result)
            case .regime:
                // Refined to 2 (bistable) by the workspace, which can compute steady states.
                let rise = peak - baseline(k)
                values.append(rise > 0 && abs(last - baseline(k)) > 0.1 * rise ? 1 : 0)
            case .steadyState:
                let scale = max(abs(last), 1e-9 * max(abs(peak), abs(minimum)), Double.leastNormalMagnitude)
                if abs(rate(k)) * duration <= 1e-3 * scale {
                    values.append(last)
                } else {
                    values.append(.nan)
                    unsettled.append(m)
                }
            }
        }
        return (values, unsettled)
    }
}
