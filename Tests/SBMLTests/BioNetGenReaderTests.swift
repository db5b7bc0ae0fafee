import Foundation
import ReactionModel
import Simulation
import Testing

@testable import SBML

/// Models/bionetgen (BioNetGen's networks and its own SBML of them; see the README there).
private let networks = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Models/bionetgen")

private func network(_ name: String) -> String { networks.appendingPathComponent(name).path }

/// The state at `tEnd` (rtol 1e-8), by column name: species and observables.
private func endState(_ d: ModelDefinition, tEnd: Double) throws -> [String: Double] {
    var settings = RunSettings()
    settings.tEnd = tEnd
    settings.outputInterval = tEnd
    settings.rtol = 1e-8
    settings.atol = 1e-10
    let course = try Simulator(d).run(settings: settings)
    var state: [String: Double] = [:]
    for (j, name) in course.columns.enumerated() { state[name] = course.value(row: course.times.count - 1, column: j) }
    return state
}

/// Every column of `a` agrees with `b` to `relative` of itself, or of the largest value when tiny.
private func expectSameEndState(_ a: [String: Double], _ b: [String: Double], relative: Double) {
    #expect(Set(a.keys) == Set(b.keys))
    let scale = b.values.map(abs).max() ?? 0
    for (name, x) in a.sorted(by: { $0.key < $1.key }) {
        guard let y = b[name] else { continue }
        #expect(abs(x - y) <= relative * max(abs(y), 1e-6 * scale), "\(name): .net \(x), SBML \(y)")
    }
}

@Suite struct BioNetGenReaderTests {
    @Test func multistateReadsAsBioNetGenWroteIt() throws {
        let d = try BioNetGenReader.definition(path: network("multistate.net"))
        #expect(d.compartments == [.init(name: "cell", size: 1)])
        #expect(d.species.map(\.name) == (1...9).map { "S\($0)" })
        #expect(d.species[0].description == "R(a,l)")
        #expect(d.species[6].description == "A(Y~P,r!1).L(r!2).R(a!1,l!2)")
        #expect(d.species.map(\.initial) == [5360, 1160, 5360, 0, 0, 0, 0, 0, 0])
        #expect(d.parameters.count == 9)
        #expect(d.reactions.count == 18)
        #expect(d.reactions[0].id == "R1")
        #expect(d.reactions[0].equation == "S1 + S2 -> S4")
        #expect(d.reactions[0].kinetics == .massAction(forward: .name("kon"), reverse: nil))
        #expect(d.reactions[3].description == "BioNetGen rule _reverse__R1")
        #expect(d.observables.map(\.name) == ["A_P", "A_unbound_P", "A_bound_P", "RLA_P"])
        #expect(d.observables[0].text == "S7 + S8 + S9")
    }

    /// The same network from BioNetGen's `.net` and from BioNetGen's own SBML (`writeSBML`), each
    /// solved at rtol 1e-8: the same species and observables at the end.
    @Test(arguments: [("multistate", 20.0), ("multisite2", 2.0)])
    func endStateMatchesBioNetGensSBML(name: String, tEnd: Double) throws {
        let net = try BioNetGenReader.definition(path: network("\(name).net"))
        let sbml = try SBMLReader.imported(path: network("\(name).xml")).definition
        #expect(net.species.count == sbml.species.count)
        #expect(net.reactions.count == sbml.reactions.count)
        expectSameEndState(try endState(net, tEnd: tEnd), try endState(sbml, tEnd: tEnd), relative: 1e-6)
    }

    /// egfr_net (356 species, 3749 reactions, statistical factors `2*km19`, 13 groups with weights).
    @Test func egfrNetLoadsAndMatchesBioNetGensSBML() throws {
        let net = try BioNetGenReader.definition(path: network("egfr_net.net"))
        #expect(net.species.count == 356)
        #expect(net.reactions.count == 3749)
        #expect(net.observables.count == 13)
        #expect(
            net.reactions[3748].kinetics
                == .massAction(forward: .multiply(.number(2), .name("km19")), reverse: nil))
        let sbml = try SBMLReader.imported(path: network("egfr_net.xml")).definition
        expectSameEndState(try endState(net, tEnd: 10), try endState(sbml, tEnd: 10), relative: 1e-6)
    }

    /// What the loader reads back from the import's TOML is the same model.
    @Test func importWritesALoadableModelFile() throws {
        let d = try BioNetGenReader.definition(path: network("multisite2.net"))
        let back = try ModelLoader.load(source: TOMLWriter.document(for: d), file: "multisite2.toml")
        #expect(back.species == d.species)
        #expect(back.parameters == d.parameters)
        #expect(back.observables == d.observables)
        #expect(back.reactions == d.reactions)
    }

    /// A + A → B with BioNetGen's factor ½ in the rate law: flux ½·k·A², so dA/dt = −k·A² and
    /// A(t) = A₀ / (1 + k·A₀·t); a fixed species ($C) feeds B at k2·C and stays; parameters name
    /// parameters defined further down; groups weigh species.
    @Test func statisticalFactorsFixedSpeciesAndExpressions() throws {
        let source = """
            # Created by BioNetGen 2.7.0
            begin parameters
                1 k      2*khalf  # ConstantExpression
                2 khalf  0.25
                3 A0     k*8       # = 4
                4 k2     0.1
            end parameters
            begin species
                1 A(a)      A0
                2 A(a!1).A(a!1)  0
                3 $C()      2
            end species
            begin reactions
                1 1,1 2 0.5*k #_R1
                2 3 2,3 k2 #_R2
            end reactions
            begin groups
                1 Atot   1,2*2
                2 None
            end groups
            """
        let d = try BioNetGenReader.definition(source: source, file: "dimer.net")
        #expect(d.parameters.map(\.value) == [0.5, 0.25, 4, 0.1])
        #expect(d.parameters[0].description == "= 2*khalf in the BioNetGen network (evaluated when read)")
        #expect(d.species.map(\.constant) == [false, false, true])
        #expect(d.species[2].description == "C()")
        #expect(d.reactions[0].equation == "2 S1 -> S2")
        #expect(d.reactions[1].equation == "S3 -> S2 + S3")
        #expect(d.observables.map(\.text) == ["S1 + 2 * S2", "0"])
        let end = try endState(d, tEnd: 3)
        let a = 4 / (1 + 0.5 * 4 * 3)
        #expect(abs(end["S1"]! - a) <= 1e-7 * 4)
        #expect(end["S3"] == 2)
        // B from dimerisation, (A0 − A)/2, plus k2·C·t from the fixed species.
        #expect(abs(end["S2"]! - ((4 - a) / 2 + 0.1 * 2 * 3)) <= 1e-7 * 4)
        #expect(abs(end["Atot"]! - (end["S1"]! + 2 * end["S2"]!)) <= 1e-12 * 10)
    }

    /// Refusals and malformed lines name the file and line and say what is wrong.
    @Test(arguments: [
        (
            "begin parameters\n  1 k 1\nend parameters\n", nil as Int?,
            "the file has no 'begin species' block: it is not a BioNetGen network (.net)."
        ),
        (
            "begin species\n  1 A() 1\nend species\nbegin reactions\n  1 1 0 k\nend reactions\n", 5,
            "the rate law of reaction 1 \"k\" uses 'k', which is not a parameter."
        ),
        (
            "begin species\n  1 A() 1\nend species\nbegin reactions\n  1 1 2 1\nend reactions\n", 5,
            "the products of reaction 1 name species 2, which the species block lacks."
        ),
        (
            "begin species\n  1 A() 1\n", 1, "the block 'begin species' has no 'end species'."
        ),
        (
            "begin species\n  1 A() 1\nend reactions\n", 3,
            "'end reactions' closes the block 'begin species' of line 1; write 'end species'."
        ),
        (
            "begin compartments\n  1 EC 3 1\nend compartments\n", 1,
            "the block 'begin compartments': compartments (cBNGL) are not supported: the network's volumes and their "
                + "scaling of rate constants have no counterpart in the import yet; generate the network from a "
                + "model without compartments."
        ),
        (
            "begin functions\n  1 f() k*2\nend functions\n", 1,
            "the block 'begin functions': functions (and the functional rate laws that use them) are not supported; "
                + "only elementary (mass-action) rate laws are read."
        ),
        (
            "begin species\n  1 A() 1\nend species\nbegin reactions\n  1 1 0 Sat(1,2)\nend reactions\n", 5,
            "the rate law of reaction 1 is a 'Sat' rate law (Sat(1,2)); only elementary (mass-action) rate laws are "
                + "supported."
        ),
        (
            "begin parameters\n  1 k -1\nend parameters\nbegin species\n  1 A() 1\nend species\n"
                + "begin reactions\n  1 1 0 k\nend reactions\n", 8,
            "the rate law of reaction 1 \"k\" is -1; rate constants must be finite and ≥ 0."
        ),
        (
            "begin parameters\n  1 a b\n  2 b 2*a\nend parameters\nbegin species\n  1 A() 1\nend species\n", 3,
            "the value of parameter 'b' depends on itself (through 'a')."
        ),
        (
            "begin parameters\n  1 S1 3\nend parameters\nbegin species\n  1 A() 1\nend species\n", 5,
            "the species 'S1' has the name of the parameter at line 2; stat3sim keeps one namespace for species "
                + "(named S1, S2, … after their index), parameters, observables and the compartment."
        ),
        (
            "begin species\n  1 A() 1\n  x B() 0\nend species\n", 3,
            "the species line starts with 'x', not an index (1, 2, …)."
        ),
        (
            "begin species\n  1 A() 1\nend species\nbegin reactions\n  1 1,x 0 1\nend reactions\n", 5,
            "the reactants of reaction 1 '1,x' are not a comma-separated list of species indices ('x')."
        ),
        (
            "begin species\n  1 A() 1\nend species\nbegin groups\n  1 G 2*\nend groups\n", 5,
            "the entry '2*' of group 'G' is not a species index or WEIGHT*INDEX (e.g. 5 or 2*5)."
        ),
        (
            "begin species\n  1 A() 2*(\nend species\n", 2,
            "the amount of species 1 (A()) \"2*(\" is not an expression stat3sim reads: the expression ends too early "
                + "at character 4."
        ),
        (
            "  1 A() 1\n", 1,
            "'1 A() 1' is outside every block; a BioNetGen network's lines sit between 'begin NAME' and "
                + "'end NAME'."
        ),
        (
            "begin species\n  1 A@EC() 1\nend species\n", 2,
            "species 1 'A@EC()' sits in a compartment ('@'); compartments (cBNGL) are not supported."
        ),
        (
            "begin molecule types\nend molecule types\n", 1,
            "unknown block 'begin molecule types'; a BioNetGen network (.net) has the blocks 'parameters', "
                + "'species', 'reactions', 'groups'."
        ),
    ])
    func malformedNetworksNameTheLine(source: String, line: Int?, message: String) {
        #expect(throws: ModelError(file: "bad.net", line: line, message: message)) {
            try BioNetGenReader.definition(source: source, file: "bad.net")
        }
    }

    @Test func missingFileIsNamed() {
        #expect(
            throws: ModelError(
                file: "/nonexistent/x.net", line: nil, message: "cannot read the BioNetGen network (no such file).")
        ) {
            try BioNetGenReader.definition(path: "/nonexistent/x.net")
        }
    }
}
