import ArgumentParser
import Foundation
import ODESolver

/// Times one LU factorisation plus one solve, LAPACK against the Swift LU, over a range of sizes:
/// the measurement behind `BDFOptions.LinearSolver.automaticCrossover`.
struct BenchLinearAlgebra: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-linear-algebra",
        abstract: "Time LU + solve with LAPACK and with the Swift LU at several sizes.",
        discussion: """
            The matrix imitates a Newton matrix I − γJ of a reaction network: unit diagonal plus a
            few off-diagonal entries per column (--density), or dense with --density 1.

            Example:
              stat3sim bench-linear-algebra --sizes 10,20,40,66,100,150 --density 0.15
            """)

    @Option(help: "Comma-separated matrix sizes.")
    var sizes: String = "5,10,20,30,40,66,100,150,200"

    @Option(help: "Fraction of nonzero off-diagonal entries.")
    var density: Double = 0.15

    @Option(help: "Factorisations per size and back-end.")
    var repeats: Int = 2000

    func run() throws {
        let ns = sizes.split(separator: ",").compactMap { Int($0) }
        print("n,density,lapack_us,native_us,ratio_native_over_lapack")
        for n in ns {
            var state: UInt64 = 42
            func random() -> Double {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Double(state >> 11) / Double(1 << 53)
            }
            var a = [Double](repeating: 0, count: n * n)
            for j in 0..<n {
                for i in 0..<n where i == j || random() < density {
                    a[i + j * n] = i == j ? 1 + Double(n) * random() : random() - 0.5
                }
            }
            var timings: [Double] = []
            for backend in [DenseLU.Backend.lapack, .native] {
                let lu = DenseLU(dimension: n, backend: backend)
                var b = [Double](repeating: 1, count: n)
                var samples: [Double] = []
                for _ in 0..<5 {
                    let start = DispatchTime.now().uptimeNanoseconds
                    for _ in 0..<repeats {
                        for k in 0..<(n * n) { lu.matrix[k] = a[k] }
                        _ = lu.factorize()
                        b.withUnsafeMutableBufferPointer { lu.solve($0.baseAddress!) }
                    }
                    samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-3 / Double(repeats))
                }
                timings.append(samples.sorted()[2])
            }
            print(
                "\(n),\(density),\(String(format: "%.3f", timings[0])),\(String(format: "%.3f", timings[1])),"
                    + "\(String(format: "%.2f", timings[1] / timings[0]))"
            )
        }
    }
}
