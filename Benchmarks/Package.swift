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
        benchmark("SolverBenchmarks", using: ["ODESolver", "StiffProblems"]),
        benchmark("ModelBenchmarks", using: ["ReactionModel", "Simulation", "ODESolver"]),
    ]
)

/// A benchmark executable using `products` of the main package. The benchmark plugin only runs
/// executable targets under Benchmarks/<TargetName>/.
func benchmark(_ name: String, using products: [String]) -> Target {
    .executableTarget(
        name: name,
        dependencies: products.map { .product(name: $0, package: "main") }
            + [.product(name: "Benchmark", package: "benchmark")],
        path: "Benchmarks/\(name)",
        plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")])
}
