import Testing
import ODESolver

@Suite("LAPACK dense LU")
struct DenseLUTests {
    @Test func solvesASmallSystemExactly() {
        // A = [[2,1,1],[1,3,2],[1,0,0]] (column-major below), x = [1,2,3] → b = A x.
        let lu = DenseLU(dimension: 3)
        let a: [Double] = [2, 1, 1, 1, 3, 0, 1, 2, 0]
        for k in 0..<9 { lu.matrix[k] = a[k] }
        #expect(lu.factorize())
        var b: [Double] = [2 + 2 + 3, 1 + 6 + 6, 1]
        b.withUnsafeMutableBufferPointer { lu.solve($0.baseAddress!) }
        for (x, expected) in zip(b, [1.0, 2, 3]) { #expect(abs(x - expected) <= 4 * expected.ulp) }
    }

    @Test(arguments: [5, 20, 66, 120])
    func residualIsAtRoundOffOnRandomSystems(_ n: Int) {
        var state: UInt64 = 12345
        func random() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53) - 0.5
        }
        let lu = DenseLU(dimension: n)
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

    @Test func singularMatrixIsReported() {
        let lu = DenseLU(dimension: 2)
        for (k, v) in [1.0, 2, 2, 4].enumerated() { lu.matrix[k] = v }
        #expect(!lu.factorize())
    }
}
