import Foundation
import ReactionModel
import Simulation
import Testing

@testable import SBML

/// A Level 3 Version 2 document around `body` (the model's lists); shared by the SBML tests.
func sbml(_ body: String) -> String {
    """
    <?xml version="1.0" encoding="UTF-8"?>
    <sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
      <model id="test">
    \(body)
      </model>
    </sbml>
    """
}

let time = #"<csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time"> time </csymbol>"#

// In the XML below, a `\` at the end of a line continues that line: the XML itself has no line
// break there, and the continuation starts at the literal's left margin.

/// A small model with a function definition, a local parameter, an initial assignment, an
/// assignment rule and a timed event: A decays into B at rate 0.3 (per volume) until t = 5, when A is reset to 1.
private let handWritten = sbml(
    """
    <listOfFunctionDefinitions>
      <functionDefinition id="scaled">
        <math xmlns="http://www.w3.org/1998/Math/MathML">
          <lambda><bvar><ci> x </ci></bvar><bvar><ci> k </ci></bvar>
            <apply><times/><ci> k </ci><ci> x </ci></apply></lambda>
        </math>
      </functionDefinition>
    </listOfFunctionDefinitions>
    <listOfCompartments>
      <compartment id="cell" spatialDimensions="3" size="2" constant="true"/>
    </listOfCompartments>
    <listOfSpecies>
      <species id="A" compartment="cell" initialAmount="4" hasOnlySubstanceUnits="false" \
    boundaryCondition="false" constant="false"/>
      <species id="B" compartment="cell" initialConcentration="0" hasOnlySubstanceUnits="false" \
    boundaryCondition="false" constant="false"/>
    </listOfSpecies>
    <listOfParameters>
      <parameter id="q" value="1.5" constant="true"/>
      <parameter id="p" constant="true"/>
      <parameter id="twiceB" constant="false"/>
    </listOfParameters>
    <listOfInitialAssignments>
      <initialAssignment symbol="p">
        <math xmlns="http://www.w3.org/1998/Math/MathML">\
    <apply><times/><cn type="integer"> 2 </cn><ci> q </ci></apply></math>
      </initialAssignment>
    </listOfInitialAssignments>
    <listOfRules>
      <assignmentRule variable="twiceB">
        <math xmlns="http://www.w3.org/1998/Math/MathML">\
    <apply><times/><cn type="e-notation"> 2 <sep/> 0 </cn><ci> B </ci></apply></math>
      </assignmentRule>
    </listOfRules>
    <listOfReactions>
      <reaction id="R1" reversible="false">
        <listOfReactants><speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>
        <listOfProducts><speciesReference species="B" stoichiometry="1" constant="true"/></listOfProducts>
        <kineticLaw>
          <math xmlns="http://www.w3.org/1998/Math/MathML">
            <apply><times/><ci> cell </ci><apply><ci> scaled </ci><ci> A </ci><ci> k </ci></apply></apply>
          </math>
          <listOfLocalParameters><localParameter id="k" value="0.3"/></listOfLocalParameters>
        </kineticLaw>
      </reaction>
    </listOfReactions>
    <listOfEvents>
      <event id="reset" useValuesFromTriggerTime="true">
        <trigger initialValue="false" persistent="true">
          <math xmlns="http://www.w3.org/1998/Math/MathML"><apply><geq/>\(time)<cn> 5 </cn></apply></math>
        </trigger>
        <listOfEventAssignments>
          <eventAssignment variable="A">\
    <math xmlns="http://www.w3.org/1998/Math/MathML"><cn> 1 </cn></math></eventAssignment>
        </listOfEventAssignments>
      </event>
    </listOfEvents>
    """)

@Suite("SBML import")
struct SBMLReaderTests {
    @Test func handWrittenModel() throws {
        let d = try SBMLReader.definition(fromXML: handWritten, file: "test.xml")
        #expect(d.species.map(\.name) == ["A", "B"])
        #expect(d.species[0].initial == 2)  // 4 amount in size 2
        #expect(d.parameters.map(\.name) == ["q", "p", "R1_k"])
        #expect(d.parameters.map(\.value) == [1.5, 3, 0.3])
        #expect(d.observables.map(\.name) == ["twiceB"])
        #expect(d.reactions.count == 1)
        #expect(d.reactions[0].equation == "A -> B")
        #expect(d.events.count == 1)
        #expect(d.events[0].times == [5])
        #expect(d.events[0].assignments.map(\.targetName) == ["A"])

        var settings = RunSettings()
        settings.tEnd = 8
        settings.outputInterval = 1
        settings.rtol = 1e-10
        settings.atol = 1e-14
        let course = try Simulator(d).run(settings: settings)
        let a = course.column(named: "A")!
        let b = course.column(named: "B")!
        let twiceB = course.column(named: "twiceB")!
        for (row, t) in course.times.enumerated() {
            let expectedA = t < 5 ? 2 * exp(-0.3 * t) : exp(-0.3 * (t - 5))
            let expectedB = 2 - 2 * exp(-0.3 * min(t, 5)) + (t >= 5 ? 1 - exp(-0.3 * (t - 5)) : 0)
            #expect(abs(a[row] - expectedA) <= 1e-7 * 2, "A at t = \(t)")
            #expect(abs(b[row] - expectedB) <= 1e-7 * 2, "B at t = \(t)")
            #expect(abs(twiceB[row] - 2 * b[row]) <= 1e-12)
        }
    }

    @Test func importedModelWritesAsLoadableTOML() throws {
        let d = try SBMLReader.definition(fromXML: handWritten, file: "test.xml")
        let toml = TOMLWriter.document(for: d)
        let back = try ModelLoader.load(source: toml, file: "test.toml")
        #expect(back.species == d.species)
        #expect(back.parameters == d.parameters)
        #expect(back.reactions == d.reactions)
        #expect(back.events == d.events)
    }

    /// 0 = S1 − 1 with S1 in no reaction: the rule determines S1, imported as its assignment rule.
    @Test func algebraicRuleLinearInAFreeSpeciesBecomesItsAssignment() throws {
        let xml = sbml(
            """
            <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
            <listOfSpecies><species id="S1" compartment="c" initialConcentration="1" \
            hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/></listOfSpecies>
            <listOfRules>
              <algebraicRule><math xmlns="http://www.w3.org/1998/Math/MathML">\
            <apply><minus/><ci> S1 </ci><cn> 1 </cn></apply></math></algebraicRule>
            </listOfRules>
            """)
        let d = try SBMLReader.definition(fromXML: xml, file: "algebraic.xml")
        #expect(d.species.isEmpty)
        let s1 = try #require(d.observables.first { $0.name == "S1" })
        // −g(0)/(∂g/∂S1) with g = S1 − 1: −((0 − 1)/1) = 1.
        #expect(s1.expression == .negate(.divide(.subtract(.number(0), .number(1)), .number(1))))
    }

    @Test func rateRulesAndStateEventsImport() throws {
        // S1 decays by its rate rule; p counts by its own; an event halves S1 (amount units) when
        // it falls below 0.5 after a delay of 1, with values from the trigger time.
        let xml = sbml(
            """
            <listOfCompartments><compartment id="c" size="2" constant="true"/></listOfCompartments>
            <listOfSpecies><species id="S1" compartment="c" initialAmount="2" \
            hasOnlySubstanceUnits="true" boundaryCondition="false" constant="false"/></listOfSpecies>
            <listOfParameters><parameter id="p" value="-1" constant="false"/>\
            <parameter id="k" value="0.5" constant="true"/></listOfParameters>
            <listOfRules>
              <rateRule variable="S1"><math xmlns="http://www.w3.org/1998/Math/MathML">\
            <apply><times/><apply><minus/><ci> k </ci></apply><ci> S1 </ci></apply></math></rateRule>
              <rateRule variable="p"><math xmlns="http://www.w3.org/1998/Math/MathML"><cn> 1 </cn></math></rateRule>
            </listOfRules>
            <listOfEvents>
              <event id="E" useValuesFromTriggerTime="true">
                <trigger initialValue="true" persistent="false"><math xmlns="http://www.w3.org/1998/Math/MathML">\
            <apply><and/><apply><lt/><ci> S1 </ci><cn> 0.5 </cn></apply>\
            <apply><gt/><ci> p </ci><cn> 0 </cn></apply></apply></math></trigger>
                <delay><math xmlns="http://www.w3.org/1998/Math/MathML"><cn> 1 </cn></math></delay>
                <listOfEventAssignments><eventAssignment variable="S1">\
            <math xmlns="http://www.w3.org/1998/Math/MathML"><apply><divide/><ci> S1 </ci><cn> 2 </cn></apply></math>\
            </eventAssignment></listOfEventAssignments>
              </event>
            </listOfEvents>
            """)
        let d = try SBMLReader.definition(fromXML: xml, file: "rules.xml")
        #expect(d.species.map(\.name) == ["S1", "p"])
        #expect(d.species[0].initial == 1)  // 2 mol in 2 L
        #expect(d.species[0].rateRule != nil)
        #expect(d.species[1].isParameter && d.species[1].initial == -1)
        #expect(d.parameters.map(\.name) == ["k"])
        let trigger = try #require(d.events.first?.trigger)
        #expect(trigger.condition.description == "S1 * c < 0.5 and p > 0")
        #expect(
            trigger.delay == .number(1) && !trigger.persistent && trigger.initialValue
                && trigger.useValuesFromTriggerTime)
        // The written model file reads back to the same definition.
        let back = try ModelLoader.load(source: TOMLWriter.document(for: d), file: "rules.toml")
        #expect(back.species == d.species)
        #expect(back.events == d.events)
    }

    @Test func piecewiseAndLogarithms() throws {
        let xml = sbml(
            """
            <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
            <listOfSpecies><species id="S" compartment="c" initialConcentration="2" \
            hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/></listOfSpecies>
            <listOfParameters><parameter id="y" constant="false"/></listOfParameters>
            <listOfRules>
              <assignmentRule variable="y"><math xmlns="http://www.w3.org/1998/Math/MathML">
                <piecewise>
                  <piece><apply><log/><logbase><cn> 2 </cn></logbase><ci> S </ci></apply>\
            <apply><geq/><ci> S </ci><cn> 1 </cn></apply></piece>
                  <otherwise><apply><root/><degree><cn> 3 </cn></degree><cn> 8 </cn></apply></otherwise>
                </piecewise>
              </math></assignmentRule>
            </listOfRules>
            """)
        let d = try SBMLReader.definition(fromXML: xml, file: "pw.xml")
        let e = d.observables[0].expression
        #expect(abs(evaluate(e, ["S": 2])! - 1) < 1e-15)
        #expect(abs(evaluate(e, ["S": 0.5])! - 2) < 1e-15)
        // The infix form reads back to the same value.
        let text = ExpressionText.text(e)
        #expect(evaluate(try ExpressionParser.parse(text), ["S": 4]) == evaluate(e, ["S": 4]))
    }

    @Test func sobottaRoundTripThroughSBML() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Models/sobotta2017.toml").path
        let original = try ModelLoader.load(path: path)
        var settings = RunSettings()
        settings.tEnd = 1440
        settings.outputInterval = 10
        settings.rtol = 1e-10
        settings.atol = 1e-14
        let scenarios: [String?] = [nil] + original.scenarios.prefix(2).map(\.name)
        for scenario in scenarios {
            let chosen = try Simulator.scenarios(named: scenario, in: original)
            let xml = SBMLWriter.document(for: original, scenarios: chosen)
            let imported = try SBMLReader.definition(fromXML: xml, file: "sobotta.xml")
            #expect(imported.species.map(\.name) == original.species.map(\.name))
            #expect(imported.observables.map(\.name) == original.observables.map(\.name))
            let a = try Simulator(original).run(scenario: scenario, settings: settings)
            let b = try Simulator(imported).run(settings: settings)
            #expect(a.times == b.times)
            var worst = 0.0
            for name in original.species.map(\.name) + original.observables.map(\.name) {
                let x = a.column(named: name)!
                let y = b.column(named: name)!
                let scale = x.map(abs).max() ?? 0
                for (u, v) in zip(x, y) {
                    // Relative to the value; values far below the column's peak are held to that peak's precision.
                    let error = abs(u - v) / max(abs(u), 1e-6 * scale, 1e-300)
                    worst = max(worst, error)
                }
            }
            #expect(worst <= 1e-8, "scenario \(scenario ?? "default"): worst relative difference \(worst)")
        }
    }
}
