import Foundation
import ReactionModel
import Testing

@testable import SBML

/// What the import still refuses is refused with a sentence that names the SBML element, its id,
/// and what to write instead (issue 15, item 6): one model of a few lines for each class of
/// refusal.
@Suite("SBML refusals name the element, its id and what to do instead")
struct SBMLRefusalMessageTests {
    static let math = #"<math xmlns="http://www.w3.org/1998/Math/MathML">"#
    static let time = #"<csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time">t</csymbol>"#

    /// A Level 3 Version 2 model with one compartment `c` and species `x` and `y`; `body` follows
    /// the species, `attributes` go on `<sbml>`.
    static func document(_ body: String, attributes: String = "") -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2"\(attributes)>
          <model id="m">
            <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
            <listOfSpecies>
              <species id="x" compartment="c" initialConcentration="1" hasOnlySubstanceUnits="false" \
        boundaryCondition="false" constant="false"/>
              <species id="y" compartment="c" initialConcentration="0" hasOnlySubstanceUnits="false" \
        boundaryCondition="false" constant="false"/>
            </listOfSpecies>
            \(body)
          </model>
        </sbml>
        """
    }

    /// A reaction `id`: x → y with kinetic law `law` (MathML content).
    static func reaction(_ id: String, law: String, attributes: String = "") -> String {
        """
        <listOfReactions>
          <reaction id="\(id)" reversible="false"\(attributes)>
            <listOfReactants><speciesReference species="x" stoichiometry="1" constant="true"/></listOfReactants>
            <listOfProducts><speciesReference species="y" stoichiometry="1" constant="true"/></listOfProducts>
            <kineticLaw>\(math)\(law)</math></kineticLaw>
          </reaction>
        </listOfReactions>
        """
    }

    /// The refusal of `xml`: it must be an `unsupported` SBMLImportError; its message.
    static func refusal(_ xml: String, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        do {
            _ = try SBMLReader.definition(fromXML: xml, file: "refused.xml")
            Issue.record("the import did not refuse the model", sourceLocation: sourceLocation)
        } catch let e as SBMLImportError {
            #expect(e.kind == .unsupported, "\(e.message)", sourceLocation: sourceLocation)
            return e.message
        } catch {
            Issue.record("\(error)", sourceLocation: sourceLocation)
        }
        return ""
    }

    /// Each phrase occurs in the message (the element and its id, the advice).
    static func expect(
        _ message: String, _ phrases: String..., sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for p in phrases {
            #expect(message.contains(p), "missing \"\(p)\" in: \(message)", sourceLocation: sourceLocation)
        }
    }

    /// Algebraic rules linear in the variable they determine are solved; a nonlinear one
    /// (0 = x² + y² − 1) is refused by its position, its id and its math.
    @Test func algebraicRule() {
        let rule = """
            <listOfRules>
              <algebraicRule id="conservation">\(Self.math)<apply><minus/><apply><plus/><apply><times/><ci> x </ci>\
            <ci> x </ci></apply><apply><times/><ci> y </ci><ci> y </ci></apply></apply><cn> 1 </cn></apply></math>\
            </algebraicRule>
            </listOfRules>
            """
        let message = Self.refusal(Self.document(rule))
        Self.expect(
            message, "SBML algebraicRule 1 'conservation' (0 = ", "nonlinear in 'x', 'y'",
            "write this one as an assignmentRule (or rateRule) of that variable")
        // Without an id the rule is named by its position and its math.
        let anonymous = Self.refusal(Self.document(rule.replacingOccurrences(of: #" id="conservation""#, with: "")))
        Self.expect(anonymous, "SBML algebraicRule 1 (0 = ", "nonlinear in 'x', 'y'")
    }

    /// Fast reactions A <-> B with a law linear or quadratic in A are reduced to their equilibrium;
    /// one of higher degree in its species (x³) is refused by id, with the reason and the advice.
    @Test func fastReaction() {
        let message = Self.refusal(
            Self.document(
                Self.reaction(
                    "r3", law: "<apply><times/><ci> x </ci><ci> x </ci><ci> x </ci></apply>",
                    attributes: #" fast="true""#)))
        Self.expect(
            message, "reaction 'r3' is fast=\"true\"", "neither linear nor quadratic in 'x'",
            "rewrite the fast reaction as a slow one with large rate constants, or as an assignment rule of its "
                + "equilibrium")
    }

    /// Delay equations run (SBMLDelayTests); a past value of a past value does not.
    @Test func delayInsideADelay() {
        let delay = #"<csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/delay">delay</csymbol>"#
        let message = Self.refusal(
            Self.document(
                Self.reaction(
                    "r1", law: "<apply>\(delay)<apply>\(delay)<ci> x </ci><cn> 1 </cn></apply><cn> 2 </cn></apply>")))
        Self.expect(
            message, "SBML kineticLaw of reaction 'r1' uses the MathML csymbol delay inside a delay",
            "introduce the inner delayed value as a species that follows it")
        // Through an assignment rule: the past value of a rule that has a delay itself.
        let rule = """
            <listOfParameters><parameter id="lagged" constant="false"/></listOfParameters>
            <listOfRules><assignmentRule variable="lagged">\(Self.math)<apply>\(delay)<ci> x </ci><cn> 2 </cn>\
            </apply></math></assignmentRule></listOfRules>
            """
        Self.expect(
            Self.refusal(
                Self.document(rule + Self.reaction("r2", law: "<apply>\(delay)<ci> lagged </ci><cn> 1 </cn></apply>"))),
            "csymbol delay", "reads the past value of an assignment rule that itself has a delay", "add the lags")
    }

    @Test func requiredPackage() {
        let comp = #" xmlns:comp="http://www.sbml.org/sbml/level3/version1/comp/version1" comp:required="true""#
        let message = Self.refusal(Self.document("", attributes: comp))
        Self.expect(
            message, "SBML package 'comp' (required=\"true\" on the <sbml> element)",
            "convert the model to SBML core first", "flatten")
    }

    @Test func equalityOnAContinuousQuantity() {
        let events = """
            \(Self.reaction("decay", law: "<ci> x </ci>"))
            <listOfEvents>
              <event id="at_half" useValuesFromTriggerTime="true">
                <trigger initialValue="false" persistent="true">\(Self.math)<apply><eq/><ci> x </ci><cn> 0.5 </cn>\
            </apply></math></trigger>
                <listOfEventAssignments><eventAssignment variable="y">\(Self.math)<cn> 0 </cn></math>\
            </eventAssignment></listOfEventAssignments>
              </event>
            </listOfEvents>
            """
        let message = Self.refusal(Self.document(events))
        Self.expect(
            message, "SBML trigger of event 'at_half' uses the MathML <eq>", "write a crossing (<geq/>, <leq/>) instead"
        )
    }

    @Test func unknownMathML() {
        let message = Self.refusal(
            Self.document(Self.reaction("r2", law: "<apply><diff/><ci> x </ci></apply>")))
        Self.expect(
            message, "SBML kineticLaw of reaction 'r2' uses the MathML <diff>",
            "write it with the MathML of SBML core that the import reads")
        // An unknown operator in a trigger names the event, and says how triggers are written.
        let trigger = """
            \(Self.reaction("decay", law: "<ci> x </ci>"))
            <listOfEvents>
              <event id="late" useValuesFromTriggerTime="true">
                <trigger initialValue="false" persistent="true">\(Self.math)<apply><plus/>\(Self.time)<cn> 1 </cn>\
            </apply></math></trigger>
                <listOfEventAssignments><eventAssignment variable="y">\(Self.math)<cn> 0 </cn></math>\
            </eventAssignment></listOfEventAssignments>
              </event>
            </listOfEvents>
            """
        Self.expect(
            Self.refusal(Self.document(trigger)), "SBML trigger of event 'late' uses the MathML <plus> as a trigger",
            "write it as relations of two values")
    }

    /// Other refusals: assignments to what cannot be set, and events at one time that read each
    /// other's targets.
    @Test func assignmentsAndSimultaneousEvents() {
        let reactionTarget = """
            \(Self.reaction("r4", law: "<ci> x </ci>"))
            <listOfInitialAssignments><initialAssignment symbol="r4">\(Self.math)<cn> 1 </cn></math>\
            </initialAssignment></listOfInitialAssignments>
            """
        Self.expect(
            Self.refusal(Self.document(reactionTarget)), "SBML initialAssignment to reaction 'r4'",
            "may set a species, a parameter, a compartment or a speciesReference")
        func event(_ id: String, _ variable: String, _ value: String) -> String {
            """
            <event id="\(id)" useValuesFromTriggerTime="true">
              <trigger initialValue="false" persistent="true">\(Self.math)<apply><geq/>\(Self.time)<cn> 5 </cn>\
            </apply></math></trigger>
              <listOfEventAssignments><eventAssignment variable="\(variable)">\(Self.math)\(value)</math>\
            </eventAssignment></listOfEventAssignments>
            </event>
            """
        }
        let simultaneous =
            Self.reaction("decay", law: "<ci> x </ci>") + "<listOfEvents>"
            + event("first", "x", "<cn> 2 </cn>") + event("second", "y", "<ci> x </ci>") + "</listOfEvents>"
        Self.expect(
            Self.refusal(Self.document(simultaneous)), "SBML events 'first' and 'second' at the same time t = 5",
            "('x')", "merge them into one event")
    }
}
