// One full solve of a stiff reference problem per iteration, as a parameter sweep does it:
// the solver (its workspace) is created once in `setup`, outside the measurement, and every
// iteration only resets it and integrates to the end time into a preallocated buffer.
// `mallocCountTotal` therefore counts the allocations of one solve (the goal is zero).

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
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal],
        timeUnits: .microseconds,
        warmupIterations: 10,
        maxDuration: .seconds(3),
        maxIterations: 100_000)

    let tolerances: [(rtol: Double, atol: Double, label: String)] = [
        (1e-6, 1e-10, "rtol=1e-6 atol=1e-10"),
        (1e-8, 1e-12, "rtol=1e-8 atol=1e-12"),
    ]

    func register<P: ReferenceProblem>(_ name: String, _ makeProblem: @escaping @Sendable () -> P) {
        for (rtol, atol, label) in tolerances {
            Benchmark("\(name) \(label)") { benchmark, fixture in
                for _ in benchmark.scaledIterations {
                    try fixture.solve()
                    blackHole(fixture.output)
                }
            } setup: {
                try SolveFixture(makeProblem(), rtol: rtol, atol: atol)
            }
        }
    }

    register("ROBER t=1e5") { Robertson(endTime: 1e5) }
    Benchmark("XCTL empty all3") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(0) }
    }
    Benchmark("XCTL empty wall+malloc", configuration: .init(metrics: [.wallClock, .mallocCountTotal])) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(0) }
    }
    Benchmark("XCTL ROBER wall+malloc", configuration: .init(metrics: [.wallClock, .mallocCountTotal])) { benchmark, fixture in
        for _ in benchmark.scaledIterations { try fixture.solve(); blackHole(fixture.output) }
    } setup: { try SolveFixture(Robertson(endTime: 1e5), rtol: 1e-6, atol: 1e-10) }
    Benchmark("XCTL ROBER x1000 all3", configuration: .init(scalingFactor: .kilo, maxDuration: .seconds(8))) { benchmark, fixture in
        for _ in benchmark.scaledIterations { try fixture.solve(); blackHole(fixture.output) }
    } setup: { try SolveFixture(Robertson(endTime: 1e5), rtol: 1e-6, atol: 1e-10) }
    register("POLLU t=60") { Pollution() }
}

// TEMPORARY experiment
let experiments: Void = ()
let _registerExperiments: @Sendable () -> Void = {}
