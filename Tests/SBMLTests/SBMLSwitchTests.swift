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
}
