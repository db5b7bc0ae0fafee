import Foundation
import Testing

@testable import ReactionModel

/// Conservation laws of models with many species that no reaction changes: each such species is
/// a law of its own, found without the elimination (a rate law of 10,000 terms over 10,000 such
/// species used to make `stat3sim check` run for minutes).
@Suite("Conservation laws at scale")
struct ConservationLawScaleTests {
    @Test func untouchedSpeciesAreLawsOfTheirOwn() throws {
        let n = 9_999  // with X, the most state variables a model may have
        var toml = "[species]\nX = 0\n"
        for i in 0..<n { toml += "A\(i) = 1\n" }
        toml += "[[reactions]]\nequation = \"-> X\"\nrate = \""
        toml += (0..<n).map { "A\($0)" }.joined(separator: " + ")
        toml += "\"\n[[reactions]]\nequation = \"X ->\"\nrate = \"X\"\n"
        let started = Date()
        let d = try ModelLoader.load(source: toml, file: "wide.toml")
        let laws = try #require(d.conservationLaws())
        let seconds = Date().timeIntervalSince(started)
        #expect(laws.count == n)
        #expect(laws.allSatisfy { $0.terms.count == 1 && $0.terms[0].coefficient == 1 })
        #expect(laws.first?.names == ["A0"])
        #expect(laws.last?.names == ["A\(n - 1)"])
        print("10,000 untouched species: \(laws.count) laws in \(seconds) s")
    }

    /// The same basis, in the same order, as the elimination over every species gives: the
    /// moieties of a network with an untouched species between the ones that react (the expected
    /// list is what the elimination over all species gave before the change).
    @Test func theOrderOfTheBasisIsKept() throws {
        let toml = """
            [species]
            R = 1
            U = 2
            L = 1
            RL = 0
            [[reactions]]
            equation = "R + L <-> RL"
            forward = "1"
            reverse = "1"
            """
        let d = try ModelLoader.load(source: toml, file: "moieties.toml")
        let laws = try #require(d.conservationLaws())
        #expect(laws.map(\.description) == ["U", "L + RL", "R + RL"])
    }
}
