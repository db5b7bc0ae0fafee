import Foundation
import ReactionModel
import Simulation
import Testing

@testable import SBML

/// Default tolerances of imported files (issue 15, item 4): each species' absolute tolerance is
/// scaled to its size, so that a file in molar units is solved as accurately as one in µM.
@Suite("Default tolerances of imported SBML")
struct SBMLDefaultToleranceTests {
    /// A → B → ∅ at 2 pM (k1 = 1, k2 = 0.2) beside a substrate S at 1 mM that nothing touches:
    /// A(t) = A₀e^{−t}, B(t) = A₀ k1/(k1 − k2) (e^{−k2 t} − e^{−k1 t}). `annotation` goes inside
    /// the model, `smallA` sets a round-off-sized species R beside them.
    static func molar(annotation: String = "", roundOff: Bool = false) -> String {
        func species(_ id: String, _ c: String) -> String {
            """
            <species id="\(id)" compartment="c" initialConcentration="\(c)" hasOnlySubstanceUnits="false" \
            boundaryCondition="false" constant="false"/>
            """
        }
        func law(_ k: String, _ x: String) -> String {
            """
            <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">\
            <apply><times/><ci> c </ci><ci> \(k) </ci><ci> \(x) </ci></apply></math></kineticLaw>
            """
        }
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
              <model id="molar">
                \(annotation)
                <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
                <listOfSpecies>
                  \(species("A", "2e-12"))
                  \(species("B", "0"))
                  \(species("S", "1e-3"))
                  \(roundOff ? species("R", "1e-27") : "")
                </listOfSpecies>
                <listOfParameters>
                  <parameter id="k1" value="1" constant="true"/>
                  <parameter id="k2" value="0.2" constant="true"/>
                </listOfParameters>
                <listOfReactions>
                  <reaction id="r1" reversible="false">
                    <listOfReactants><speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>
                    <listOfProducts><speciesReference species="B" stoichiometry="1" constant="true"/></listOfProducts>
                    \(law("k1", "A"))
                  </reaction>
                  <reaction id="r2" reversible="false">
                    <listOfReactants><speciesReference species="B" stoichiometry="1" constant="true"/></listOfReactants>
                    \(law("k2", "B"))
                  </reaction>
                </listOfReactions>
              </model>
            </sbml>
            """
    }

    /// The largest error of A and B against the closed form over 0…50, relative to each one's peak.
    static func error(of d: ModelDefinition, atol: Double? = nil) throws -> Double {
        var settings = RunSettings()
        settings.tEnd = 50
        settings.outputInterval = 0.25
        settings.atol = atol
        let course = try Simulator(d).run(settings: settings)
        let a = try #require(course.column(named: "A"))
        let b = try #require(course.column(named: "B"))
        let a0 = 2e-12
        let exactA = course.times.map { a0 * exp(-$0) }
        let exactB = course.times.map { a0 * 1 / (1 - 0.2) * (exp(-0.2 * $0) - exp(-$0)) }
        func worst(_ x: [Double], _ exact: [Double]) -> Double {
            let peak = exact.map(abs).max()!
            return zip(x, exact).map { abs($0 - $1) / peak }.max()!
        }
        return max(worst(a, exactA), worst(b, exactB))
    }

    @Test func eachSpeciesGetsATolerancePerItsSize() throws {
        let d = try SBMLReader.definition(fromXML: SBMLDefaultToleranceTests.molar(), file: "molar.xml")
        let rtol = d.simulation.rtol
        let tolerances = try #require(d.absoluteTolerancesByState)
        // A and S by their initial values, B (starting at zero) by the smallest of them; to two
        // significant digits.
        let expected = [2e-12, 2e-12, 1e-3].map { ModelDefinition.absoluteToleranceFraction * rtol * $0 }
        for (x, e) in zip(tolerances, expected) { #expect(abs(x - e) <= 0.05 * e) }
    }

    /// The defaults solve the picomolar chain to 1e-4 of its peaks; the one absolute tolerance the
    /// import used to give (1e-9, far above 2 pM) is off by more than 10 %.
    @Test func aPicomolarChainIsSolvedAtTheDefaults() throws {
        let d = try SBMLReader.definition(fromXML: SBMLDefaultToleranceTests.molar(), file: "molar.xml")
        #expect(try SBMLDefaultToleranceTests.error(of: d) < 1e-4)
        #expect(try SBMLDefaultToleranceTests.error(of: d, atol: 1e-9) > 0.1)
    }

    /// A round-off initial value (1e-27 beside 1e-3) is a zero, not a size: it would make every
    /// species that starts at zero ask for a tolerance of 1e-36.
    @Test func roundOffInitialValuesAreNotSizes() throws {
        let d = try SBMLReader.definition(
            fromXML: SBMLDefaultToleranceTests.molar(roundOff: true), file: "molar.xml")
        let tolerances = try #require(d.absoluteTolerancesByState)
        let smallest = ModelDefinition.absoluteToleranceFraction * d.simulation.rtol * 2e-12
        #expect(abs(tolerances[1] - smallest) <= 0.05 * smallest)
        #expect(abs(tolerances[3] - smallest) <= 0.05 * smallest)
    }

    /// A file with stat3sim's annotation keeps its own tolerance, one for all.
    @Test func anAnnotatedToleranceIsKept() throws {
        let annotation = """
            <annotation><stat3sim:simulation xmlns:stat3sim="\(SBMLWriter.annotationNamespace)" \
            tStart="0" tEnd="50" rtol="1e-8" atol="1e-20"/></annotation>
            """
        let d = try SBMLReader.definition(
            fromXML: SBMLDefaultToleranceTests.molar(annotation: annotation), file: "molar.xml")
        #expect(d.absoluteTolerancesByState == nil)
        #expect(d.simulation.atol == 1e-20)
        #expect(try SBMLDefaultToleranceTests.error(of: d) < 1e-5)
    }

    /// The species' tolerances survive `stat3sim import` (TOML `atol = …`) and `export`
    /// (stat3sim's annotation) unchanged.
    @Test func speciesTolerancesSurviveTOMLAndSBML() throws {
        let d = try SBMLReader.definition(fromXML: SBMLDefaultToleranceTests.molar(), file: "molar.xml")
        let toml = TOMLWriter.document(for: d)
        #expect(toml.contains("atol = 2e-21"))
        let fromTOML = try ModelLoader.load(source: toml, file: "molar.toml")
        #expect(fromTOML.absoluteTolerancesByState == d.absoluteTolerancesByState)
        let xml = SBMLWriter.document(for: fromTOML, scenarios: [])
        let back = try SBMLReader.definition(fromXML: xml, file: "back.xml")
        #expect(back.absoluteTolerancesByState == d.absoluteTolerancesByState)
    }

    /// `atol` in a TOML species entry must be a positive number.
    @Test func aSpeciesToleranceMustBePositive() throws {
        let source = """
            [species]
            A = { initial = 1.0, atol = 0.0 }

            [reactions]
            decay = { equation = "A -> ", rate = "k * A" }

            [parameters]
            k = 1.0
            """
        #expect {
            try ModelLoader.load(source: source, file: "m.toml")
        } throws: { error in
            "\(error)" == "m.toml:2: the absolute tolerance of species 'A' must be a finite number > 0, not 0."
        }
    }
}
