import Foundation
import ReactionModel
import Testing

@testable import SBML

// Malformed and hostile SBML, generated here: each input once crashed (stack overflow) or hung
// the import, or is an attack that must keep failing (external entities, entity bombs). The
// import must end quickly, either with a model or with an `SBMLImportError` sentence that names
// the place and the limit, and never with a message that quotes much of the input.

private func document(_ body: String, before: String = "") -> String {
    """
    <?xml version="1.0" encoding="UTF-8"?>
    \(before)<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
      <model id="m">
    \(body)
      </model>
    </sbml>
    """
}

private let mathML = #"<math xmlns="http://www.w3.org/1998/Math/MathML">"#

private let oneSpecies = """
    <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
    <listOfSpecies><species id="A" compartment="c" initialConcentration="1" hasOnlySubstanceUnits="false" \
    boundaryCondition="false" constant="false"/></listOfSpecies>
    """

/// One species A and a reaction `A ->` whose kinetic law is `math`; `functions` (function
/// definitions) in a listOfFunctionDefinitions.
private func model(law math: String, functions: String = "", parameters: String = "") -> String {
    document(
        """
        \(functions.isEmpty ? "" : "<listOfFunctionDefinitions>\(functions)</listOfFunctionDefinitions>")
        \(oneSpecies)
        \(parameters)
        <listOfReactions><reaction id="R" reversible="false">
          <listOfReactants><speciesReference species="A" stoichiometry="1" constant="true"/></listOfReactants>
          <kineticLaw>\(mathML)\(math)</math></kineticLaw>
        </reaction></listOfReactions>
        """)
}

/// One species A and an event E whose trigger is `trigger` (MathML content) and which sets A to
/// the number `value`.
private func event(trigger: String, assigning value: String) -> String {
    document(
        oneSpecies + #"<listOfEvents><event id="E" useValuesFromTriggerTime="true">"#
            + #"<trigger initialValue="true" persistent="true">"#
            + "\(mathML)\(trigger)</math></trigger>"
            + "<listOfEventAssignments><eventAssignment variable=\"A\">\(mathML)<cn>\(value)</cn></math>"
            + "</eventAssignment></listOfEventAssignments></event></listOfEvents>")
}

/// `<ci>A</ci>` inside `n` nested `<apply><minus/>`.
private func minusNested(_ n: Int) -> String {
    String(repeating: "<apply><minus/>", count: n) + "<ci>A</ci>" + String(repeating: "</apply>", count: n)
}

/// What importing `xml` throws, or nil when it imports.
private func importError(_ xml: String, file: String) -> Error? {
    do {
        _ = try SBMLReader.definition(fromXML: xml, file: file)
        return nil
    } catch {
        return error
    }
}

/// The import's error message, or nil when it succeeds.
private func refusal(_ xml: String) -> String? {
    importError(xml, file: "hostile.xml").map { ($0 as? SBMLImportError)?.message ?? "\($0)" }
}

private func rate(_ d: ModelDefinition) -> ReactionModel.Expression? {
    if case .rate(let e) = d.reactions.first?.kinetics { return e }
    return nil
}

private func depth(_ e: ReactionModel.Expression) -> Int {
    switch e {
    case .number, .name: return 1
    case .negate(let a), .function(_, let a): return 1 + depth(a)
    case .add(let a, let b), .subtract(let a, let b), .multiply(let a, let b), .divide(let a, let b),
        .power(let a, let b), .delay(let a, let b):
        return 1 + max(depth(a), depth(b))
    case .select(let a, let b, let c, let d): return 1 + max(depth(a), depth(b), depth(c), depth(d))
    }
}

private func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = Date()
    try body()
    return Date().timeIntervalSince(start)
}

private func function(_ id: String, _ parameters: [String], _ body: String) -> String {
    let bvars = parameters.map { "<bvar><ci>\($0)</ci></bvar>" }.joined()
    return #"<functionDefinition id="\#(id)">\#(mathML)<lambda>\#(bvars)\#(body)</lambda></math></functionDefinition>"#
}

/// f0(x) = x and f1 … fN, each fk(x) = `body(k)`.
private func chain(_ n: Int, _ body: (Int) -> String) -> String {
    var functions = function("f0", ["x"], "<ci>x</ci>")
    for k in 1...n { functions += function("f\(k)", ["x"], body(k)) }
    return functions
}

/// The imported model written as TOML, or the import's error message.
private func written(_ xml: String, file: String) -> String {
    do {
        return TOMLWriter.document(for: try SBMLReader.definition(fromXML: xml, file: file))
    } catch let error as SBMLImportError {
        return error.message
    } catch {
        return "\(error)"
    }
}

@Suite("SBML hostile input")
struct SBMLHostileInputTests {
    // MARK: Nesting

    @Test
    func mathMLNested100000DeepIsRefusedAtTheElementLimit() {
        #expect(
            refusal(model(law: minusNested(100_000)))
                == "SBML element <minus> in reaction R (line 10) is nested more than 1000 elements deep, "
                + "which is not supported; no SBML model needs such depth: write deep math as assignment "
                + "rules of its parts, and check the file's origin.")
    }

    @Test
    func mathNestedPastTheMathLimitIsRefused() {
        #expect(
            refusal(model(law: minusNested(600)))
                == "SBML kineticLaw of reaction 'R' nests its math deeper than 512 levels "
                + "(function definitions inlined), which is not supported; split it with assignment rules "
                + "(parameters for its parts).")
    }

    @Test
    func mathNestedWithinTheLimitsImports() throws {
        // The whole import (the model loader has limits of its own), and the SBML side up to its limit.
        let d = try SBMLReader.definition(fromXML: model(law: minusNested(50)), file: "deep.xml")
        #expect(evaluate(try #require(rate(d)), ["A": 3, "c": 1]) == 3)
        var importer = try Importer(root: try XMLNode.parse(model(law: minusNested(500))), file: "deep.xml")
        #expect(evaluate(try #require(rate(try importer.run())), ["A": 3, "c": 1]) == 3)
    }

    @Test
    func annotationsNested100000DeepAreRefusedAtTheElementLimit() {
        let n = 100_000
        let annotation =
            "<annotation>" + String(repeating: "<a>", count: n) + String(repeating: "</a>", count: n) + "</annotation>"
        #expect(
            refusal(document(annotation + oneSpecies))
                == "SBML element <a> in model m (line 4) is nested more than 1000 elements deep, "
                + "which is not supported; no SBML model needs such depth: write deep math as assignment "
                + "rules of its parts, and check the file's origin.")
    }

    @Test
    func notesNestedDeepAreRefusedAtTheElementLimit() {
        let n = 100_000
        let notes =
            #"<notes><body xmlns="http://www.w3.org/1999/xhtml">"# + String(repeating: "<div>", count: n)
            + "text" + String(repeating: "</div>", count: n) + "</body></notes>"
        #expect(refusal(document(notes + oneSpecies))?.contains("is nested more than 1000 elements deep") == true)
    }

    // MARK: Long argument lists

    @Test
    func aPlusWith100000ArgumentsImportsAsABalancedSum() throws {
        let math = "<apply><plus/>" + String(repeating: "<ci>A</ci>", count: 100_000) + "</apply>"
        let d = try SBMLReader.definition(fromXML: model(law: math), file: "wide.xml")
        let e = rate(d) ?? .number(0)
        #expect(depth(e) < 150)
        #expect(evaluate(e, ["A": 1, "c": 1]) == 100_000)
    }

    @Test
    func aTimesWith100000ArgumentsImports() throws {
        let math = "<apply><times/>" + String(repeating: "<cn>1</cn>", count: 100_000) + "<ci>A</ci></apply>"
        let d = try SBMLReader.definition(fromXML: model(law: math), file: "wide.xml")
        #expect(evaluate(try #require(rate(d)), ["A": 2, "c": 1]) == 2)
    }

    @Test
    func shortArgumentListsKeepTheirLeftToRightAssociation() throws {
        for n in [3, 100, 128] {
            let math = "<apply><plus/>" + (0..<n).map { "<cn>\($0)</cn>" }.joined() + "</apply>"
            // What the SBML side builds (the model loader may regroup sums of its own accord).
            let xml = model(law: "<apply><times/><ci>A</ci>\(math)</apply>")
            var importer = try Importer(root: try XMLNode.parse(xml), file: "short.xml")
            let d = try importer.run()
            var expected = ReactionModel.Expression.number(0)
            for k in 1..<n { expected = .add(expected, .number(Double(k))) }
            #expect(
                rate(d) == ReactionModel.Expression.divide(.multiply(.name("A"), expected), .name("c")),
                "\(n) arguments")
        }
    }

    @Test
    func anAndWith100000ArgumentsIsRefusedByDepth() {
        let and =
            "<apply><and/>" + String(repeating: "<apply><lt/><ci>A</ci><cn>2</cn></apply>", count: 100_000) + "</apply>"
        let piecewise = "<piecewise><piece><ci>A</ci>\(and)</piece><otherwise><cn>0</cn></otherwise></piecewise>"
        #expect(
            refusal(model(law: piecewise))
                == "SBML kineticLaw of reaction 'R' nests its math deeper than 512 levels "
                + "(function definitions inlined), which is not supported; split it with assignment rules "
                + "(parameters for its parts).")
        #expect(
            refusal(event(trigger: and, assigning: "1"))
                == "SBML trigger of event 'E' nests its math deeper than 512 levels (function definitions inlined), "
                + "which is not supported; split it with assignment rules (parameters for its parts).")
    }

    @Test
    func aMinOfManyArgumentsIsRefusedBySize() {
        // min(a, b) reads both twice: each argument doubles the terms of the left-to-right fold.
        let math = "<apply><min/>" + String(repeating: "<ci>A</ci>", count: 100_000) + "</apply>"
        #expect(
            refusal(model(law: math))
                == "SBML kineticLaw of reaction 'R' has more than 1000000 terms once "
                + "function definitions and reaction rates are inlined, which is not supported; give repeated "
                + "parts their own assignment rules (parameters), which are not inlined.")
    }

    // MARK: Function definitions

    @Test
    func aFunctionDefinitionThatCallsItselfIsRefused() {
        let f = function("f", ["x"], "<apply><ci>f</ci><ci>x</ci></apply>")
        #expect(
            refusal(model(law: "<apply><ci>f</ci><ci>A</ci></apply>", functions: f))
                == "SBML functionDefinition 'f' calls itself, which is not supported; SBML forbids recursion: "
                + "write it without the call.")
    }

    @Test
    func twoFunctionDefinitionsThatCallEachOtherAreRefused() {
        let f = function("f", ["x"], "<apply><ci>g</ci><ci>x</ci></apply>")
        let g = function("g", ["x"], "<apply><plus/><cn>1</cn><apply><ci>f</ci><ci>x</ci></apply></apply>")
        #expect(
            refusal(model(law: "<ci>A</ci>", functions: "\(f)\(g)"))
                == "SBML functionDefinition 'f' calls itself through 'g' (a cycle of 2 function definitions), "
                + "which is not supported; SBML forbids recursion: break the cycle.")
    }

    @Test
    func functionDefinitionsThatDoubleAtEachLevelAreRefusedUpFront() {
        let functions = chain(39) { k in
            "<apply><plus/><apply><ci>f\(k - 1)</ci><ci>x</ci></apply>"
                + "<apply><ci>f\(k - 1)</ci><ci>x</ci></apply></apply>"
        }
        var message: String?
        let time = seconds {
            message = refusal(model(law: "<apply><ci>f39</ci><ci>A</ci></apply>", functions: functions))
        }
        #expect(
            message
                == "SBML functionDefinition 'f19' expands to 1048575 terms once "
                + "the function definitions it calls are inlined (the limit is 1000000), "
                + "which is not supported; give repeated parts their own assignment rules (parameters).")
        #expect(time < 5)
    }

    @Test
    func aLongChainOfFunctionDefinitionsIsRefusedByDepth() {
        let functions = chain(2000) { k in "<apply><ci>f\(k - 1)</ci><ci>x</ci></apply>" }
        #expect(
            refusal(model(law: "<apply><ci>f2000</ci><ci>A</ci></apply>", functions: functions))
                == "SBML kineticLaw of reaction 'R' nests its math deeper than 512 levels "
                + "(function definitions inlined), which is not supported; split it with assignment rules "
                + "(parameters for its parts).")
    }

    @Test
    func discardedWorkIsBoundedToo() {
        // A piecewise whose first piece always holds converts, and drops, the rest: the result
        // stays small while the work doubles at each level.
        let functions = chain(30) { k in
            let call = "<apply><ci>f\(k - 1)</ci><ci>x</ci></apply>"
            return "<piecewise><piece>\(call)<true/></piece><otherwise>\(call)</otherwise></piecewise>"
        }
        var message: String?
        let time = seconds {
            message = refusal(model(law: "<apply><ci>f30</ci><ci>A</ci></apply>", functions: functions))
        }
        #expect(message?.contains("(the limit is 1000000)") == true)
        #expect(time < 10)
    }

    // MARK: Many rules

    @Test
    func twentyThousandChainedAssignmentRulesAreSortedInLinearTime() throws {
        // Listed last to first: each rule reads the one after it in the file.
        let n = 20_000
        var parameters = ""
        var rules = ""
        for i in (0..<n).reversed() {
            parameters += #"<parameter id="p\#(i)" constant="false"/>"#
            let math = i == 0 ? "<cn>1</cn>" : "<apply><plus/><ci>p\(i - 1)</ci><cn>1</cn></apply>"
            rules += #"<assignmentRule variable="p\#(i)">\#(mathML)\#(math)</math></assignmentRule>"#
        }
        let xml = document(
            "\(oneSpecies)<listOfParameters>\(parameters)</listOfParameters><listOfRules>\(rules)</listOfRules>")
        var importer = try Importer(root: try XMLNode.parse(xml), file: "rules.xml")
        var d: ModelDefinition?
        let time = try seconds { d = try importer.run() }
        #expect(d?.observables.count == n)
        // Quadratic passes took minutes here (debug build); the linear order takes seconds.
        #expect(time < 20)
    }

    // MARK: Entities and DTDs

    /// Text of this file: a file entity that the parser read would put it into the model.
    private static let marker = "HOSTILE-INPUT-MARKER-6c1f"
    private static let file = URL(fileURLWithPath: #filePath).absoluteString

    private static func entityVariants() -> [(String, String)] {
        let f = file
        let species = oneSpecies
        func with(_ doctype: String, _ body: String) -> String { document(body, before: doctype + "\n") }
        // An external entity x: this test file.
        func withEntity(_ body: String) -> String { with(#"<!DOCTYPE sbml [<!ENTITY x SYSTEM "\#(f)">]>"#, body) }
        return [
            (
                "external file entity in notes",
                withEntity("<notes><body xmlns=\"http://www.w3.org/1999/xhtml\"><p>&x;</p></body></notes>\(species)")
            ),
            (
                "external file entity in a number",
                withEntity(
                    species.replacingOccurrences(of: "initialConcentration=\"1\"", with: "")
                        + "<listOfInitialAssignments><initialAssignment symbol=\"A\">\(mathML)<cn>&x;</cn></math>"
                        + "</initialAssignment></listOfInitialAssignments>")
            ),
            (
                "external file entity in a name",
                withEntity(
                    "<listOfParameters><parameter id=\"k\" value=\"1\" constant=\"true\">"
                        + "<notes><p>&x;</p></notes></parameter></listOfParameters>\(species)")
            ),
            (
                "external entity in an attribute",
                withEntity(species.replacingOccurrences(of: "id=\"A\"", with: "id=\"&x;\""))
            ),
            ("external entity in an annotation", withEntity("<annotation><a>&x;</a></annotation>\(species)")),
            (
                "external entity in a ci",
                withEntity(
                    "\(species)<listOfParameters><parameter id=\"k\" constant=\"false\"/></listOfParameters>"
                        + "<listOfRules><assignmentRule variable=\"k\">\(mathML)<ci>&x;</ci></math></assignmentRule>"
                        + "</listOfRules>")
            ),
            (
                "external entity by relative path",
                with(
                    #"<!DOCTYPE sbml [<!ENTITY x SYSTEM "SBMLHostileInputTests.swift">]>"#,
                    "<notes><p>&x;</p></notes>\(species)")
            ),
            (
                "external entity over http",
                with(
                    #"<!DOCTYPE sbml [<!ENTITY x SYSTEM "http://127.0.0.1:9/x.xml">]>"#,
                    "<notes><p>&x;</p></notes>\(species)")
            ),
            ("external parameter entity", with(#"<!DOCTYPE sbml [<!ENTITY % p SYSTEM "\#(f)"> %p;]>"#, species)),
            (
                "parameter entity declaring a file entity",
                with(
                    #"<!DOCTYPE sbml [<!ENTITY % p "<!ENTITY x SYSTEM '\#(f)'>"> %p;]>"#,
                    "<notes><p>&x;</p></notes>\(species)")
            ),
            (
                "internal entity naming a file entity",
                with(
                    #"<!DOCTYPE sbml [<!ENTITY x SYSTEM "\#(f)"><!ENTITY y "&x;">]>"#,
                    "<notes><p>&y;</p></notes>\(species)")
            ),
            ("external DTD", with(#"<!DOCTYPE sbml SYSTEM "\#(f)">"#, species)),
            ("external DTD by public id", with(#"<!DOCTYPE sbml PUBLIC "-//X//DTD X//EN" "\#(f)">"#, species)),
            (
                "external DTD and internal subset",
                with(
                    #"<!DOCTYPE sbml SYSTEM "\#(f)" [<!ENTITY y "1">]>"#,
                    "<notes><p>&y;</p></notes>\(species)")
            ),
            (
                "unparsed entity",
                with(
                    #"<!DOCTYPE sbml [<!NOTATION n SYSTEM "x"><!ENTITY x SYSTEM "\#(f)" NDATA n>]>"#,
                    "<notes><p>&x;</p></notes>\(species)")
            ),
            (
                "XInclude",
                document(
                    #"<annotation><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="\#(f)" parse="text"/>"#
                        + "</annotation>" + species)
            ),
            ("undeclared entity", document("<notes><p>&x;</p></notes>\(species)")),
            (
                "unparsed entity behind a comment",
                with(
                    #"<!-- <sbml> --><?pi <x?><!DOCTYPE sbml [<!ENTITY x SYSTEM "\#(f)" NDATA n>]>"#,
                    "<notes><p>&x;</p></notes>\(species)")
            ),
        ]
    }

    @Test
    func externalEntitiesAndDTDsAreNeverRead() throws {
        let variants = Self.entityVariants()
        #expect(variants.count == 18)
        for (name, xml) in variants {
            var text = ""
            let time = seconds {
                text = written(xml, file: "entity.xml")
            }
            #expect(!text.contains(Self.marker), "\(name): the file was read")
            if xml.contains("<!DOCTYPE") {
                #expect(
                    text
                        == "the SBML file declares a document type (<!DOCTYPE>), "
                        + "which SBML files do not have and which is not supported (no entity in it is "
                        + "expanded); remove the <!DOCTYPE …> declaration and any entity references.",
                    "\(name)")
            }
            #expect(text.count < 5000, "\(name)")
            #expect(time < 2, "\(name)")
        }
    }

    @Test
    func anEntityBombDoesNotExpand() {
        var entities = #"<!ENTITY lol0 "lollollollollollollollollollol">"#
        for k in 1...9 { entities += "<!ENTITY lol\(k) \"" + String(repeating: "&lol\(k - 1);", count: 10) + "\">" }
        let xml = document("<notes><p>&lol9;</p></notes>\(oneSpecies)", before: "<!DOCTYPE sbml [\(entities)]>\n")
        // Refused before any entity is expanded.
        #expect(
            refusal(xml)
                == "the SBML file declares a document type (<!DOCTYPE>), "
                + "which SBML files do not have and which is not supported (no entity in it is "
                + "expanded); remove the <!DOCTYPE …> declaration and any entity references.")
        var text = ""
        let time = seconds {
            text = written(xml, file: "bomb.xml")
        }
        #expect(text.count < 100_000)
        #expect(time < 5)
    }

    // MARK: Odd numbers

    @Test
    func compartmentSizesThatAreNotPositiveNumbersAreRefusedOrKept() {
        for size in ["NaN", "INF", "-INF", "0", "-1"] {
            let xml = document(oneSpecies.replacingOccurrences(of: "size=\"1\"", with: "size=\"\(size)\""))
            if let message = refusal(xml) {
                #expect(
                    message.hasPrefix("the imported model is not a valid stat3sim model") || message.hasPrefix("SBML"),
                    "size \(size): \(message)")
            }
        }
    }

    @Test
    func anEventAtNaNImportsOrIsRefused() {
        let atNaN =
            "<apply><geq/>"
            + "<csymbol encoding=\"text\" definitionURL=\"http://www.sbml.org/sbml/symbols/time\">t</csymbol>"
            + "<notanumber/></apply>"
        if let message = refusal(event(trigger: atNaN, assigning: "2")) {
            #expect(
                message.hasPrefix("the imported model is not a valid stat3sim model") || message.hasPrefix("SBML"),
                "\(message)")
        }
    }

    // MARK: Messages

    @Test
    func messagesQuoteOnlyAShortEscapedExcerpt() throws {
        let huge = String(repeating: "x", count: 100_000)
        let xml = document(
            "<listOfCompartments><compartment id=\"c\" size=\"1\" constant=\"true\"/></listOfCompartments>"
                + "<listOfSpecies><species id=\"\(huge)\" compartment=\"nowhere\(huge)\" initialConcentration=\"1\"/>"
                + "</listOfSpecies>")
        let message = try #require(refusal(xml))
        #expect(
            message
                == "SBML species '\(String(repeating: "x", count: 40))…' is in compartment "
                + "'nowhere\(String(repeating: "x", count: 33))…', which is not declared; declare it in "
                + "listOfCompartments or correct the species' compartment.")
        let tabbed = document(
            oneSpecies
                + "<listOfReactions><reaction id=\"R\">"
                + "<listOfReactants><speciesReference species=\"B&#10;&#9;C\"/></listOfReactants>"
                + "<kineticLaw>\(mathML)<cn>1</cn></math></kineticLaw></reaction></listOfReactions>")
        #expect(
            refusal(tabbed)
                == "SBML reaction 'R' names species 'B\\n\\tC', which is not declared; declare it in listOfSpecies "
                + "or correct the speciesReference.")
        let number = model(law: "<cn>" + String(repeating: "9", count: 10_000) + "x</cn>")
        #expect(try #require(refusal(number)).count < 200)
        #expect(excerpt("plain_id") == "plain_id")
    }
}

@Suite("SBML import errors")
struct SBMLImportErrorKindTests {
    @Test
    func refusalsLimitsAndInvalidFilesAreToldApartByKind() throws {
        func kind(_ xml: String) -> SBMLImportError.Kind? {
            (importError(xml, file: "kind.xml") as? SBMLImportError)?.kind
        }
        let algebraic = document(
            oneSpecies
                + "<listOfRules><algebraicRule>\(mathML)<apply><times/><ci>A</ci><ci>A</ci></apply></math>"
                + "</algebraicRule></listOfRules>")
        #expect(kind(algebraic) == .unsupported)
        let delay = "<csymbol definitionURL=\"http://www.sbml.org/sbml/symbols/delay\">d</csymbol>"
        #expect(
            kind(model(law: "<apply>\(delay)<apply>\(delay)<ci>A</ci><cn>1</cn></apply><cn>1</cn></apply>"))
                == .unsupported)
        #expect(
            kind(document("<listOfSpecies><species id=\"A\" compartment=\"nowhere\"/></listOfSpecies>")) == .invalid)
        #expect(kind("<sbml") == .invalid)
        let deep =
            String(repeating: "<apply><minus/>", count: 600) + "<ci>A</ci>" + String(repeating: "</apply>", count: 600)
        #expect(kind(model(law: deep)) == .limit)
        // The message names the rule and what to write instead.
        let message = try #require(refusal(algebraic))
        #expect(message.hasPrefix("SBML algebraicRule 1 (0 = A*A) is not supported: it is nonlinear in 'A'"))
    }
}
