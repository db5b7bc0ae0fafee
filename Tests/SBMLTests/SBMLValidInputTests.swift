import Foundation
import ReactionModel
import Simulation
import Testing

@testable import SBML

/// Valid SBML that the import used to refuse (issue 15, item 2): each runs, against a closed form.
@Suite("Valid SBML the import accepts")
struct SBMLValidInputTests {
    /// A membrane-like potential V' = −k(V + 65) from V = −70, with the rate constant's id `t`,
    /// an optional `layout` package, and an event `time ≥ 5 ∧ flag = 0` that sets V = −80 and
    /// flag = 1 (so it fires once). `extra` goes inside the model, `trigger` replaces the trigger.
    static func model(extra: String = "", trigger: String? = nil) -> String {
        let condition =
            trigger
            ?? "<apply><and/><apply><geq/>\(time)<cn> 5 </cn></apply><apply><eq/><ci> flag </ci><cn> 0 </cn></apply></apply>"
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2" \
            xmlns:layout="http://www.sbml.org/sbml/level3/version1/layout/version1" layout:required="false">
              <model id="potential">
                <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
                <listOfSpecies><species id="V" compartment="c" initialConcentration="-70" \
            hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/></listOfSpecies>
                <listOfParameters>
                  <parameter id="t" value="2" constant="true"/>
                  <parameter id="flag" value="0" constant="false"/>
                </listOfParameters>
                <listOfReactions>
                  <reaction id="leak" reversible="true">
                    <listOfReactants><speciesReference species="V" stoichiometry="1" constant="true"/></listOfReactants>
                    <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">
                      <apply><times/><ci> c </ci><ci> t </ci><apply><plus/><ci> V </ci><cn> 65 </cn></apply></apply>
                    </math></kineticLaw>
                  </reaction>
                </listOfReactions>
                <listOfEvents>
                  <event id="reset" useValuesFromTriggerTime="true">
                    <trigger initialValue="false" persistent="true">
                      <math xmlns="http://www.w3.org/1998/Math/MathML">\(condition)</math>
                    </trigger>
                    <listOfEventAssignments>
                      <eventAssignment variable="flag"><math xmlns="http://www.w3.org/1998/Math/MathML"><cn> 1 </cn></math></eventAssignment>
                      <eventAssignment variable="V"><math xmlns="http://www.w3.org/1998/Math/MathML"><cn> -80 </cn></math></eventAssignment>
                    </listOfEventAssignments>
                  </event>
                </listOfEvents>
                \(extra)
              </model>
            </sbml>
            """
    }

    static let layout = """
        <layout:listOfLayouts xmlns:layout="http://www.sbml.org/sbml/level3/version1/layout/version1">
          <layout:layout layout:id="l1"><layout:dimensions layout:width="100" layout:height="100"/></layout:layout>
        </layout:listOfLayouts>
        """

    @Test func negativeValuesAnIdTAnOptionalPackageAndAnEqualityOnAFlag() throws {
        let (d, warnings) = try SBMLReader.imported(
            fromXML: SBMLValidInputTests.model(extra: SBMLValidInputTests.layout), file: "v.xml")
        #expect(warnings.contains { $0.contains("package layout") && $0.contains("ignored") })
        #expect(warnings.contains { $0.contains("'t'") && $0.contains("t_") })
        #expect(d.species[0].mayBeNegative)
        let course = try SBMLSwitchTests.run(d, tEnd: 10, interval: 0.5, rtol: 1e-11)
        let v = try #require(course.column(named: "V"))
        for (time, value) in zip(course.times, v) {
            // −65 − 5e^{−2t} until the event at t = 5, then −65 − 15e^{−2(t − 5)}; once only.
            let exact = time < 5 ? -65 - 5 * exp(-2 * time) : -65 - 15 * exp(-2 * (time - 5))
            #expect(abs(value - exact) < 1e-7, "V(\(time)) = \(value), exact \(exact)")
        }
    }

    /// An equality of a species that reactions change stays refused, naming the event.
    @Test func anEqualityOnAContinuousQuantityStaysRefused() {
        let xml = SBMLValidInputTests.model(trigger: "<apply><eq/><ci> V </ci><cn> -66 </cn></apply>")
        do {
            _ = try SBMLReader.definition(fromXML: xml, file: "v.xml")
            Issue.record("the import did not refuse an equality of V")
        } catch let e as SBMLImportError {
            #expect(e.kind == .unsupported)
            #expect(e.message.contains("event 'reset'") && e.message.contains("<eq>"), "\(e.message)")
        } catch {
            Issue.record("\(error)")
        }
    }

    /// A required package is still refused, by name.
    @Test func aRequiredPackageIsRefusedByName() {
        let xml = SBMLValidInputTests.model().replacingOccurrences(
            of: #"layout:required="false""#, with: #"layout:required="true""#)
        do {
            _ = try SBMLReader.definition(fromXML: xml, file: "v.xml")
            Issue.record("the import did not refuse a required package")
        } catch let e as SBMLImportError {
            #expect(e.kind == .unsupported)
            #expect(e.message.contains("'layout'"), "\(e.message)")
        } catch {
            Issue.record("\(error)")
        }
    }

    /// MathML's readings of numbers as booleans and back (SBML Test Suite cases 01116, 01271,
    /// 01282, 01284, 01531): a number or arithmetic as a piecewise condition is true when nonzero,
    /// a number as a trigger too, `and()` without arguments is true, a piecewise without
    /// otherwise is undefined (NaN) only where no piece applies, and a function definition
    /// without math is ignored until called.
    @Test func numbersAsConditionsAndConditionsAsNumbers() throws {
        let math = #"<math xmlns="http://www.w3.org/1998/Math/MathML">"#
        func initial(_ id: String, _ body: String) -> String {
            "<initialAssignment symbol=\"\(id)\">\(math)\(body)</math></initialAssignment>"
        }
        let xml = sbml(
            """
            <listOfFunctionDefinitions><functionDefinition id="foo"/></listOfFunctionDefinitions>
            <listOfParameters>
              <parameter id="a" constant="true"/><parameter id="b" constant="true"/>
              <parameter id="c" constant="true"/><parameter id="d" constant="true"/>
              <parameter id="fired" value="0" constant="false"/><parameter id="fired_too" value="0" constant="false"/>
            </listOfParameters>
            <listOfInitialAssignments>
              \(initial("a", "<piecewise><piece><cn> 7 </cn><apply><minus/><cn> 3 </cn><cn> 1 </cn></apply></piece><otherwise><cn> 1 </cn></otherwise></piecewise>"))
              \(initial("b", "<piecewise><piece><cn> 7 </cn><apply><power/><cn> 0 </cn><cn> 3 </cn></apply></piece><otherwise><cn> 1 </cn></otherwise></piecewise>"))
              \(initial("c", "<apply><or/><cn> 0 </cn><apply><times/><cn> 2 </cn><cn> 0.5 </cn></apply></apply>"))
              \(initial("d", "<piecewise><piece><cn> 4 </cn><apply><gt/><ci> a </ci><cn> 0 </cn></apply></piece></piecewise>"))
            </listOfInitialAssignments>
            <listOfEvents>
              <event id="E0" useValuesFromTriggerTime="true">
                <trigger initialValue="false" persistent="true">\(math)<cn> 3 </cn></math></trigger>
                <listOfEventAssignments><eventAssignment variable="fired">\(math)<cn> 1 </cn></math>\
            </eventAssignment></listOfEventAssignments>
              </event>
              <event id="E1" useValuesFromTriggerTime="true">
                <trigger initialValue="false" persistent="true">\(math)<apply><and/></apply></math></trigger>
                <listOfEventAssignments><eventAssignment variable="fired_too">\(math)<cn> 1 </cn></math>\
            </eventAssignment></listOfEventAssignments>
              </event>
            </listOfEvents>
            """)
        let d = try SBMLReader.definition(fromXML: xml, file: "booleans.xml")
        func value(_ name: String) -> Double? { d.parameters.first { $0.name == name }?.value }
        #expect(value("a") == 7)
        #expect(value("b") == 1)
        #expect(value("c") == 1)
        #expect(value("d") == 4)
        var settings = RunSettings()
        settings.tEnd = 1
        settings.outputParameters = ["fired", "fired_too"]
        let course = try Simulator(d).run(settings: settings)
        #expect(course.column(named: "fired")?.first == 1)
        #expect(course.column(named: "fired_too")?.first == 1)
        // The function without math, called, is refused by name.
        let call = sbml(
            """
            <listOfFunctionDefinitions><functionDefinition id="foo"/></listOfFunctionDefinitions>
            <listOfParameters><parameter id="p" constant="true"/></listOfParameters>
            <listOfInitialAssignments>\(initial("p", "<apply><ci> foo </ci><cn> 1 </cn></apply>"))</listOfInitialAssignments>
            """)
        let error = #expect(throws: SBMLImportError.self) { try SBMLReader.definition(fromXML: call, file: "call.xml") }
        #expect(error?.message.contains("a functionDefinition without math") == true, "\(error?.message ?? "")")
    }

    /// A species in amounts with a rate rule in a compartment that grows (SBML Test Suite cases
    /// 01207, 01221–01223, 01463): its amount follows the rule, S' = 1 from 1.2 while c' = 1 from
    /// 2, so the amount is 1.2 + t, the concentration (1.2 + t)/(2 + t), and rateOf(S) = 1.
    @Test func anAmountWithARateRuleInAGrowingCompartment() throws {
        let math = #"<math xmlns="http://www.w3.org/1998/Math/MathML">"#
        let rateOf =
            #"<csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/rateOf"> rateOf </csymbol>"#
        let xml = sbml(
            """
            <listOfCompartments><compartment id="c" size="2" constant="false"/></listOfCompartments>
            <listOfSpecies><species id="S" compartment="c" initialAmount="1.2" hasOnlySubstanceUnits="true" \
            boundaryCondition="true" constant="false"/></listOfSpecies>
            <listOfParameters><parameter id="x" constant="false"/></listOfParameters>
            <listOfRules>
              <rateRule variable="S">\(math)<cn> 1 </cn></math></rateRule>
              <rateRule variable="c">\(math)<cn> 1 </cn></math></rateRule>
              <assignmentRule variable="x">\(math)<apply>\(rateOf)<ci> S </ci></apply></math></assignmentRule>
            </listOfRules>
            """)
        let d = try SBMLReader.definition(fromXML: xml, file: "amount.xml")
        var settings = RunSettings()
        settings.tEnd = 3
        settings.outputInterval = 1
        let course = try Simulator(d).run(settings: settings)
        let s = try #require(course.column(named: "S"))
        let x = try #require(course.column(named: "x"))
        for (k, t) in course.times.enumerated() {
            #expect(abs(s[k] - (1.2 + t) / (2 + t)) < 1e-9, "S(\(t)) = \(s[k])")
            #expect(abs(x[k] - 1) < 1e-12, "x(\(t)) = \(x[k])")
        }
    }
}
