import ODESolver
import Testing

@Suite("LAPACK dense LU")
struct DenseLUTests {
    @Test(arguments: [DenseLU.Backend.lapack, .native])
    func solvesASmallSystemExactly(_ backend: DenseLU.Backend) {
        // A = [[2,1,1],[1,3,2],[1,0,0]] (column-major below), x = [1,2,3] → b = A x.
        let lu = DenseLU(dimension: 3, backend: backend)
        let a: [Double] = [2, 1, 1, 1, 3, 0, 1, 2, 0]
        for k in 0..<9 { lu.matrix[k] = a[k] }
        #expect(lu.factorize())
        var b: [Double] = [2 + 2 + 3, 1 + 6 + 6, 1]
        b.withUnsafeMutableBufferPointer { lu.solve($0.baseAddress!) }
        for (x, expected) in zip(b, [1.0, 2, 3]) { #expect(abs(x - expected) <= 4 * expected.ulp) }
    }

    @Test(arguments: [5, 20, 66, 120], [DenseLU.Backend.lapack, .native])
    func residualIsAtRoundOffOnRandomSystems(_ n: Int, _ backend: DenseLU.Backend) {
        var state: UInt64 = 12345
        func random() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53) - 0.5
        }
        let lu = DenseLU(dimension: n, backend: backend)
        var a = [Double](repeating: 0, count: n * n)
        for k in 0..<(n * n) { a[k] = random() }
        for i in 0..<n { a[i + i * n] += Double(n) }
        for k in 0..<(n * n) { lu.matrix[k] = a[k] }
        #expect(lu.factorize())
        let x = (0..<n).map { _ in random() }
        var b = [Double](repeating: 0, count: n)
        for j in 0..<n { for i in 0..<n { b[i] += a[i + j * n] * x[j] } }
        b.withUnsafeMutableBufferPointer { lu.solve($0.baseAddress!) }
        let error = zip(b, x).map { abs($0 - $1) }.max()!
        #expect(error < 1e-13)
    }

    @Test(arguments: [DenseLU.Backend.lapack, .native])
    func singularMatrixIsReported(_ backend: DenseLU.Backend) {
        let lu = DenseLU(dimension: 2, backend: backend)
        for (k, v) in [1.0, 2, 2, 4].enumerated() { lu.matrix[k] = v }
        #expect(!lu.factorize())
    }

    /// The Swift LU must reproduce LAPACK's factorisation: same pivots, same factors to
    /// round-off, on sparse and dense matrices that need pivoting.
    @Test(arguments: [0.1, 1.0])
    func nativeFactorsAgreeWithLAPACK(_ density: Double) {
        let n = 40
        var state: UInt64 = 7
        func random() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53) - 0.5
        }
        var a = [Double](repeating: 0, count: n * n)
        for k in 0..<(n * n) where k % (n + 1) == 0 || abs(random()) < density / 2 { a[k] = random() }
        let lapack = DenseLU(dimension: n, backend: .lapack)
        let native = DenseLU(dimension: n, backend: .native)
        for k in 0..<(n * n) {
            lapack.matrix[k] = a[k]
            native.matrix[k] = a[k]
        }
        #expect(lapack.factorize() == native.factorize())
        var worst = 0.0
        var scale = 0.0
        for k in 0..<(n * n) {
            worst = max(worst, abs(lapack.factorization[k] - native.factorization[k]))
            scale = max(scale, abs(lapack.factorization[k]))
        }
        #expect(worst <= 1e-12 * scale)
        var b1 = (0..<n).map { _ in random() }
        var b2 = b1
        b1.withUnsafeMutableBufferPointer { lapack.solve($0.baseAddress!) }
        b2.withUnsafeMutableBufferPointer { native.solve($0.baseAddress!) }
        let difference = zip(b1, b2).map { abs($0 - $1) }.max()!
        let size = b1.map(abs).max()!
        #expect(difference <= 1e-11 * size)
    }
}
