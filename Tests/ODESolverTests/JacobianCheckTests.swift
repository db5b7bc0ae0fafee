import ODESolver
import StiffProblems
import Testing

@Suite("Analytic Jacobian check")
struct JacobianCheckTests {
    /// A state away from the initial one, where every Jacobian entry is exercised.
    static func samplePoint(_ n: Int, seed: Int) -> [Double] {
        var x = UInt64(seed) &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return (0..<n).map { _ in
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return 0.01 + Double(x >> 11) / Double(1 << 53)
        }
    }

    @Test func correctJacobiansPass() {
        #expect(JacobianCheck(system: Robertson(), t: 0, y: Self.samplePoint(3, seed: 1)).passed)
        #expect(JacobianCheck(system: Hires(), t: 0, y: Self.samplePoint(8, seed: 2)).passed)
        #expect(JacobianCheck(system: Pollution(), t: 0, y: Self.samplePoint(20, seed: 3)).passed)
        #expect(JacobianCheck(system: Oregonator(), t: 0, y: Self.samplePoint(3, seed: 4)).passed)
        #expect(JacobianCheck(system: VanDerPol(), t: 0, y: Self.samplePoint(2, seed: 5)).passed)
        #expect(JacobianCheck(system: LinearStiff(), t: 0, y: Self.samplePoint(3, seed: 6)).passed)
    }

    @Test func aWrongEntryIsCaughtAndNamed() {
        // ROBER with ∂f2/∂y3 off by 1 % (a typical transcription slip): the check must name it.
        let wrong = AlteredJacobianRobertson { jacobian in jacobian[1 + 3 * 2] *= 1.01 }
        let check = JacobianCheck(system: wrong, t: 0, y: [0.9, 2e-5, 0.1])
        #expect(!check.passed)
        #expect(check.mismatches.count == 1)
        #expect(check.mismatches.first?.row == 1)
        #expect(check.mismatches.first?.column == 2)
    }
}
