import Foundation
import Testing

@testable import ReactionModel

private typealias RExpression = ReactionModel.Expression

/// Malformed and hostile inputs (as a mutation fuzzer makes them): each is refused with one
/// sentence naming the file and line, or loads and runs, in time near-linear in its size and
/// within the stack of a sweep worker thread. The inputs are generated here.
@Suite("Hostile input: depth, size and time limits")
struct HostileInputTests {
    static let limit = RExpression.maximumDepth

    func load(_ source: String) throws -> ModelDefinition { try ModelLoader.load(source: source, file: "h.toml") }

    func refusal(_ source: String) -> String? {
        do {
            _ = try load(source)
            return nil
        } catch { return "\(error)" }
    }

    func observable(_ text: String) -> String { "[species]\nA = 1\n[observables]\no = \"\(text)\"\n" }

    /// Runs `body` on a thread with `stackSize` bytes of stack (what secondary threads may get)
    /// and waits for it.
    func onSmallStack(_ stackSize: Int = 512 * 1024, _ body: @escaping @Sendable () -> Void) {
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            body()
            done.signal()
        }
        thread.stackSize = stackSize
        thread.start()
        done.wait()
    }

    func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = Date()
        try body()
        return Date().timeIntervalSince(start)
    }

    // MARK: Depth

    static let deepMessage = "is nested more than \(limit) levels deep"

    @Test func thirtyThousandParenthesesAreRefusedWithTheLimit() {
        let n = 30_000
        let message = refusal(observable(String(repeating: "(", count: n) + "A" + String(repeating: ")", count: n)))
        #expect(
            message
                == "h.toml:4: observable 'o' is nested more than \(Self.limit) levels deep (at character "
                + "\(Self.limit + 1)); every parenthesis, function call, power, unary minus, 'not' and operator "
                + "counts, and \(Self.limit) is the limit. Long sums and products are fine: write a + b + c "
                + "without parentheses around each term."
        )
    }

    @Test(arguments: [
        "unary minus", "power", "exp", "parentheses in a sum", "not", "condition parentheses", "mixed or and xor",
    ])
    func deepChainsAreRefused(_ kind: String) {
        let n = 30_000
        let source: String
        switch kind {
        case "unary minus": source = observable(String(repeating: "-", count: n) + "A")
        case "power": source = observable(String(repeating: "A^", count: n) + "A")
        case "exp": source = observable(String(repeating: "exp(", count: n) + "A" + String(repeating: ")", count: n))
        case "parentheses in a sum":
            source = observable(String(repeating: "A + (", count: n) + "A" + String(repeating: ")", count: n))
        case "not":
            source =
                "[species]\nA = 1\n[[events]]\nwhen = \"\(String(repeating: "not ", count: n))A > 1\"\n"
                + "set = { A = 0 }\n"
        case "condition parentheses":
            source =
                "[species]\nA = 1\n[[events]]\nwhen = \"\(String(repeating: "(", count: n))A > "
                + "1\(String(repeating: ")", count: n))\"\nset = { A = 0 }\n"
        default:
            // or and xor do not associate with each other: a long mixed chain stays left-deep.
            let terms = (0..<n).map { _ in "A > 1" }.enumerated().map {
                $0.offset == 0 ? $0.element : ($0.offset % 2 == 0 ? " or " : " xor ") + $0.element
            }
            source = "[species]\nA = 1\n[[events]]\nwhen = \"\(terms.joined())\"\nset = { A = 0 }\n"
        }
        let message = refusal(source)
        #expect(
            message?.hasPrefix("h.toml:") == true && message?.contains(Self.deepMessage) == true,
            "\(message?.prefix(300) ?? "loaded")")
        #expect((message?.count ?? 0) < 400, "the message does not repeat the text")
    }

    /// The deepest expressions allowed, of the shapes whose derivatives are deepest, go through
    /// everything the program does with an expression on a 512 KB stack: parse, load, compile,
    /// the symbolic Jacobian, rhs and Jacobian evaluation, tree evaluation, printing, freeing.
    @Test func theDeepestAllowedExpressionsAreSafeOnA512KStack() throws {
        // Each shape is exactly at the limit (hill and the mass-action factor k add levels).
        let d = Self.limit
        let shapes: [String] = [
            String(repeating: "(", count: d - 1) + "A" + String(repeating: ")", count: d - 1),
            String(repeating: "k^", count: d - 2) + "A",  // u^v: the derivative nests 4 levels per level
            String(repeating: "k/(", count: d - 2) + "A" + String(repeating: ")", count: d - 2),
            String(repeating: "acos(", count: d - 2) + "A" + String(repeating: ")", count: d - 2),
            String(repeating: "-", count: d - 2) + "A",
            String(repeating: "exp(A*", count: (d - 2) / 2) + "A" + String(repeating: ")", count: (d - 2) / 2),
        ]
        let condition = String(repeating: "not ", count: d - 2) + "A > 0.5"
        let failures = Failures()
        for shape in shapes {
            let source = """
                [species]
                A = 0.5
                B = 0
                [parameters]
                k = 0.9
                [observables]
                o = "\(shape)"
                [[reactions]]
                equation = "A -> B"
                rate = "\(shape)"
                [[events]]
                when = "\(condition)"
                set = { B = "\(shape)" }
                """
            onSmallStack {
                do {
                    let model = try ModelLoader.load(source: source, file: "deep.toml")
                    let network = ReactionNetwork(model)
                    var y = [0.5, 0.0]
                    var dydt = [0.0, 0.0]
                    var jacobian = [Double](repeating: 0, count: 4)
                    network.rhs(t: 0, y: &y, dydt: &dydt)
                    network.jacobian(t: 0, y: &y, dydt: &dydt, jacobian: &jacobian)
                    let e = model.observables[0].expression
                    let value = e.evaluate { $0 == "k" ? 0.9 : 0.5 }
                    let text = ExpressionText.text(e)
                    _ = e.description
                    _ = model.events[0].trigger!.condition.description
                    let compiled = network.compile(model.events[0].trigger!.condition.rootFunctions + [e])
                    var out = [0.0, 0.0]
                    network.evaluate(compiled, t: 0, y: &y, into: &out)
                    // -(-(…)) prints with parentheses at each level, twice as deep as it was read.
                    if !shape.hasPrefix("--"), try ExpressionParser.parse(text) != e {
                        failures.add("\(shape.prefix(20)): text does not read back")
                    }
                    if !(out[1] == value || (out[1].isNaN && value.isNaN)) {
                        failures.add("\(shape.prefix(20)): compiled \(out[1]) ≠ tree \(value)")
                    }
                    if dydt[0] != -value && !value.isNaN { failures.add("\(shape.prefix(20)): rhs") }
                    _ = e.derivative(with: "A").simplified == e
                } catch {
                    failures.add("\(shape.prefix(20)): \(error)")
                }
            }
        }
        #expect(failures.list.isEmpty, "\(failures.list)")
    }

    @Test func theLimitIsExact() {
        let d = Self.limit
        #expect(refusal(observable(String(repeating: "-", count: d - 1) + "A")) == nil)
        #expect(refusal(observable(String(repeating: "-", count: d) + "A"))?.contains(Self.deepMessage) == true)
    }

    // MARK: Long sums and products

    @Test func aSumOfAHundredThousandTermsLoadsAndRuns() throws {
        let n = 100_000
        let terms = (0..<n).map { $0 % 4 == 3 ? "- B" : "+ A" }.joined(separator: " ")
        let factors = (0..<n).map { _ in "A" }
        let source = """
            [species]
            A = 1
            B = 0.5
            [observables]
            total = "\(terms.dropFirst(2))"
            product = "\(factors.joined(separator: " * ")) / \(factors.joined(separator: " / "))"
            [[reactions]]
            equation = "A ->"
            rate = "1e-9 * total"
            """
        var elapsed = 0.0
        var result: (total: Double, product: Double, jacobian: Double) = (0, 0, 0)
        elapsed = try seconds {
            let model = try load(source)
            let network = ReactionNetwork(model)
            var y = [1.0, 0.5]
            var out = [0.0, 0.0]
            var dydt = [0.0, 0.0]
            var jacobian = [Double](repeating: 0, count: 4)
            network.observables(t: 0, y: &y, into: &out)
            network.jacobian(t: 0, y: &y, dydt: &dydt, jacobian: &jacobian)
            result = (out[0], out[1], jacobian[0])
        }
        // 75 000 A − 25 000 B, exactly in binary; the product of A^n / (A / A … ) at A = 1 is 1.
        #expect(result.total == 75_000 - 12_500)
        #expect(result.product == 1)
        #expect(result.jacobian == -1e-9 * 75_000)
        #expect(elapsed < 20, "\(elapsed) s")
    }

    @Test func shortChainsKeepTheirOrderLongOnesAreBalanced() throws {
        func names(_ n: Int) -> [RExpression] { (0..<n).map { RExpression.name("x\($0)") } }
        let short = try ExpressionParser.parse((0..<RExpression.longChain).map { "x\($0)" }.joined(separator: " - "))
        var leftDeep = RExpression.name("x0")
        for e in names(RExpression.longChain).dropFirst() { leftDeep = .subtract(leftDeep, e) }
        #expect(short == leftDeep)
        // Longer: the same operands in the same order, a − b + c as a − (b − c).
        let long = try ExpressionParser.parse((0...RExpression.longChain).map { "x\($0)" }.joined(separator: " - "))
        #expect(long != .subtract(leftDeep, .name("x\(RExpression.longChain)")))
        #expect(long.names == (0...RExpression.longChain).map { "x\($0)" })
        let values = (0...RExpression.longChain).map { Double($0 * $0) }
        #expect(long.evaluate { values[Int($0.dropFirst())!] } == values[0] - values.dropFirst().reduce(0, +))
        // a / b * c … over 200 operands, powers of two: exact in any order.
        let table: [Double] = [1, 2, 4, 0.5, 0.25, 8, 1]
        var text = "x1"
        var expected = table[1]
        for i in 2...200 {
            let divides = i % 3 == 0
            text += (divides ? " / " : " * ") + "x\(i % 7)"
            expected = divides ? expected / table[i % 7] : expected * table[i % 7]
        }
        let mixed = try ExpressionParser.parse(text)
        let mixedValue = mixed.evaluate { name in table[Int(name.dropFirst())!] }
        #expect(mixedValue == expected)
    }

    @Test func aLongOrOfConditionsLoads() throws {
        let n = 30_000
        let source =
            "[species]\nA = 1\n[[events]]\nwhen = \"\((0..<n).map { "A > \($0 + 2)" }.joined(separator: " or "))\"\n"
            + "set = { A = 0 }\n"
        let model = try load(source)
        let condition = model.events[0].trigger!.condition
        #expect(condition.comparisons.count == n)
        #expect(condition.evaluate { $0 == n - 1 } && !condition.evaluate { _ in false })
    }

    // MARK: Time

    @Test func aChainOfThirtyThousandObservablesLoadsInLinearTime() throws {
        func chain(_ n: Int) -> String {
            var s = "[species]\nA = 1\n[observables]\no0 = \"A\"\n"
            for i in 1..<n { s += "o\(i) = \"o\(i - 1) + 1\"\n" }
            return s
        }
        let source = chain(30_000)
        var network: ReactionNetwork? = nil
        let elapsed = try seconds { network = ReactionNetwork(try load(source)) }
        var y = [1.0]
        var out = [Double](repeating: 0, count: 30_000)
        network!.observables(t: 0, y: &y, into: &out)
        #expect(out[29_999] == 30_000)
        #expect(elapsed < 10, "\(elapsed) s")
        // Used by a rate law, the chain is written out for the Jacobian: refused by its depth.
        let used = source + "[[reactions]]\nequation = \"A ->\"\nrate = \"o29999\"\n"
        #expect(
            refusal(used)
                == "h.toml:30006: the rate law of reaction 'R1', with the observables it uses written out (as the "
                + "Jacobian differentiates it), is nested 30000 levels deep; the limit is \(Self.limit)."
        )
    }

    @Test func tenThousandTermsInOneRateLaw() throws {
        let n = 10_000
        var source = "[species]\n" + (0..<n).map { "S\($0) = 1\n" }.joined()
        source +=
            "[parameters]\nk = 2\n[[reactions]]\nequation = \"S0 ->\"\n"
            + "rate = \"\((0..<n).map { "k*S\($0)" }.joined(separator: " + "))\"\n"
        var jacobianRow: [Double] = []
        let elapsed = try seconds {
            let network = ReactionNetwork(try load(source))
            var y = [Double](repeating: 1, count: n)
            var dydt = [Double](repeating: 0, count: n)
            var jacobian = [Double](repeating: 0, count: n * n)
            network.jacobian(t: 0, y: &y, dydt: &dydt, jacobian: &jacobian)
            jacobianRow = (0..<n).map { jacobian[$0 * n] }  // ∂(dS0/dt)/∂S_j
        }
        #expect(jacobianRow == [Double](repeating: -2, count: n))
        #expect(elapsed < 20, "\(elapsed) s")
    }

    @Test func observablesThatDoubleAreRefusedByTheirSize() {
        var source = "[species]\nA = 1\n[observables]\no0 = \"A\"\n"
        for i in 1...30 { source += "o\(i) = \"o\(i - 1) * o\(i - 1)\"\n" }
        source += "[[reactions]]\nequation = \"A ->\"\nrate = \"o30\"\n"
        #expect(
            refusal(source)
                == "h.toml:37: the rate law of reaction 'R1', with the observables it uses written out (as the "
                + "Jacobian differentiates it), has more than \(ModelDefinition.maximumRateLawSize) operations; "
                + "observables that use another observable more than once double in size at each step."
        )
    }

    // MARK: Memory

    @Test func tooManyStateVariablesAreRefusedBeforeAnythingBigIsAllocated() throws {
        let n = 100_000
        let source = "[species]\n" + (0..<n).map { "S\($0) = 1\n" }.joined()
        #expect(
            refusal(source)
                == "h.toml:1: the model has 100000 state variables (species, and parameters with rate rules), more "
                + "than the 10000 stat3sim accepts: the solver keeps a dense 100000 × 100000 Jacobian, which would "
                + "take 80 GB."
        )
        // Parameters with rate rules count; the limit itself is accepted.
        let limit = ModelDefinition.maximumStateVariables
        let atLimit = "[species]\n" + (0..<limit - 1).map { "S\($0) = 1\n" }.joined() + "[parameters]\np = 0\n"
        #expect(try load(atLimit).species.count == limit - 1)
        #expect(
            refusal(atLimit + "q = 0\n[rate_rules]\np = \"1\"\nq = \"1\"\n")?.contains(
                "the model has 10001 state variables") == true)
        #expect(try load(atLimit + "[rate_rules]\np = \"1\"\n").species.count == limit)
    }

    // MARK: Inputs that held, and must keep holding

    @Test func nonFiniteAndZeroSizesAndTimesAreRefused() {
        let cases: [(String, String)] = [
            (
                "[compartments]\nc = nan\n[species]\nA = 1\n",
                "h.toml:2: the size of compartment 'c' must be a finite number, not nan."
            ),
            (
                "[compartments]\nc = inf\n[species]\nA = 1\n",
                "h.toml:2: the size of compartment 'c' must be a finite number, not inf."
            ),
            ("[compartments]\nc = 0\n[species]\nA = 1\n", "h.toml:2: the size of compartment 'c' must be > 0, not 0."),
            (
                "[compartments]\nc = { size = -inf }\n[species]\nA = 1\n",
                "h.toml:2: the size of compartment 'c' must be a finite number, not -inf."
            ),
            (
                "[species]\nA = 1\n[[events]]\nat = nan\nset = { A = 0 }\n",
                "h.toml:4: the time 'at' of event #1 must be a finite number, not nan."
            ),
            (
                "[species]\nA = 1\n[[events]]\nat = [1, inf]\nset = { A = 0 }\n",
                "h.toml:4: each time in 'at' of event #1 must be a finite number, not inf."
            ),
            (
                "[species]\nA = 1\n[[events]]\nwhen = \"A > 1\"\ndelay = nan\nset = { A = 0 }\n",
                "h.toml:5: the delay of event #1 must be finite, not nan."
            ),
            (
                "[species]\nA = 1\n[simulation]\nt_end = nan\n",
                "h.toml:4: [simulation] t_end must be a finite number, not nan."
            ),
        ]
        for (source, message) in cases { #expect(refusal(source) == message) }
    }

    @Test func shortObservableCyclesAreStillRefused() {
        #expect(
            refusal("[species]\nA = 1\n[observables]\na = \"b + A\"\nb = \"a\"\n")
                == "h.toml:4: observables refer to each other in a cycle: a → b → a.")
        #expect(
            refusal("[species]\nA = 1\n[observables]\nx = \"A\"\na = \"b\"\nb = \"c * 2\"\nc = \"x + a\"\n")
                == "h.toml:5: observables refer to each other in a cycle: a → b → c → a.")
        #expect(
            refusal("[species]\nA = 1\n[observables]\na = \"a + 1\"\n")
                == "h.toml:4: observables refer to each other in a cycle: a → a.")
    }

    // MARK: The Jacobian in one walk

    /// `derivatives(where:)` gives what `derivative(with:)` gives for each name, on every rate
    /// law of the models in the repository and on shapes with every kind of node.
    @Test func allDerivativesAtOnceEqualOneAtATime() throws {
        let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Models")
        var expressions: [RExpression] = try [
            "k * A * B - kr * C^2", "Vm * A / (Km + A) + hill(B, K, 2.5)",
            "min(A, B) * max(A, 2 * B) - if_less(A, C, B, 3)",
            "exp(-A / K) * log(B + 1) + abs(A - B) + sqrt(A*C) / (1 + A)^3", "A^B + pow(K, A) / C + factorial(A)",
            "-(-A) + 0 * B + 1 * C + A^1 + B^0 + floor(A) * ceil(B)",
            "sin(A) * cos(B) + tan(C) + atanh(A) + asinh(B) * acosh(C)",
        ].map { try ExpressionParser.parse($0) }
        for file in try FileManager.default.contentsOfDirectory(atPath: models.path) where file.hasSuffix(".toml") {
            let model = try ModelLoader.load(path: models.appendingPathComponent(file).path)
            var inlined: [String: RExpression] = [:]
            for o in model.observables { inlined[o.name] = o.expression.substituting { inlined[$0] } }
            expressions += model.reactions.map {
                ReactionNetwork.ratePerVolume($0, in: model).substituting { inlined[$0] }
            }
        }
        #expect(expressions.count > 100)
        for e in expressions {
            let all = e.derivatives { _ in true }
            for name in e.names {
                let one = e.derivative(with: name)
                #expect((all[name] ?? .number(0)) == one, "\(e) d/d\(name)")
            }
        }
    }
}

/// Failures collected on another thread.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) {
        lock.lock()
        items.append(s)
        lock.unlock()
    }
    var list: [String] {
        lock.lock()
        defer { lock.unlock() }
        return items
    }
}
