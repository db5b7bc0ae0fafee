// swift-tools-version: 6.0
// stat3sim: a simulator of IL-6/JAK/STAT3 signalling with its own stiff BDF solver.
// Module dependencies point one way (see docs/architecture.md): CLAPACK, CKLU <- ODESolver <- ... <- stat3sim.
import PackageDescription

let package = Package(
    name: "stat3sim",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "stat3sim", targets: ["stat3sim"]),
        .library(name: "ODESolver", targets: ["ODESolver"]),
        .library(name: "StiffProblems", targets: ["StiffProblems"]),
        .library(name: "ReactionModel", targets: ["ReactionModel"]),
        .library(name: "Simulation", targets: ["Simulation"]),
        .library(name: "SBML", targets: ["SBML"]),
        .library(name: "Calibration", targets: ["Calibration"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // LAPACK (OpenBLAS) as a system library. Nothing but ODESolver imports it.
        .systemLibrary(
            name: "CLAPACK",
            pkgConfig: "lapacke",
            providers: [.apt(["liblapacke-dev", "libopenblas-dev"])]),
        // SuiteSparse KLU, the sparse LU of large Newton matrices. Nothing but ODESolver imports it.
        .systemLibrary(name: "CKLU", providers: [.apt(["libsuitesparse-dev"])]),
        // The stiff solver. Knows nothing of biology.
        .target(name: "ODESolver", dependencies: ["CLAPACK", "CKLU"]),
        // Model files: parsing, validation, expressions, the compiled reaction network.
        .target(name: "ReactionModel", dependencies: ["ODESolver", "TOMLKit"]),
        // Time courses with events and scenarios, outputs (CSV, metadata), summaries.
        .target(name: "Simulation", dependencies: ["ReactionModel", "ODESolver"]),
        // SBML import (Level 2 and 3 core, read with Foundation's XMLParser) and Level 3 Version 2 export.
        .target(name: "SBML", dependencies: ["ReactionModel"]),
        // PEtab v1 problems (YAML through Yams, the SBML model, TSV tables): likelihoods and their gradients.
        .target(
            name: "Calibration",
            dependencies: ["CLAPACK", "ReactionModel", "Simulation", "SBML", .product(name: "Yams", package: "Yams")]),
        // Classic stiff test problems with published reference solutions (tests, benchmarks, demo).
        .target(name: "StiffProblems", dependencies: ["ODESolver"]),
        .executableTarget(
            name: "stat3sim",
            dependencies: [
                "ODESolver", "StiffProblems", "ReactionModel", "Simulation", "SBML", "Calibration",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // What the test suites share: the test models of Tests/Fixtures, temporary folders.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "ODESolverTests", dependencies: ["ODESolver", "StiffProblems"]),
        .testTarget(name: "ReactionModelTests", dependencies: ["ReactionModel", "ODESolver"]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "ReactionModel", "ODESolver", "TestSupport"]),
        .testTarget(name: "SBMLTests", dependencies: ["SBML", "ReactionModel", "Simulation", "ODESolver"]),
        .testTarget(name: "CalibrationTests", dependencies: ["Calibration", "TestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["stat3sim", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
