/// The solution of one run so far, for delay differential equations (`delay(x, τ)`): the
/// interpolating polynomial of every accepted solver step (its Nordsieck array, as the solver's
/// own dense output uses it), the parameter and compartment values in force from each event on,
/// and the initial state, which is the history before the start.
///
/// The integration loop records each step as the solver takes it and cuts the last one where an
/// event ends it; the network reads past values from here inside its right-hand side, so lookups
/// allocate nothing and move from the last one found (queries mostly advance with time).
public final class StateHistory {
    /// State variables per step.
    public let dimension: Int
    /// Parameter and compartment slots per snapshot.
    let valueWidth: Int
    var startTime = 0.0
    var initialState: [Double]

    /// Per recorded step: where it starts and ends, the time and step size its polynomial is
    /// centred and scaled on (t_n, h), its order, and where its q + 1 columns start.
    var stepStart: [Double] = []
    var stepEnd: [Double] = []
    var center: [Double] = []
    var scale: [Double] = []
    var order: [Int] = []
    var offset: [Int] = []
    var coefficients: [Double] = []
    /// The step the last lookup found.
    var cursor = 0

    /// Parameter and compartment values from `valueTimes[k]` on (the first at the start).
    var valueTimes: [Double] = []
    var values: [Double] = []

    public init(dimension: Int, valueWidth: Int) {
        self.dimension = dimension
        self.valueWidth = valueWidth
        initialState = [Double](repeating: 0, count: dimension)
    }

    /// How many steps are kept.
    public var stepCount: Int { stepStart.count }

    /// Forgets everything: a run starts at `time` in `state`, with the parameter and compartment
    /// values `parameters` (`valueWidth` of them).
    public func reset(time: Double, state: UnsafePointer<Double>, parameters: UnsafePointer<Double>) {
        startTime = time
        for i in 0..<dimension { initialState[i] = state[i] }
        stepStart.removeAll(keepingCapacity: true)
        stepEnd.removeAll(keepingCapacity: true)
        center.removeAll(keepingCapacity: true)
        scale.removeAll(keepingCapacity: true)
        order.removeAll(keepingCapacity: true)
        offset.removeAll(keepingCapacity: true)
        coefficients.removeAll(keepingCapacity: true)
        cursor = 0
        valueTimes = [time]
        values = Array(UnsafeBufferPointer(start: parameters, count: valueWidth))
    }

    /// Appends the step (`start`, `end`] whose polynomial is Σ_j z_j ((t − tn)/h)^j, with the
    /// q + 1 columns of `nordsieck` (each `dimension` long).
    public func record(
        start: Double, end: Double, tn: Double, h: Double, order q: Int, nordsieck: UnsafePointer<Double>
    ) {
        guard end > start else { return }
        // The step replaces the constant placeholder of a restart at its start.
        if let last = stepStart.last, last == start, stepEnd.last == start { cut(at: start) }
        stepStart.append(start)
        stepEnd.append(end)
        center.append(tn)
        scale.append(h)
        order.append(q)
        offset.append(coefficients.count)
        coefficients.append(contentsOf: UnsafeBufferPointer(start: nordsieck, count: (q + 1) * dimension))
    }

    /// The run restarts at `time` in `state` (an event there): steps beyond it are superseded,
    /// and until the next step the state there is `state` (so a value read at the event's own
    /// instant is the one assigned).
    public func restart(at time: Double, state: UnsafePointer<Double>) {
        cut(at: time)
        stepStart.append(time)
        stepEnd.append(time)
        center.append(time)
        scale.append(1)
        order.append(0)
        offset.append(coefficients.count)
        coefficients.append(contentsOf: UnsafeBufferPointer(start: state, count: dimension))
    }

    /// Steps beyond `time` are superseded (an event there cut the last one short).
    public func cut(at time: Double) {
        while let last = stepStart.last, last >= time {
            stepStart.removeLast()
            stepEnd.removeLast()
            center.removeLast()
            scale.removeLast()
            order.removeLast()
            coefficients.removeLast(coefficients.count - offset.removeLast())
        }
        if let last = stepEnd.last, last > time { stepEnd[stepEnd.count - 1] = time }
        cursor = min(cursor, max(stepStart.count - 1, 0))
    }

    /// Parameter and compartment values in force from `time` on (after events there).
    public func recordParameters(at time: Double, _ parameters: UnsafePointer<Double>) {
        if valueTimes.last == time {
            let base = values.count - valueWidth
            for i in 0..<valueWidth { values[base + i] = parameters[i] }
            return
        }
        valueTimes.append(time)
        values.append(contentsOf: UnsafeBufferPointer(start: parameters, count: valueWidth))
    }

    /// Whether parameters or compartments ever changed in this run (then past values read them
    /// from here).
    var parametersChanged: Bool { valueTimes.count > 1 }

    /// Forgets the steps that end before `time` (lags bounded by t − time).
    public func discard(before time: Double) {
        var k = 0
        while k < stepEnd.count && stepEnd[k] < time { k += 1 }
        guard k > 0, k < stepEnd.count else { return }
        let drop = offset[k]
        stepStart.removeFirst(k)
        stepEnd.removeFirst(k)
        center.removeFirst(k)
        scale.removeFirst(k)
        order.removeFirst(k)
        offset.removeFirst(k)
        for i in offset.indices { offset[i] -= drop }
        coefficients.removeFirst(drop)
        cursor = 0
    }

    /// The step whose interval holds `t` (the later one at a boundary, so that a value right
    /// after an event is the assigned one), or the last step when `t` lies beyond it; nil before
    /// the first step.
    @inline(__always)
    func stepIndex(at t: Double) -> Int? {
        let count = stepStart.count
        guard count > 0, t >= stepStart[0] else { return nil }
        var k = min(cursor, count - 1)
        while k > 0 && stepStart[k] > t { k -= 1 }
        while k + 1 < count && stepStart[k + 1] <= t { k += 1 }
        cursor = k
        return k
    }

    /// State variable `i` at time `t`.
    @inline(__always)
    public func component(_ i: Int, at t: Double) -> Double {
        guard let k = stepIndex(at: t) else { return initialState[i] }
        let s = (t - center[k]) / scale[k]
        return coefficients.withUnsafeBufferPointer { z in
            let base = offset[k] + i
            var value = z[base + order[k] * dimension]
            var j = order[k] - 1
            while j >= 0 {
                value = z[base + j * dimension] + s * value
                j -= 1
            }
            return value
        }
    }

    /// The whole state at time `t`, into `output`.
    public func state(at t: Double, into output: UnsafeMutablePointer<Double>) {
        guard let k = stepIndex(at: t) else {
            for i in 0..<dimension { output[i] = initialState[i] }
            return
        }
        let s = (t - center[k]) / scale[k]
        let n = dimension
        coefficients.withUnsafeBufferPointer { z in
            let base = offset[k]
            let q = order[k]
            for i in 0..<n { output[i] = z[base + q * n + i] }
            var j = q - 1
            while j >= 0 {
                for i in 0..<n { output[i] = z[base + j * n + i] + s * output[i] }
                j -= 1
            }
        }
    }

    /// The parameter and compartment values in force at `t`, into `output`.
    public func parameters(at t: Double, into output: UnsafeMutablePointer<Double>) {
        var k = valueTimes.count - 1
        while k > 0 && valueTimes[k] > t { k -= 1 }
        let base = k * valueWidth
        for i in 0..<valueWidth { output[i] = values[base + i] }
    }
}
