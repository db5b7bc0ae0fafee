// swift-tools-version: 6.1
// Benchmarks for stat3sim, kept in their own package so that `swift build` / `swift test` of the
// main package never compiles the benchmark harness. Run from this directory:
//   nice -n 19 swift package --allow-writing-to-package-directory benchmark
import PackageDescription

let package = Package(
    name: "stat3sim-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1",
                 traits: ["MallocInterposer"]),
    ],
    targets: [
        // The benchmark plugin only runs executable targets under Benchmarks/<TargetName>/.
        .executableTarget(
            name: "SolverBenchmarks",
            dependencies: [
                .product(name: "ODESolver", package: "main"),
                .product(name: "StiffProblems", package: "main"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/SolverBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
        .executableTarget(
            name: "ModelBenchmarks",
            dependencies: [
                .product(name: "ReactionModel", package: "main"),
                .product(name: "Simulation", package: "main"),
                .product(name: "ODESolver", package: "main"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/ModelBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    ]
)
