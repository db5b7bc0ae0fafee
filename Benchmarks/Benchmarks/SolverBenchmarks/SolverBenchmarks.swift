// One full solve of a stiff reference problem per iteration, as a parameter sweep does it:
// the solver (its workspace) is created once in `setup`, outside the measurement, and every
// iteration only resets it and integrates to the end time into a preallocated buffer.
//
// Each (problem, tolerance) case is registered twice:
//
// * `<case>`: one solve per sample, metrics wallClock + mallocCountTotal. The malloc count is
//   exactly the allocations of one solve (the goal is zero).
// * `<case> ×1000`: 1000 solves per sample (scalingFactor .kilo; the table is normalised to one
//   solve), adding cpuTotal. On Linux cpuTotal comes from /proc/self/stat in 10 ms scheduler
//   ticks, so it is meaningless for a single sub-millisecond solve. Reading /proc also costs the
//   harness 16-18 mallocs per sample, which fall inside the malloc window: any configuration with
//   cpuTotal reports >= 16 mallocs per sample even for an empty closure (checked). In this
//   variant they are spread over 1000 solves and round to 0.

import Benchmark
import ODESolver
import StiffProblems

/// A solver workspace with its initial state and output buffer, allocated once.
final class SolveFixture<Problem: ReferenceProblem> {
    let problem: Problem
    let solver: BDFSolver<Problem>
    let startTime: Double
    let endTime: Double
    let initialState: UnsafeMutablePointer<Double>
    let output: UnsafeMutablePointer<Double>

    init(_ problem: Problem, rtol: Double, atol: Double) throws {
        self.problem = problem
        solver = try BDFSolver(system: problem,
                               options: BDFOptions(relativeTolerance: rtol, absoluteTolerance: atol))
        startTime = problem.startTime
        endTime = problem.endTime
        let n = problem.dimension
        initialState = .allocate(capacity: n)
        initialState.initialize(from: problem.initialState, count: n)
        output = .allocate(capacity: n)
        output.initialize(repeating: 0, count: n)

        // Sanity check, unmeasured: the timed solve must actually reach the reference solution.
        try solve()
        let y = Array(UnsafeBufferPointer(start: output, count: n))
        let maxError = errors(of: y, against: problem.referenceSolution).absolute
        guard maxError < 1e3 * rtol else {
            throw FixtureError.inaccurate("\(problem.name): max abs error \(maxError) at rtol \(rtol)")
        }
    }

    deinit {
        initialState.deallocate()
        output.deallocate()
    }

    /// The measured work: reset the workspace, integrate to the end time, write y(endTime).
    @inline(__always)
    func solve() throws {
        solver.reset(time: startTime, state: initialState)
        try solver.advance(to: endTime, stopTime: endTime, into: output)
    }
}

enum FixtureError: Error {
    case inaccurate(String)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal],
        timeUnits: .microseconds,
        warmupIterations: 10,
        maxDuration: .seconds(3),
        maxIterations: 100_000)
    let batchConfiguration = Benchmark.Configuration(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal],
        timeUnits: .microseconds,
        warmupIterations: 1,
        scalingFactor: .kilo,
        maxDuration: .seconds(10),
        maxIterations: 1_000)

    let tolerances: [(rtol: Double, atol: Double, label: String)] = [
        (1e-6, 1e-10, "rtol=1e-6 atol=1e-10"),
        (1e-8, 1e-12, "rtol=1e-8 atol=1e-12"),
    ]

    func register<P: ReferenceProblem>(_ name: String, _ makeProblem: @escaping @Sendable () -> P) {
        for (rtol, atol, label) in tolerances {
            for (suffix, configuration) in [("", Benchmark.defaultConfiguration), (" ×1000", batchConfiguration)] {
                Benchmark("\(name) \(label)\(suffix)", configuration: configuration) { benchmark, fixture in
                    for _ in benchmark.scaledIterations {
                        try fixture.solve()
                        blackHole(fixture.output)
                    }
                } setup: {
                    try SolveFixture(makeProblem(), rtol: rtol, atol: atol)
                }
            }
        }
    }

    register("ROBER t=1e5") { Robertson(endTime: 1e5) }
    register("POLLU t=60") { Pollution() }

    // Forward sensitivities of ROBER to its three rate constants (staggered corrector with error
    // control, p̄ = p): the sensitivity buffers are allocated in setup, so a solve allocates
    // nothing either.
    for (rtol, atol, label) in tolerances {
        Benchmark("ROBER t=1e5 sensitivities p1-p3 \(label)") { benchmark, fixture in
            for _ in benchmark.scaledIterations {
                try fixture.solve()
                blackHole(fixture.output)
            }
        } setup: {
            try SensitivityFixture(rtol: rtol, atol: atol)
        }
    }
}

/// ROBER with its sensitivities to p1, p2, p3, allocated once.
final class SensitivityFixture {
    let solver: BDFSolver<Robertson>
    let state: UnsafeMutablePointer<Double>
    let sensitivities: UnsafeMutablePointer<Double>
    let output: UnsafeMutablePointer<Double>

    init(rtol: Double, atol: Double) throws {
        let problem = Robertson(endTime: 1e5)
        solver = try BDFSolver(system: problem, options: BDFOptions(relativeTolerance: rtol, absoluteTolerance: atol))
        try solver.enableSensitivities(parameters: [0, 1, 2], parameterScales: [0.04, 1e4, 3e7], errorControl: true)
        state = .allocate(capacity: 3)
        state.initialize(from: problem.initialState, count: 3)
        sensitivities = .allocate(capacity: 9)
        sensitivities.initialize(repeating: 0, count: 9)
        output = .allocate(capacity: 12)
        output.initialize(repeating: 0, count: 12)
    }

    deinit {
        state.deallocate()
        sensitivities.deallocate()
        output.deallocate()
    }

    @inline(__always)
    func solve() throws {
        solver.reset(time: 0, state: state, sensitivities: sensitivities)
        try solver.advance(to: 1e5, stopTime: 1e5, into: output)
        try solver.interpolateSensitivities(at: 1e5, into: output + 3)
    }
}
