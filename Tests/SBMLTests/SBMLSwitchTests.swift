import Foundation
import ReactionModel
import Simulation
import Testing

@testable import SBML

/// SBML's piecewise in rules and kinetic laws, imported and run: each condition is a switch the
/// solver stops at (docs/sbml-import.md), checked against closed forms.
@Suite("SBML piecewise switches against closed forms")
struct SBMLSwitchTests {
    /// Runs `d` to `tEnd` with outputs every `interval` at rtol = atol = `rtol`.
    static func run(_ d: ModelDefinition, tEnd: Double, interval: Double, rtol: Double) throws -> TimeCourse {
        var settings = RunSettings()
        settings.tEnd = tEnd
        settings.outputInterval = interval
        settings.rtol = rtol
        settings.atol = rtol
        return try Simulator(d).run(settings: settings)
    }

    static func run(_ xml: String, tEnd: Double, interval: Double, rtol: Double) throws -> TimeCourse {
        try run(SBMLReader.definition(fromXML: xml, file: "switch.xml"), tEnd: tEnd, interval: interval, rtol: rtol)
    }

    /// The issue's pulse, `dx/dt = piecewise(1, 21 ≤ t ≤ 21.125, 0)` with an n-ary `<leq/>`, over
    /// 100 time units: x(100) = 0.125 whatever the output interval and tolerance.
    @Test(arguments: [(100.0, 1e-3), (1.0, 1e-6), (10.0, 1e-10)])
    func thePulseOfTheIssue(interval: Double, rtol: Double) throws {
        let xml = sbml(
            """
            <listOfParameters><parameter id="x" value="0" constant="false"/></listOfParameters>
            <listOfRules><rateRule variable="x"><math xmlns="http://www.w3.org/1998/Math/MathML">
              <piecewise>
                <piece><cn> 1 </cn><apply><leq/><cn> 21 </cn>\(time)<cn> 21.125 </cn></apply></piece>
                <otherwise><cn> 0 </cn></otherwise>
              </piecewise>
            </math></rateRule></listOfRules>
            """)
        let course = try SBMLSwitchTests.run(xml, tEnd: 100, interval: interval, rtol: rtol)
        let x = try #require(course.column(named: "x")?.last)
        #expect(abs(x - 0.125) < 1e-12)
    }

    /// A dose in a kinetic law, `piecewise(2, t ≥ 10 ∧ t < 10.5, 0)` into S, cleared at rate 1:
    /// S(10.5) = 2(1 − e^{−0.5}), then S(t) = S(10.5) e^{−(t − 10.5)}.
    @Test func aDoseInAKineticLaw() throws {
        let xml = sbml(
            """
            <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
            <listOfSpecies><species id="S" compartment="c" initialConcentration="0" \
            hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/></listOfSpecies>
            <listOfReactions>
              <reaction id="dose" reversible="false">
                <listOfProducts><speciesReference species="S" stoichiometry="1" constant="true"/></listOfProducts>
                <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><ci> c </ci>
                  <piecewise>
                    <piece><cn> 2 </cn><apply><and/><apply><geq/>\(time)<cn> 10 </cn></apply>\
            <apply><lt/>\(time)<cn> 10.5 </cn></apply></apply></piece>
                    <otherwise><cn> 0 </cn></otherwise>
                  </piecewise></apply>
                </math></kineticLaw>
              </reaction>
              <reaction id="clearance" reversible="false">
                <listOfReactants><speciesReference species="S" stoichiometry="1" constant="true"/></listOfReactants>
                <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">
                  <apply><times/><ci> c </ci><ci> S </ci></apply>
                </math></kineticLaw>
              </reaction>
            </listOfReactions>
            """)
        let course = try SBMLSwitchTests.run(xml, tEnd: 20, interval: 5, rtol: 1e-10)
        let s = try #require(course.column(named: "S"))
        let peak = 2 * (1 - exp(-0.5))
        for (t, value) in zip(course.times, s) {
            let exact = t <= 10 ? 0 : peak * exp(-(t - 10.5))
            #expect(abs(value - exact) < 1e-8, "S(\(t)) = \(value), exact \(exact)")
        }
    }

    /// Conditions that are themselves chosen by piecewise, or are a number (a flag), as the
    /// SBML Test Suite writes them: x' = 1 while `piecewise(t > 1 if t < 2, else t > 3)` holds,
    /// so x(5) = 1 + 2 = 3; y' = 1 while the flag is nonzero, and an event clears it at t = 2,
    /// so y(5) = 2.
    @Test func piecewiseAndFlagsAsConditions() throws {
        let xml = sbml(
            """
            <listOfParameters>
              <parameter id="x" value="0" constant="false"/><parameter id="y" value="0" constant="false"/>
              <parameter id="flag" value="1" constant="false"/>
            </listOfParameters>
            <listOfRules>
              <rateRule variable="x"><math xmlns="http://www.w3.org/1998/Math/MathML">
                <piecewise><piece><cn> 1 </cn>
                  <piecewise>
                    <piece><apply><gt/>\(time)<cn> 1 </cn></apply><apply><lt/>\(time)<cn> 2 </cn></apply></piece>
                    <otherwise><apply><gt/>\(time)<cn> 3 </cn></apply></otherwise>
                  </piecewise></piece>
                <otherwise><cn> 0 </cn></otherwise></piecewise>
              </math></rateRule>
              <rateRule variable="y"><math xmlns="http://www.w3.org/1998/Math/MathML">
                <piecewise><piece><cn> 1 </cn><ci> flag </ci></piece><otherwise><cn> 0 </cn></otherwise></piecewise>
              </math></rateRule>
            </listOfRules>
            <listOfEvents><event id="clear" useValuesFromTriggerTime="true">
              <trigger initialValue="false" persistent="true"><math xmlns="http://www.w3.org/1998/Math/MathML">
                <apply><geq/>\(time)<cn> 2 </cn></apply></math></trigger>
              <listOfEventAssignments><eventAssignment variable="flag">
                <math xmlns="http://www.w3.org/1998/Math/MathML"><cn> 0 </cn></math>
              </eventAssignment></listOfEventAssignments>
            </event></listOfEvents>
            """)
        let course = try SBMLSwitchTests.run(xml, tEnd: 5, interval: 0.5, rtol: 1e-10)
        let x = try #require(course.column(named: "x"))
        let y = try #require(course.column(named: "y"))
        for (k, t) in course.times.enumerated() {
            let exactX = min(max(t - 1, 0), 1) + max(t - 3, 0)
            #expect(abs(x[k] - exactX) < 1e-8, "x(\(t)) = \(x[k]), exact \(exactX)")
            #expect(abs(y[k] - min(t, 2)) < 1e-8, "y(\(t)) = \(y[k]), exact \(min(t, 2))")
        }
    }
}
