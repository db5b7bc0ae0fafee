import Foundation
import ReactionModel
import Testing

@testable import SBML

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Counts elements and collects attributes while parsing; fails the parse on malformed XML.
private final class Collector: NSObject, XMLParserDelegate {
    var counts: [String: Int] = [:]
    var elements: [(name: String, attributes: [String: String])] = []
    var text = ""
    var error: Error?
    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        counts[name, default: 0] += 1
        elements.append((name, attributes))
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) { error = parseError }

    static func parse(_ xml: String) -> Collector? {
        let collector = Collector()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.delegate = collector
        guard parser.parse(), collector.error == nil else { return nil }
        return collector
    }
    func attributes(of name: String, id: String, key: String = "id") -> [String: String]? {
        elements.first { $0.name == name && $0.attributes[key] == id }?.attributes
    }
}

/// The text between `<tag ...id="X"...>` and the next `</tag>`.
private func block(_ xml: String, _ tag: String, id: String, key: String = "id") -> String? {
    guard let start = xml.range(of: "<\(tag) \(key)=\"\(id)\""),
        let end = xml.range(of: "</\(tag)>", range: start.upperBound..<xml.endIndex)
    else { return nil }
    return String(xml[start.lowerBound..<end.upperBound])
}

/// Whitespace-free MathML, for comparing fragments.
private func squeeze(_ s: String) -> String { s.filter { !$0.isWhitespace } }

@Suite("SBML export")
struct SBMLWriterTests {
    static let source = """
        [model]
        name = "Binding <test> & \\"quotes\\" 'too'"
        description = "A < B & C > D"

        [compartments]
        cyt = 2.0
        nuc = 0.5

        [species]
        L = { initial = 0.5, compartment = "cyt" }
        R = { initial = 10, compartment = "cyt" }
        LR = { initial = 0, compartment = "cyt" }
        TF = { initial = 3, compartment = "nuc" }
        Lext = { initial = 1, compartment = "cyt", constant = true }

        [parameters]
        kon = 0.1
        koff = 0.05
        ktx = 2
        K = 5

        [observables]
        frac = "LR / (R + LR)"
        capped = "min(LR, 1) + log10(TF) + sqrt(L) + abs(t - 3)"

        [[reactions]]
        id = "bind"
        equation = "L + 2 R <-> LR"
        forward = "kon"
        reverse = "koff"

        [[reactions]]
        id = "tx"
        equation = "-> TF"
        rate = "ktx * hill(LR, K, 2)"

        [[reactions]]
        id = "import"
        equation = "LR -> TF"
        forward = "0.3"

        [[events]]
        at = [5, 10]
        set = { L = "L + 0.5", kon = 0.2 }

        [[events]]
        at = 10
        set = { R = "L" }

        [[scenarios]]
        name = "high"
        initial = { L = 5 }
        parameters = { koff = 0.01 }
        compartments = { nuc = 0.25 }
        events = [ { at = 7, set = { Lext = 0 } } ]
        """

    func model() throws -> ModelDefinition { try ModelLoader.load(source: Self.source, file: "binding.toml") }

    @Test func isWellFormedWithTheRightElementCounts() throws {
        let xml = SBMLWriter.document(for: try model(), scenario: nil)
        let parsed = try #require(Collector.parse(xml))
        #expect(parsed.counts["sbml"] == 1)
        #expect(parsed.counts["model"] == 1)
        #expect(parsed.counts["compartment"] == 2)
        #expect(parsed.counts["species"] == 5)
        #expect(parsed.counts["parameter"] == 4 + 2)
        #expect(parsed.counts["assignmentRule"] == 2)
        #expect(parsed.counts["reaction"] == 3)
        #expect(parsed.counts["kineticLaw"] == 3)
        // Two distinct times: 5 (first event) and 10 (both events, composed into one).
        #expect(parsed.counts["event"] == 2)
        #expect(parsed.counts["eventAssignment"] == 2 + 3)
        let sbml = try #require(parsed.elements.first { $0.name == "sbml" }?.attributes)
        #expect(sbml["level"] == "3" && sbml["version"] == "2")
        #expect(sbml["xmlns"] == "http://www.sbml.org/sbml/level3/version2/core")
    }

    @Test func escapesXMLSpecialCharacters() throws {
        let xml = SBMLWriter.document(for: try model(), scenario: nil)
        #expect(xml.contains("name=\"Binding &lt;test&gt; &amp; &quot;quotes&quot; &apos;too&apos;\""))
        #expect(xml.contains("A &lt; B &amp; C &gt; D"))
        #expect(xml.contains("name=\"L + 2 R &lt;-&gt; LR\""))
        let parsed = try #require(Collector.parse(xml))
        #expect(parsed.elements.first { $0.name == "model" }?.attributes["name"] == "Binding <test> & \"quotes\" 'too'")
        #expect(SBMLWriter.escape("a<b>&\"'\n") == "a&lt;b&gt;&amp;&quot;&apos;&#10;")
    }

    @Test func mapsCompartmentsSpeciesAndParameters() throws {
        let xml = SBMLWriter.document(for: try model(), scenario: nil)
        let parsed = try #require(Collector.parse(xml))
        let nuc = try #require(parsed.attributes(of: "compartment", id: "nuc"))
        #expect(nuc["size"] == "0.5" && nuc["spatialDimensions"] == "3" && nuc["constant"] == "true")
        let r = try #require(parsed.attributes(of: "species", id: "R"))
        #expect(r["compartment"] == "cyt" && r["initialConcentration"] == "10" && r["hasOnlySubstanceUnits"] == "false")
        #expect(r["boundaryCondition"] == "false" && r["constant"] == "false")
        let lext = try #require(parsed.attributes(of: "species", id: "Lext"))
        #expect(lext["boundaryCondition"] == "true" && lext["constant"] == "false")
        // kon is assigned by an event, so it may not be constant; koff is.
        #expect(parsed.attributes(of: "parameter", id: "kon")?["constant"] == "false")
        #expect(parsed.attributes(of: "parameter", id: "koff")?["constant"] == "true")
        #expect(parsed.attributes(of: "parameter", id: "frac")?["constant"] == "false")
        #expect(parsed.attributes(of: "assignmentRule", id: "frac", key: "variable") != nil)
    }

    @Test func reversibleMassActionKineticLaw() throws {
        let xml = SBMLWriter.document(for: try model(), scenario: nil)
        let reaction = try #require(block(xml, "reaction", id: "bind"))
        #expect(reaction.contains("reversible=\"true\""))
        #expect(reaction.contains("<speciesReference species=\"R\" stoichiometry=\"2\" constant=\"true\"/>"))
        // cyt · (kon · L · R² − koff · LR)
        let expected =
            "<apply><times/><ci>cyt</ci><apply><minus/>"
            + "<apply><times/><ci>kon</ci><ci>L</ci><apply><power/><ci>R</ci><cn>2</cn></apply></apply>"
            + "<apply><times/><ci>koff</ci><ci>LR</ci></apply></apply></apply>"
        #expect(squeeze(reaction).contains(expected))
    }

    @Test func rateLawsAndSynthesisUseTheProductsCompartment() throws {
        let xml = SBMLWriter.document(for: try model(), scenario: nil)
        let tx = squeeze(try #require(block(xml, "reaction", id: "tx")))
        #expect(tx.contains("reversible=\"false\""))
        #expect(tx.contains("<apply><times/><ci>nuc</ci><apply><times/><ci>ktx</ci>"))
        // LR enters the rate law without being a reactant or product: a modifier.
        #expect(tx.contains("<modifierSpeciesReferencespecies=\"LR\"/>"))
        // Transport: the first reactant's compartment, whatever the product's.
        let transport = squeeze(try #require(block(xml, "reaction", id: "import")))
        #expect(transport.contains("<apply><times/><ci>cyt</ci><apply><times/><cn>0.3</cn><ci>LR</ci></apply></apply>"))
    }

    @Test func expressionsBecomeMathML() {
        func m(_ text: String) throws -> String { squeeze(SBMLWriter.mathML(try ExpressionParser.parse(text))) }
        #expect((try? m("log10(x)")) == "<apply><log/><logbase><cn>10</cn></logbase><ci>x</ci></apply>")
        #expect(
            (try? m("a + b + c * d * e"))
                == "<apply><plus/><ci>a</ci><ci>b</ci><apply><times/><ci>c</ci><ci>d</ci><ci>e</ci></apply></apply>")
        #expect((try? m("a + (b + c)")) == "<apply><plus/><ci>a</ci><apply><plus/><ci>b</ci><ci>c</ci></apply></apply>")
        #expect((try? m("ln(x)")) == "<apply><ln/><ci>x</ci></apply>")
        #expect((try? m("sqrt(x)")) == "<apply><root/><ci>x</ci></apply>")
        #expect((try? m("-x^2")) == "<apply><minus/><apply><power/><ci>x</ci><cn>2</cn></apply></apply>")
        #expect(
            (try? m("max(a, b)"))
                == "<piecewise><piece><ci>b</ci><apply><lt/><ci>a</ci><ci>b</ci></apply></piece>"
                + "<otherwise><ci>a</ci></otherwise></piecewise>")
        #expect((try? m("t")).map { $0.contains("definitionURL=\"http://www.sbml.org/sbml/symbols/time\"") } == true)
        #expect((try? m("1e-5 * x")) == "<apply><times/><cn>1e-05</cn><ci>x</ci></apply>")
        #expect(
            squeeze(SBMLWriter.mathML(.function(.sign, .name("x")))).contains(
                "<piece><cn>-1</cn><apply><lt/><ci>x</ci><cn>0</cn></apply></piece>"))
    }

    @Test func eventsAtOneTimeAreComposedInFileOrder() throws {
        let xml = SBMLWriter.document(for: try model(), scenario: nil)
        let parsed = try #require(Collector.parse(xml))
        let events = parsed.elements.filter { $0.name == "event" }
        #expect(events.allSatisfy { $0.attributes["useValuesFromTriggerTime"] == "true" })
        #expect(
            parsed.elements.filter { $0.name == "trigger" }.allSatisfy {
                $0.attributes["initialValue"] == "false" && $0.attributes["persistent"] == "true"
            })
        let second = squeeze(try #require(block(xml, "event", id: "event_2")))
        #expect(
            second.contains(
                "<geq/><csymbolencoding=\"text\"definitionURL=\"http://www.sbml.org/sbml/symbols/time\">"
                    + "time</csymbol><cn>10</cn>"))
        // At t = 10 the second event sets R = L after the first set L = L + 0.5: R = L + 0.5.
        #expect(
            second.contains(
                "<eventAssignmentvariable=\"R\"><mathxmlns=\"http://www.w3.org/1998/Math/MathML\">"
                    + "<apply><plus/><ci>L</ci><cn>0.5</cn></apply></math>"))
    }

    @Test func scenarioOverridesValuesAndAddsEvents() throws {
        let d = try model()
        let high: ModelDefinition.Scenario = try #require(d.scenario(named: "high"))
        let xml = SBMLWriter.document(for: d, scenario: high)
        let parsed = try #require(Collector.parse(xml))
        #expect(parsed.attributes(of: "species", id: "L")?["initialConcentration"] == "5")
        #expect(parsed.attributes(of: "parameter", id: "koff")?["value"] == "0.01")
        #expect(parsed.attributes(of: "compartment", id: "nuc")?["size"] == "0.25")
        #expect(parsed.counts["event"] == 3)
        #expect(parsed.attributes(of: "eventAssignment", id: "Lext", key: "variable") != nil)
    }

    static let stateEventSource = """
        [species]
        A = 0
        Drug = 0
        [parameters]
        last_state_event_time = 3
        [[reactions]]
        equation = "-> A"
        rate = "1 - Drug"
        [[reactions]]
        equation = "Drug ->"
        forward = "1"
        [[events]]
        when = "A > 1"
        set = { Drug = "Drug + 2" }
        [[events]]
        when = "A > 2"
        delay = 1
        set = { Drug = "Drug + last_state_event_time" }
        [simulation]
        t_start = 10
        t_end = 40
        """

    /// A state event without delay: the export adds a parameter that the event sets to the time it
    /// fires and a no-op event 1e-6 × (t_end − t_start) later (COPASI then evaluates the triggers
    /// again), both marked `<stat3sim:exportHelper/>`, with ids that clash with none of the model's.
    @Test func stateEventsWithoutDelayGetTheRecheckHelper() throws {
        let d = try ModelLoader.load(source: Self.stateEventSource, file: "recheck.toml")
        let xml = SBMLWriter.document(for: d, scenario: nil)
        let parsed = try #require(Collector.parse(xml))
        let ids = parsed.elements.compactMap { $0.attributes["id"] }
        #expect(Set(ids).count == ids.count)
        // The model's own parameter keeps its id; the helper's gets the next free one.
        #expect(parsed.attributes(of: "parameter", id: "last_state_event_time")?["value"] == "3")
        let helper = try #require(parsed.attributes(of: "parameter", id: "last_state_event_time_2"))
        #expect(helper["constant"] == "false")
        #expect(Double(helper["value"] ?? "") ?? 0 < 10)
        #expect(parsed.counts["event"] == 3)
        #expect(xml.components(separatedBy: "<stat3sim:exportHelper ").count - 1 == 3)
        let first = squeeze(try #require(block(xml, "event", id: "event_1")))
        #expect(
            first.contains(
                "<eventAssignmentvariable=\"last_state_event_time_2\">"
                    + squeeze(SBMLWriter.exportHelperAnnotation)
                    + "<mathxmlns=\"http://www.w3.org/1998/Math/MathML\"><csymbolencoding=\"text\""
                    + "definitionURL=\"http://www.sbml.org/sbml/symbols/time\">time</csymbol></math>"))
        // The delayed event fires later than it triggers: no helper assignment.
        let second = squeeze(try #require(block(xml, "event", id: "event_2")))
        #expect(!second.contains("last_state_event_time_2"))
        let recheck = squeeze(try #require(block(xml, "event", id: "recheck_after_state_event")))
        #expect(recheck.contains(squeeze(SBMLWriter.exportHelperAnnotation)))
        #expect(SBMLWriter.recheckDelay(tStart: 10, tEnd: 40) == 1e-6 * 30)
        #expect(
            recheck.contains(
                "<apply><geq/><csymbolencoding=\"text\"definitionURL=\"http://www.sbml.org/sbml/symbols/time\">"
                    + "time</csymbol><apply><plus/><ci>last_state_event_time_2</ci>"
                    + "<cn>\(SBMLWriter.number(1e-6 * 30))</cn></apply></apply>"))
        #expect(recheck.contains("<triggerinitialValue=\"true\"persistent=\"true\">"))
    }

    /// Only state events without delay need the helper; timed events and delayed ones get none.
    @Test func noHelperWithoutUndelayedStateEvents() throws {
        let timed = SBMLWriter.document(for: try model(), scenario: nil)
        #expect(!timed.contains("exportHelper") && !timed.contains("recheck_after_state_event"))
        let delayed = try ModelLoader.load(
            source: Self.stateEventSource.replacingOccurrences(
                of: "set = { Drug = \"Drug + 2\" }", with: "delay = 0.5\nset = { Drug = \"Drug + 2\" }"),
            file: "delayed.toml")
        let xml = SBMLWriter.document(for: delayed, scenario: nil)
        #expect(!xml.contains("exportHelper") && !xml.contains("recheck_after_state_event"))
    }

    /// Import drops what carries `<stat3sim:exportHelper/>`: the round trip gives the model exported,
    /// the model's own parameter of the same name included, and the same time course.
    @Test func importDropsTheExportHelpers() throws {
        let d = try ModelLoader.load(source: Self.stateEventSource, file: "recheck.toml")
        let back = try SBMLReader.definition(fromXML: SBMLWriter.document(for: d, scenario: nil), file: "recheck.xml")
        #expect(back.parameters.map(\.name) == d.parameters.map(\.name))
        #expect(back.events.count == d.events.count)
        #expect(
            back.events.map { $0.assignments.map(\.targetName) } == d.events.map { $0.assignments.map(\.targetName) })
        #expect(TOMLWriter.document(for: back).contains("last_state_event_time = 3"))
        #expect(!TOMLWriter.document(for: back).contains("last_state_event_time_2"))
    }

    @Test func reactionIdsNeverClashWithOtherIds() throws {
        let d = try ModelLoader.load(
            source: """
                [species]
                A = 1
                B = 0
                [[reactions]]
                id = "A"
                equation = "A -> B"
                forward = "1"
                """, file: "clash.toml")
        let parsed = try #require(Collector.parse(SBMLWriter.document(for: d, scenario: nil)))
        let ids = parsed.elements.compactMap { $0.attributes["id"] }
        #expect(Set(ids).count == ids.count)
        #expect(parsed.attributes(of: "reaction", id: "A_2") != nil)
    }
}
