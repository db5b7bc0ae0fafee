import Foundation
import ReactionModel
import Simulation
import Testing

@testable import SBML

/// SBML's delay csymbol, imported and run against closed forms, written back out by the export,
/// and refused by name where the history it needs is not kept.
@Suite("SBML delay csymbol")
struct SBMLDelayTests {
    static let delay =
        #"<csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/delay"> delay </csymbol>"#

    /// x' = −x(t − 1), x = 1 before the start: x(3) = 1 − 3 + 2 − 1/6 by the method of steps.
    static let classic = sbml(
        """
        <listOfParameters><parameter id="x" value="1" constant="false"/></listOfParameters>
        <listOfRules><rateRule variable="x"><math xmlns="http://www.w3.org/1998/Math/MathML">
          <apply><minus/><apply>\(delay)<ci> x </ci><cn> 1 </cn></apply></apply>
        </math></rateRule></listOfRules>
        """)

    @Test func theClassicDelayEquationImported() throws {
        let course = try SBMLSwitchTests.run(SBMLDelayTests.classic, tEnd: 3, interval: 1, rtol: 1e-10)
        let x = try #require(course.column(named: "x"))
        #expect(abs(x.last! - (-1.0 / 6)) < 1e-8, "x(3) = \(x.last!)")
        #expect(abs(x[2] - 0.5 * (-1)) < 1e-8, "x(2) = \(x[2])")  // 1 − 2 + 1/2
    }

    /// The export writes the csymbol back; the re-imported model runs the same.
    @Test func theExportWritesTheCsymbol() throws {
        let d = try SBMLReader.definition(fromXML: SBMLDelayTests.classic, file: "dde.xml")
        let xml = SBMLWriter.document(for: d, scenario: nil)
        #expect(xml.contains("http://www.sbml.org/sbml/symbols/delay"))
        let again = try SBMLReader.definition(fromXML: xml, file: "dde-export.xml")
        let course = try SBMLSwitchTests.run(again, tEnd: 3, interval: 1, rtol: 1e-10)
        #expect(abs(try #require(course.column(named: "x")).last! - (-1.0 / 6)) < 1e-8)
    }

    /// Before the start, a species whose initial assignment reads time has that assignment's
    /// value at the past instant (the suite's reading, cases 00938–00943): y = 2 + x(t − 0.5)
    /// with x = sin(10 t) initially and constant afterwards is 2 + sin(10 (t − 0.5)) until
    /// t = 0.5, then 2 + x(0) = 2.
    @Test func aTimeDependentInitialAssignmentIsTheHistory() throws {
        let xml = sbml(
            """
            <listOfParameters>
              <parameter id="x" constant="false"/><parameter id="y" constant="false"/>
            </listOfParameters>
            <listOfInitialAssignments><initialAssignment symbol="x">
              <math xmlns="http://www.w3.org/1998/Math/MathML">
                <apply><sin/><apply><times/><cn> 10 </cn>\(time)</apply></apply>
              </math></initialAssignment></listOfInitialAssignments>
            <listOfRules><assignmentRule variable="y"><math xmlns="http://www.w3.org/1998/Math/MathML">
              <apply><plus/><cn> 2 </cn><apply>\(SBMLDelayTests.delay)<ci> x </ci><cn> 0.5 </cn></apply></apply>
            </math></assignmentRule></listOfRules>
            """)
        let course = try SBMLSwitchTests.run(xml, tEnd: 1, interval: 0.25, rtol: 1e-10)
        let y = try #require(course.column(named: "y"))
        for (k, t) in course.times.enumerated() {
            let exact = t < 0.5 ? 2 + sin(10 * (t - 0.5)) : 2
            #expect(abs(y[k] - exact) < 1e-9, "y(\(t)) = \(y[k]), exact \(exact)")
        }
    }

    /// rateOf read in the past is 0 before the start, where the history is constant (the
    /// suite's cases 01400–01409): P1 = delay(rateOf(S), 1) with S' = −0.1 S from 5.
    @Test func aRateReadBeforeTheStartIsZero() throws {
        let rateOf =
            #"<csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/rateOf"> rateOf </csymbol>"#
        let xml = sbml(
            """
            <listOfCompartments><compartment id="C" size="1" constant="true"/></listOfCompartments>
            <listOfSpecies>
              <species id="S" compartment="C" initialConcentration="5" hasOnlySubstanceUnits="false"
                boundaryCondition="false" constant="false"/>
            </listOfSpecies>
            <listOfParameters><parameter id="P1" constant="false"/></listOfParameters>
            <listOfRules><assignmentRule variable="P1"><math xmlns="http://www.w3.org/1998/Math/MathML">
              <apply>\(SBMLDelayTests.delay)<apply>\(rateOf)<ci> S </ci></apply><cn> 1 </cn></apply>
            </math></assignmentRule></listOfRules>
            <listOfReactions><reaction id="J0" reversible="false">
              <listOfReactants><speciesReference species="S" stoichiometry="1" constant="true"/></listOfReactants>
              <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">
                <apply><times/><cn> 0.1 </cn><ci> S </ci></apply>
              </math></kineticLaw>
            </reaction></listOfReactions>
            """)
        let course = try SBMLSwitchTests.run(xml, tEnd: 3, interval: 1, rtol: 1e-10)
        let p = try #require(course.column(named: "P1"))
        for (k, t) in course.times.enumerated() {
            let exact = t < 1 ? 0 : -0.5 * exp(-0.1 * (t - 1))
            #expect(abs(p[k] - exact) < 1e-8, "P1(\(t)) = \(p[k]), exact \(exact)")
        }
    }

    /// A delay directly inside a delay is refused, with what to do instead.
    @Test func aDelayInsideADelayIsRefused() throws {
        let xml = sbml(
            """
            <listOfParameters><parameter id="x" value="1" constant="false"/></listOfParameters>
            <listOfRules><rateRule variable="x"><math xmlns="http://www.w3.org/1998/Math/MathML">
              <apply>\(SBMLDelayTests.delay)<apply>\(SBMLDelayTests.delay)<ci> x </ci><cn> 1 </cn></apply><cn> 1 </cn></apply>
            </math></rateRule></listOfRules>
            """)
        let error = #expect(throws: SBMLImportError.self) {
            try SBMLReader.definition(fromXML: xml, file: "nested.xml")
        }
        #expect(error?.message.contains("delay inside a delay") == true, "\(error?.message ?? "")")
    }
}
