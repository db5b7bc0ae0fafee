// Costs of a model outside the solver, for Models/classic.toml and Models/sobotta2017.toml:
//
// * `<model> load+compile`: ModelLoader.load(path:) (read + parse TOML + validate) and
//   ReactionNetwork(definition) (compile rates, observables and the symbolic Jacobian to a tape),
//   per iteration. Requirement: classic.toml under 20 ms.
// * `<model> rhs`: one network.rhs call at the initial state per iteration, with wallClock and
//   mallocCountTotal. Requirement: zero allocations. The buffers are allocated in `setup`.
// * `<model> jacobian`: one network.jacobian call at the initial state per iteration, the n×n
//   buffer zeroed before the call inside the measurement (as the solver does). Requirement: zero
//   allocations.
// * `<model> default run`: Simulator.run() of the model's default run, for reference. The
//   Simulator (and so the compiled network) is created in `setup`; each run builds its own solver.
//
// No configuration here includes cpuTotal, because reading /proc/self/stat costs the harness
// 16-18 mallocs per sample inside the malloc window (see SolverBenchmarks.swift). mallocCountTotal
// is therefore exactly the allocations of the measured code.

import Benchmark
import Foundation
import ODESolver
import ReactionModel
import Simulation

/// The repository root: this file is <root>/Benchmarks/Benchmarks/ModelBenchmarks/ModelBenchmarks.swift.
let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()   // ModelBenchmarks
    .deletingLastPathComponent()   // Benchmarks (targets)
    .deletingLastPathComponent()   // Benchmarks (package)
    .deletingLastPathComponent()   // repository root

func modelPath(_ file: String) -> String {
    repositoryRoot.appendingPathComponent("Models").appendingPathComponent(file).path
}

/// A compiled network with the initial state and the rhs / Jacobian buffers, allocated once.
final class NetworkFixture {
    let network: ReactionNetwork
    let n: Int
    let t: Double
    let y: UnsafeMutablePointer<Double>
    let dydt: UnsafeMutablePointer<Double>
    let jacobian: UnsafeMutablePointer<Double>

    init(path: String) throws {
        let definition = try ModelLoader.load(path: path)
        network = ReactionNetwork(definition)
        n = network.dimension
        t = definition.simulation.tStart
        y = .allocate(capacity: n)
        y.initialize(from: definition.species.map(\.initial), count: n)
        dydt = .allocate(capacity: n)
        dydt.initialize(repeating: 0, count: n)
        jacobian = .allocate(capacity: n * n)
        jacobian.initialize(repeating: 0, count: n * n)
        // Unmeasured warm-up and sanity check: the state must give a finite derivative.
        network.rhs(t: t, y: y, dydt: dydt)
        for i in 0..<n where !dydt[i].isFinite {
            throw FixtureError.nonFinite("\(path): dydt[\(i)] = \(dydt[i]) at the initial state")
        }
        network.jacobian(t: t, y: y, dydt: dydt, jacobian: jacobian)
    }

    deinit {
        y.deallocate()
        dydt.deallocate()
        jacobian.deallocate()
    }
}

enum FixtureError: Error {
    case nonFinite(String)
}

let benchmarks: @Sendable () -> Void = {
    let slowConfiguration = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal],
        timeUnits: .microseconds,
        units: [.mallocCountTotal: .count],   // exact counts, not "22K"
        warmupIterations: 3,
        maxDuration: .seconds(5),
        maxIterations: 10_000)
    let callConfiguration = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal],
        timeUnits: .nanoseconds,
        units: [.mallocCountTotal: .count],
        warmupIterations: 100,
        maxDuration: .seconds(3),
        maxIterations: 1_000_000)

    for (label, file) in [("classic", "classic.toml"), ("sobotta2017", "sobotta2017.toml")] {
        let path = modelPath(file)

        Benchmark("\(label) load+compile", configuration: slowConfiguration) { benchmark in
            for _ in benchmark.scaledIterations {
                let definition = try ModelLoader.load(path: path)
                let network = ReactionNetwork(definition)
                blackHole(network)
            }
        }

        Benchmark("\(label) rhs", configuration: callConfiguration) { benchmark, f in
            for _ in benchmark.scaledIterations {
                f.network.rhs(t: f.t, y: f.y, dydt: f.dydt)
                blackHole(f.dydt)
            }
        } setup: {
            try NetworkFixture(path: path)
        }

        Benchmark("\(label) jacobian", configuration: callConfiguration) { benchmark, f in
            for _ in benchmark.scaledIterations {
                f.jacobian.update(repeating: 0, count: f.n * f.n)
                f.network.jacobian(t: f.t, y: f.y, dydt: f.dydt, jacobian: f.jacobian)
                blackHole(f.jacobian)
            }
        } setup: {
            try NetworkFixture(path: path)
        }

        Benchmark("\(label) default run", configuration: slowConfiguration) { benchmark, simulator in
            for _ in benchmark.scaledIterations {
                blackHole(try simulator.run())
            }
        } setup: {
            Simulator(try ModelLoader.load(path: path))
        }
    }
}
