import ODESolver
import Testing

@testable import ReactionModel

@Suite("Compiled reaction networks: SBML semantics, Jacobian, conservation laws")
struct NetworkTests {
    func rhs(_ network: ReactionNetwork, _ y: [Double], t: Double = 0) -> [Double] {
        var dy = [Double](repeating: 0, count: y.count)
        y.withUnsafeBufferPointer { yp in
            dy.withUnsafeMutableBufferPointer { network.rhs(t: t, y: yp.baseAddress!, dydt: $0.baseAddress!) }
        }
        return dy
    }

    @Test func massActionWithCoefficientsIsTheTextbookODE() throws {
        // ROBER as reactions: A -> B, 2 B -> B + C, B + C -> A + C (docs/stiff-problems.md §6).
        let model = try ModelLoader.load(
            source: """
                [species]
                A = 1
                B = 0
                C = 0
                [parameters]
                k1 = 0.04
                k2 = 3e7
                k3 = 1e4
                [[reactions]]
                equation = "A -> B"
                forward = "k1"
                [[reactions]]
                equation = "2 B -> B + C"
                forward = "k2"
                [[reactions]]
                equation = "B + C -> A + C"
                forward = "k3"
                """, file: "rober.toml")
        let network = ReactionNetwork(model)
        let y = [0.9, 2e-5, 0.1]
        let dy = rhs(network, y)
        let expected = [
            -0.04 * y[0] + 1e4 * y[1] * y[2], 0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] * y[1], 3e7 * y[1] * y[1],
        ]
        for (a, b) in zip(dy, expected) { #expect(abs(a - b) <= 1e-15 * max(1, abs(b))) }
        #expect(model.conservationLaws()?.map(\.description) == ["A + B + C"])
    }

    @Test func transportBetweenCompartmentsConservesAmount() throws {
        let model = try ModelLoader.load(
            source: """
                [compartments]
                cytoplasm = 2.0
                nucleus = 0.5
                [species]
                Xc = { initial = 1, compartment = "cytoplasm" }
                Xn = { initial = 0, compartment = "nucleus" }
                [parameters]
                k = 0.3
                [[reactions]]
                equation = "Xc -> Xn"
                forward = "k"
                [[reactions]]
                equation = "Xn ->"
                rate = "0.1 * Xn"
                """, file: "transport.toml")
        let network = ReactionNetwork(model)
        let dy = rhs(network, [1, 0.2])
        // Flux k·V_c·Xc = 0.6 amount/time: Xc falls by 0.6/2, Xn rises by 0.6/0.5; degradation 0.1·Xn·V_n/V_n.
        #expect(abs(dy[0] - (-0.3)) < 1e-15)
        #expect(abs(dy[1] - (1.2 - 0.02)) < 1e-15)
        #expect(model.conservationLaws()?.isEmpty == true)
    }

    @Test func constantSpeciesNeverChangeButActAsReactants() throws {
        let model = try ModelLoader.load(
            source: """
                [species]
                L = { initial = 2, constant = true }
                R = 5
                LR = 0
                [[reactions]]
                equation = "L + R -> LR"
                forward = 0.1
                """, file: "clamp.toml")
        let dy = rhs(ReactionNetwork(model), [2, 5, 0])
        #expect(dy == [0, -1, 1])
        #expect(model.conservationLaws()?.map(\.description) == ["R + LR"])
    }

    @Test func jacobianOfGeneralRateLawsAndObservablesIsExact() throws {
        let model = try ModelLoader.load(
            source: """
                [compartments]
                c = 1.5
                n = 0.3
                [species]
                A = { initial = 1, compartment = "c" }
                B = { initial = 0.5, compartment = "c" }
                P = { initial = 0.2, compartment = "n" }
                [parameters]
                Vm = 2
                Km = 0.4
                K = 0.7
                [observables]
                total = "A + 2 * B"
                drive = "hill(total, K, 3)"
                [[reactions]]
                equation = "A <-> 2 B"
                forward = "Vm * exp(-t / 10)"
                reverse = "Km"
                [[reactions]]
                equation = "B -> P"
                rate = "Vm * B / (Km + B) * drive"
                [[reactions]]
                equation = "-> A"
                rate = "min(P, 1) * sqrt(total) + log(1 + A^2.5)"
                """, file: "general.toml")
        let network = ReactionNetwork(model)
        for point in [[1.0, 0.5, 0.2], [0.3, 2.1, 1.7], [2.5, 0.01, 0.9]] {
            let check = JacobianCheck(system: network, t: 3, y: point)
            #expect(
                check.passed,
                "worst ratio \(check.worstRatio) at \(point): \(check.mismatches.first.map { "\($0)" } ?? "")")
        }
    }

    @Test func speciesKeepFileOrder() throws {
        let model = try ModelLoader.load(
            source: "[species]\nzeta = 1\nalpha = 2\nmid = 3\n[parameters]\nk2 = 1\nk1 = 2\n", file: "order.toml")
        #expect(model.species.map(\.name) == ["zeta", "alpha", "mid"])
        #expect(model.parameters.map(\.name) == ["k2", "k1"])
    }

    @Test func integersAreAcceptedWhereNumbersAreExpected() throws {
        let model = try ModelLoader.load(
            source: """
                [compartments]
                cell = 2
                [species]
                A = { initial = 3 }
                [parameters]
                k = { value = 1 }
                [[reactions]]
                equation = "A ->"
                forward = 2
                [[events]]
                at = [1, 2]
                set = { A = 5 }
                [simulation]
                t_start = 0
                t_end = 10
                output_interval = 2
                rtol = 1
                atol = 1
                """, file: "ints.toml")
        #expect(model.compartments[0].size == 2)
        #expect(model.species[0].initial == 3)
        #expect(model.simulation.outputTimes == [0, 2, 4, 6, 8, 10])
        #expect(model.events[0].times == [1, 2])
    }

    @Test func conservationLawsOfADimerisationNetwork() throws {
        // Receptor R binds ligand L; two complexes dimerise: conserved total receptor and ligand.
        let model = try ModelLoader.load(
            source: """
                [species]
                L = 1
                R = 1
                LR = 0
                D = 0
                [[reactions]]
                equation = "L + R <-> LR"
                forward = 1
                reverse = 1
                [[reactions]]
                equation = "2 LR <-> D"
                forward = 1
                reverse = 1
                """, file: "dimer.toml")
        let laws = try #require(model.conservationLaws())
        #expect(laws.count == 2)
        // Any basis must span {L + LR + 2D, R + LR + 2D}: check each law annihilates the stoichiometry.
        for law in laws {
            var coefficient = [Int](repeating: 0, count: 4)
            for (s, c) in law.terms { coefficient[s] = c }
            #expect(-coefficient[0] - coefficient[1] + coefficient[2] == 0)
            #expect(-2 * coefficient[2] + coefficient[3] == 0)
        }
    }
}
