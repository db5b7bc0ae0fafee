import Foundation
import ReactionModel
import Simulation
import Testing

@testable import SBML

/// Algebraic rules linear in the variable they determine, imported as assignment rules of it
/// (docs/sbml-import.md), run against closed forms; the rest refused by name.
@Suite("SBML algebraic rules")
struct SBMLAlgebraicRuleTests {
    static let math = #"<math xmlns="http://www.w3.org/1998/Math/MathML">"#

    /// One compartment, species A (decaying at rate 1 from 2) and what `rest` adds.
    static func model(_ rest: String, species: String = "") -> String {
        sbml(
            """
            <listOfCompartments><compartment id="c" size="2" constant="true"/></listOfCompartments>
            <listOfSpecies><species id="A" compartment="c" initialConcentration="2" \
            hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>\(species)</listOfSpecies>
            <listOfReactions><reaction id="decay" reversible="false">
              <listOfReactants><speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>
              <kineticLaw>\(math)<apply><times/><ci> c </ci><ci> A </ci></apply></math></kineticLaw>
            </reaction></listOfReactions>
            \(rest)
            """)
    }

    /// The import's refusal of `xml` ("" when it imports).
    static func refusal(_ xml: String) -> String {
        do { _ = try SBMLReader.definition(fromXML: xml, file: "algebraic.xml") } catch { return "\(error)" }
        return ""
    }

    static func run(_ xml: String) throws -> TimeCourse {
        var settings = RunSettings()
        settings.tEnd = 3
        settings.outputInterval = 0.5
        settings.rtol = 1e-10
        settings.atol = 1e-12
        return try Simulator(SBMLReader.definition(fromXML: xml, file: "algebraic.xml")).run(settings: settings)
    }

    /// 0 = 3·y − A + 1 determines the non-constant parameter y (A is set by its reaction):
    /// y = (A − 1)/3 with A = 2e^{−t}, at every output time and at t = 0.
    @Test func aParameterDeterminedByALinearRule() throws {
        let xml = SBMLAlgebraicRuleTests.model(
            """
            <listOfParameters><parameter id="y" value="100" constant="false"/></listOfParameters>
            <listOfRules><algebraicRule>\(SBMLAlgebraicRuleTests.math)<apply><plus/>\
            <apply><minus/><apply><times/><cn> 3 </cn><ci> y </ci></apply><ci> A </ci></apply><cn> 1 </cn>\
            </apply></math></algebraicRule></listOfRules>
            """)
        let course = try SBMLAlgebraicRuleTests.run(xml)
        let y = try #require(course.column(named: "y"))
        for (t, value) in zip(course.times, y) {
            #expect(abs(value - (2 * exp(-t) - 1) / 3) < 1e-8)
        }
    }

    /// A species in amounts (hasOnlySubstanceUnits) is solved for its amount: 0 = B − A·c gives
    /// the amount B = A·c = 4e^{−t}, whatever the concentration of B would be.
    @Test func aSpeciesInAmountsDeterminedByALinearRule() throws {
        let xml = SBMLAlgebraicRuleTests.model(
            """
            <listOfRules><algebraicRule>\(SBMLAlgebraicRuleTests.math)<apply><minus/><ci> B </ci>\
            <apply><times/><ci> A </ci><ci> c </ci></apply></apply></math></algebraicRule></listOfRules>
            """,
            species: #"<species id="B" compartment="c" initialAmount="0" hasOnlySubstanceUnits="true" "#
                + #"boundaryCondition="true" constant="false"/>"#)
        let course = try SBMLAlgebraicRuleTests.run(xml)
        // The time course holds B's concentration, amount / c.
        let b = try #require(course.column(named: "B"))
        for (t, value) in zip(course.times, b) {
            #expect(abs(value * 2 - 4 * exp(-t)) < 1e-8)
        }
    }

    /// A rule nonlinear in its only candidate, and one that determines nothing free, are refused
    /// with the rule, its math and what to write instead.
    @Test func rulesThatAreNotLinearInAFreeVariableAreRefusedByName() {
        let nonlinear = SBMLAlgebraicRuleTests.model(
            """
            <listOfParameters><parameter id="y" value="1" constant="false"/></listOfParameters>
            <listOfRules><algebraicRule>\(SBMLAlgebraicRuleTests.math)<apply><minus/>\
            <apply><times/><ci> y </ci><ci> y </ci></apply><ci> A </ci></apply></math></algebraicRule></listOfRules>
            """)
        #expect(
            throws: SBMLImportError.unsupported(
                "SBML algebraicRule 1 (0 = (y*y - A)) is not supported: it is nonlinear in 'y', the variables it "
                    + "could determine. stat3sim solves algebraic rules that are linear in the variable they "
                    + "determine; write this one as an assignmentRule (or rateRule) of that variable.")
        ) { try SBMLReader.definition(fromXML: nonlinear, file: "algebraic.xml") }

        // A is set by its reaction and k is constant: nothing is left for the rule to determine.
        let nothingFree = SBMLAlgebraicRuleTests.model(
            """
            <listOfParameters><parameter id="k" value="1" constant="true"/></listOfParameters>
            <listOfRules><algebraicRule>\(SBMLAlgebraicRuleTests.math)<apply><minus/><ci> A </ci><ci> k </ci>\
            </apply></math></algebraicRule></listOfRules>
            """)
        let message = SBMLAlgebraicRuleTests.refusal(nothingFree)
        #expect(message.contains("algebraicRule 1 (0 = (A - k))"))
        #expect(message.contains("determines no variable"))
    }

    /// Two rules that determine each other form a system of equations: refused, naming both.
    @Test func rulesThatDetermineEachOtherAreRefused() {
        let coupled = SBMLAlgebraicRuleTests.model(
            """
            <listOfParameters><parameter id="x" value="1" constant="false"/>\
            <parameter id="y" value="1" constant="false"/></listOfParameters>
            <listOfRules>
            <algebraicRule>\(SBMLAlgebraicRuleTests.math)<apply><minus/><ci> A </ci>\
            <apply><plus/><ci> y </ci><ci> x </ci></apply></apply></math></algebraicRule>
            <algebraicRule>\(SBMLAlgebraicRuleTests.math)<apply><minus/><ci> x </ci><ci> y </ci></apply></math>\
            </algebraicRule>
            </listOfRules>
            """)
        let message = SBMLAlgebraicRuleTests.refusal(coupled)
        #expect(message.contains("depend on each other"))
        #expect(message.contains("'x'") && message.contains("'y'"))
    }
}

/// Fast reactions A ⇌ B reduced to their equilibrium (docs/sbml-import.md), against closed forms.
@Suite("SBML fast reactions")
struct SBMLFastReactionTests {
    static let math = SBMLAlgebraicRuleTests.math

    /// Compartment c of `size` with A = 3 and B = 1 in it.
    static func pair(size: Int) -> String {
        """
        <listOfCompartments><compartment id="c" size="\(size)" constant="true"/></listOfCompartments>
        <listOfSpecies>
        <species id="A" compartment="c" initialConcentration="3" hasOnlySubstanceUnits="false" \
        boundaryCondition="false" constant="false"/>
        <species id="B" compartment="c" initialConcentration="1" hasOnlySubstanceUnits="false" \
        boundaryCondition="false" constant="false"/>
        </listOfSpecies>
        """
    }

    /// A fast reaction `id`: A ⇌ ν B with flux c·(kf·A − kr·B).
    static func fastReaction(_ id: String, productStoichiometry: Int = 1) -> String {
        """
        <reaction id="\(id)" reversible="true" fast="true">
          <listOfReactants><speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>
          <listOfProducts><speciesReference species="B" stoichiometry="\(productStoichiometry)" constant="true"/>\
        </listOfProducts>
          <kineticLaw>\(math)<apply><times/><ci> c </ci><apply><minus/>\
        <apply><times/><ci> kf </ci><ci> A </ci></apply><apply><times/><ci> kr </ci><ci> B </ci></apply>\
        </apply></apply></math></kineticLaw>
        </reaction>
        """
    }

    /// B → ∅ slow at c·k·B.
    static let drain = """
        <reaction id="drain" reversible="false">
          <listOfReactants><speciesReference species="B" stoichiometry="1" constant="true"/></listOfReactants>
          <kineticLaw>\(math)<apply><times/><ci> c </ci><ci> k </ci><ci> B </ci></apply></math></kineticLaw>
        </reaction>
        """

    /// A ⇌ B fast (flux kf·A − kr·B, per volume), B → ∅ slow at rate k·B, in one compartment of
    /// size 2. At equilibrium A = kr/(kf + kr)·T and B = kf/(kf + kr)·T with T = A + B, and the total
    /// decays as dT/dt = −k·B = −k·kf/(kf + kr)·T: T(t) = T(0)·e^{−k·kf·t/(kf + kr)}.
    @Test func aFastPairFollowsItsEquilibriumWhileASlowReactionDrainsIt() throws {
        let xml = sbml(
            """
            \(Self.pair(size: 2))
            <listOfParameters><parameter id="kf" value="3" constant="true"/>\
            <parameter id="kr" value="1" constant="true"/><parameter id="k" value="0.5" constant="true"/>\
            </listOfParameters>
            <listOfReactions>
            \(Self.fastReaction("bind"))
            \(Self.drain)
            </listOfReactions>
            """)
        let course = try SBMLAlgebraicRuleTests.run(xml)
        let a = try #require(course.column(named: "A"))
        let b = try #require(course.column(named: "B"))
        for (k, t) in course.times.enumerated() {
            let total = 4 * exp(-0.5 * 3 * t / 4)
            #expect(abs(a[k] - total / 4) < 1e-8, "A at t = \(t)")
            #expect(abs(b[k] - 3 * total / 4) < 1e-8, "B at t = \(t)")
        }
    }

    /// A ⇌ 2B fast (flux kf·A − kr·B), B → ∅ slow at k·B, compartment size V = 2 (SBML Test Suite
    /// cases 01558–01560). The fast flux keeps N = 2·n_A + n_B (14 at the start); at equilibrium
    /// B = 3A, so N = 5·V·A, and dN/dt = −V·k·B = −(3k/5)·N: N(t) = 14·e^{−0.3 t}, A = N/10,
    /// B = 3N/10.
    @Test func aFastReactionWithStoichiometryTwo() throws {
        let xml = sbml(
            """
            \(Self.pair(size: 2))
            <listOfParameters><parameter id="kf" value="3" constant="true"/>\
            <parameter id="kr" value="1" constant="true"/><parameter id="k" value="0.5" constant="true"/>\
            </listOfParameters>
            <listOfReactions>
            \(Self.fastReaction("split", productStoichiometry: 2))
            \(Self.drain)
            </listOfReactions>
            """)
        let course = try SBMLAlgebraicRuleTests.run(xml)
        let a = try #require(course.column(named: "A"))
        let b = try #require(course.column(named: "B"))
        for (k, t) in course.times.enumerated() {
            let total = 14 * exp(-0.3 * t)
            #expect(abs(a[k] - total / 10) < 1e-8, "A at t = \(t): \(a[k])")
            #expect(abs(b[k] - 3 * total / 10) < 1e-8, "B at t = \(t): \(b[k])")
        }
    }

    /// A fast A ⇌ B whose forward constant a rule moves, kf = 1 + t (SBML Test Suite cases 01567,
    /// 01568, 01570): the equilibrium follows it at every instant, A = kr/(kf + kr)·T with T = 4:
    /// A(t) = 4/(2 + t), B = T − A.
    @Test func aFastEquilibriumFollowsARateConstantARuleSets() throws {
        let xml = sbml(
            """
            \(Self.pair(size: 1))
            <listOfParameters><parameter id="kf" constant="false"/><parameter id="kr" value="1" constant="true"/>\
            </listOfParameters>
            <listOfRules><assignmentRule variable="kf">\(Self.math)<apply><plus/><cn> 1 </cn>\(time)</apply>\
            </math></assignmentRule></listOfRules>
            <listOfReactions>
            \(Self.fastReaction("bind"))
            </listOfReactions>
            """)
        let course = try SBMLAlgebraicRuleTests.run(xml)
        let a = try #require(course.column(named: "A"))
        let b = try #require(course.column(named: "B"))
        for (k, t) in course.times.enumerated() {
            #expect(abs(a[k] - 4 / (2 + t)) < 1e-8, "A at t = \(t): \(a[k])")
            #expect(abs(b[k] - (4 - 4 / (2 + t))) < 1e-8, "B at t = \(t): \(b[k])")
        }
    }

    /// A fast A ⇌ B with the flux `law` (MathML), in a compartment of size 1 with A = 3, B = 1.
    static func fastLaw(_ id: String, _ law: String) -> String {
        sbml(
            """
            \(pair(size: 1))
            <listOfReactions>
            <reaction id="\(id)" reversible="true" fast="true">
              <listOfReactants><speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>
              <listOfProducts><speciesReference species="B" stoichiometry="1" constant="true"/></listOfProducts>
              <kineticLaw>\(math)\(law)</math></kineticLaw>
            </reaction>
            </listOfReactions>
            """)
    }

    /// A law quadratic in A on A + B = 4: A² − B = 0 has the roots (−1 ± √17)/2; the flux lowers A
    /// where it is positive, so the equilibrium is the root where it rises, (−1 + √17)/2.
    @Test func aQuadraticFastLawSettlesOnItsStableRoot() throws {
        let xml = Self.fastLaw(
            "square", "<apply><minus/><apply><times/><ci> A </ci><ci> A </ci></apply><ci> B </ci></apply>")
        let course = try SBMLAlgebraicRuleTests.run(xml)
        let a = try #require(course.column(named: "A"))
        let b = try #require(course.column(named: "B"))
        let root = (-1 + 17.0.squareRoot()) / 2
        for k in course.times.indices {
            #expect(abs(a[k] - root) < 1e-12 && abs(b[k] - (4 - root)) < 1e-12, "\(a[k]), \(b[k])")
        }
    }

    /// Mass action k·A·B (SBML Test Suite 01399, 01569): for k > 0 the flux drains A to 0, for
    /// k < 0 it runs backwards and drains B; the other root repels.
    @Test(arguments: [2.0, -2.0]) func aBimolecularFastLawDrainsOneSide(_ k: Double) throws {
        let xml = Self.fastLaw(
            "bind", "<apply><times/><cn> \(k) </cn><ci> A </ci><ci> B </ci></apply>")
        let course = try SBMLAlgebraicRuleTests.run(xml)
        let a = try #require(course.column(named: "A"))
        let b = try #require(course.column(named: "B"))
        for k2 in course.times.indices {
            #expect(abs(a[k2] - (k > 0 ? 0 : 4)) < 1e-12 && abs(b[k2] - (k > 0 ? 4 : 0)) < 1e-12, "\(a[k2]), \(b[k2])")
        }
    }

    /// A fast reaction whose law is neither linear nor quadratic in its species is refused with
    /// the reaction's id.
    @Test func aCubicFastReactionIsRefusedByName() {
        let xml = Self.fastLaw(
            "cube",
            "<apply><minus/><apply><times/><ci> A </ci><ci> A </ci><ci> A </ci></apply><ci> B </ci></apply>")
        let message = SBMLAlgebraicRuleTests.refusal(xml)
        #expect(
            message.hasPrefix(
                "SBML reaction 'cube' is fast=\"true\" and its rate law is neither linear nor quadratic in 'A'"))
    }
}
