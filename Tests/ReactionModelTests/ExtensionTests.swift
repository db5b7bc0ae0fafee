import ODESolver
import Testing

@testable import ReactionModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The model-file extensions beyond plain reactions and timed events: conditions of state events, `factorial` and its
/// derivative, models without species, and rate rules (docs/model-format.md, "[rate_rules]" and
/// "[[events]]").
@Suite("Extensions: conditions, factorial, rate rules, models without species")
struct ExtensionTests {
    // MARK: Conditions

    static func cmp(_ name: String, _ relation: Condition.Relation, _ value: Double) -> Condition {
        .comparison(.name(name), relation, .number(value))
    }

    @Test func andBindsTighterThanOr() throws {
        let a = Self.cmp("A", .less, 1)
        let b = Self.cmp("B", .less, 2)
        let c = Self.cmp("C", .less, 3)
        #expect(try ExpressionParser.parseCondition("A < 1 or B < 2 and C < 3") == .or(a, .and(b, c)))
        #expect(try ExpressionParser.parseCondition("A < 1 and B < 2 or C < 3") == .or(.and(a, b), c))
        #expect(try ExpressionParser.parseCondition("A < 1 xor B < 2 and C < 3") == .xor(a, .and(b, c)))
        // `or` and `xor` share a level and associate to the left.
        #expect(try ExpressionParser.parseCondition("A < 1 or B < 2 xor C < 3") == .xor(.or(a, b), c))
        #expect(try ExpressionParser.parseCondition("A < 1 and B < 2 and C < 3") == .and(.and(a, b), c))
        // Parentheses override.
        #expect(try ExpressionParser.parseCondition("(A < 1 or B < 2) and C < 3") == .and(.or(a, b), c))
    }

    @Test func notTrueFalseAndXor() throws {
        let a = Self.cmp("A", .less, 1)
        let b = Self.cmp("B", .greater, 2)
        #expect(try ExpressionParser.parseCondition("true") == .constant(true))
        #expect(try ExpressionParser.parseCondition("  false ") == .constant(false))
        #expect(try ExpressionParser.parseCondition("not true") == .not(.constant(true)))
        #expect(try ExpressionParser.parseCondition("not not false") == .not(.not(.constant(false))))
        // `not` binds tighter than `and`: it takes the comparison only.
        #expect(try ExpressionParser.parseCondition("not A < 1 and B > 2") == .and(.not(a), b))
        #expect(try ExpressionParser.parseCondition("not (A < 1 and B > 2)") == .not(.and(a, b)))
        #expect(try ExpressionParser.parseCondition("A < 1 xor B > 2") == .xor(a, b))
        // Words are whole words: `nota`, `orB`, `true_level` are names.
        #expect(try ExpressionParser.parseCondition("nota < 1") == Self.cmp("nota", .less, 1))
        #expect(try ExpressionParser.parseCondition("true_level >= 1") == Self.cmp("true_level", .greaterEqual, 1))
        #expect(try ExpressionParser.parseCondition("A < 1 or orB > 2") == .or(a, Self.cmp("orB", .greater, 2)))
        // Every relation.
        for relation in Condition.Relation.allCases {
            #expect(try ExpressionParser.parseCondition("A \(relation.rawValue) 1") == Self.cmp("A", relation, 1))
        }
    }

    @Test func parenthesesOpenAConditionOrAnOperand() throws {
        // "(A + B)" is the left side of a comparison, not a condition.
        let sum = try ExpressionParser.parseCondition("(A + B) < 3")
        #expect(sum == .comparison(.add(.name("A"), .name("B")), .less, .number(3)))
        let product = try ExpressionParser.parseCondition("(A + B) * 2 >= k^2")
        #expect(
            product
                == .comparison(
                    .multiply(.add(.name("A"), .name("B")), .number(2)), .greaterEqual,
                    .power(.name("k"), .number(2))))
        // "(A < 1)" is a condition.
        let both = try ExpressionParser.parseCondition("(A < 1) and (B > 2)")
        #expect(both == .and(Self.cmp("A", .less, 1), Self.cmp("B", .greater, 2)))
        #expect(try ExpressionParser.parseCondition("((A < 1))") == Self.cmp("A", .less, 1))
        // Both kinds in one condition.
        let mixed = try ExpressionParser.parseCondition("((A + B) < 3 or (t > 1)) and not (C - 1 == 0)")
        #expect(
            mixed
                == .and(
                    .or(.comparison(.add(.name("A"), .name("B")), .less, .number(3)), Self.cmp("t", .greater, 1)),
                    .not(.comparison(.subtract(.name("C"), .number(1)), .equal, .number(0)))))
    }

    @Test(arguments: [
        "", "   ", "A", "A + 1", "A <", "A < 1 and", "A < 1 or or B < 2", "A < 1)", "(A < 1",
        "A = 1", "A => 1", "A <> 1", "A < 1 andB > 2", "and A < 1", "A < 1 B < 2", "not", "A < < 1",
    ])
    func syntaxErrorsAreReported(_ text: String) {
        #expect(throws: ExpressionSyntaxError.self, "\"\(text)\"") { try ExpressionParser.parseCondition(text) }
    }

    @Test func syntaxErrorsSayWhatWasExpected() {
        do {
            _ = try ExpressionParser.parseCondition("A + 1")
            Issue.record("\"A + 1\" parsed as a condition")
        } catch let e as ExpressionSyntaxError {
            #expect(e.message == "expected a comparison (< <= > >= == !=) but found the end")
            #expect(e.offset == 5)
        } catch { Issue.record("unexpected error \(error)") }
        do {
            _ = try ExpressionParser.parseCondition("")
            Issue.record("the empty text parsed as a condition")
        } catch let e as ExpressionSyntaxError {
            #expect(e.message == "the condition is empty")
        } catch { Issue.record("unexpected error \(error)") }
    }

    /// The text a writer produces (`description`) reads back as the same condition.
    @Test(arguments: [
        "A < 1 or B < 2 and C < 3", "(A < 1 or B < 2) and C < 3", "not (A < 1 and B > 2) xor t >= 5",
        "not true", "false or true", "(A + B) * 2 <= k^2 - 1", "A == 1 or A != 2", "A > -1 and -(B - 1) < 2 * -C",
        "A < 1 xor (B < 2 xor C < 3)", "(A < 1 xor B < 2) or C < 3", "not not (A < 1)",
        "hill(A, K, 2) > 0.5 and t > 10",
        "(A / (B + 1))^2 >= exp(-t / 3) or factorial(n) < 1e6",
    ])
    func descriptionReadsBack(_ text: String) throws {
        let condition = try ExpressionParser.parseCondition(text)
        let written = condition.description
        let again = try ExpressionParser.parseCondition(written)
        #expect(again == condition, "\(text) → \(written)")
        #expect(again.description == written)
    }

    /// Built right-nested (SBML `<or> a <or> b c </or></or>`), `or` and `and` print without
    /// parentheses and read back left-nested: not the same tree, but the same comparisons in the
    /// same order and the same truth table. `xor` keeps its parentheses and reads back exactly.
    @Test func rightNestedConditionsReadBackEquivalent() throws {
        let a = Self.cmp("A", .less, 1)
        let b = Self.cmp("B", .less, 2)
        let c = Self.cmp("C", .less, 3)
        for built in [
            Condition.or(a, .or(b, c)), .and(a, .and(b, c)), .xor(a, .xor(b, c)), .or(a, .xor(b, .and(c, a))),
        ] {
            let again = try ExpressionParser.parseCondition(built.description)
            #expect(
                again.comparisons.map { ExpressionText.text($0.left) }
                    == built.comparisons.map { ExpressionText.text($0.left) })
            let n = built.comparisons.count
            for mask in 0..<(1 << n) {
                #expect(
                    again.evaluate { mask & (1 << $0) != 0 } == built.evaluate { mask & (1 << $0) != 0 },
                    "\(built) mask \(mask)")
            }
        }
        #expect(try ExpressionParser.parseCondition(Condition.xor(a, .xor(b, c)).description) == .xor(a, .xor(b, c)))
        #expect(try ExpressionParser.parseCondition(Condition.or(a, .or(b, c)).description) == .or(.or(a, b), c))
    }

    /// `evaluate` against Swift's own operators for every combination of comparison truths.
    @Test func evaluateCombinesComparisonTruths() throws {
        let condition = try ExpressionParser.parseCondition("A < 1 or not B < 2 and C < 3 xor (D < 4 and true)")
        #expect(condition.comparisons.map { ExpressionText.text($0.left) } == ["A", "B", "C", "D"])
        for mask in 0..<16 {
            let h = (0..<4).map { mask & (1 << $0) != 0 }
            // ((A or ((not B) and C)) xor (D and true))
            let expected = (h[0] || (!h[1] && h[2])) != (h[3] && true)
            #expect(condition.evaluate { h[$0] } == expected, "holds \(h)")
        }
        #expect(Condition.constant(false).evaluate { _ in true } == false)
        #expect(try ExpressionParser.parseCondition("not false").evaluate { _ in false } == true)
        // The root functions are left − right, in the order of the comparisons.
        let roots = try ExpressionParser.parseCondition("A > 2 and t <= B").rootFunctions
        #expect(roots == [.subtract(.name("A"), .number(2)), .subtract(.name("t"), .name("B"))])
        // A relation is a sign test of left − right.
        #expect(Condition.Relation.less.holds(-1e-300) && !Condition.Relation.less.holds(0))
        #expect(Condition.Relation.lessEqual.holds(0) && Condition.Relation.greaterEqual.holds(0))
        #expect(!Condition.Relation.greater.holds(0) && Condition.Relation.notEqual.holds(-0.5))
    }

    // MARK: factorial and digamma

    @Test func factorialIsGammaOfXPlusOne() throws {
        #expect(Expression.apply(.factorial, 4) == 24)
        #expect(Expression.apply(.factorial, 0) == 1)
        // 0.5! = Γ(1.5) = √π / 2; tgamma is accurate to a few ulps.
        let half = Expression.apply(.factorial, 0.5)
        #expect(abs(half - Double.pi.squareRoot() / 2) <= 4 * Double.ulpOfOne * half)
        #expect(try ExpressionParser.parse("factorial(3) + factorial(x)").evaluate { _ in 5 } == 126)
    }

    /// ψ at points with closed forms: ψ(1) = −γ, ψ(1/2) = −γ − 2 ln 2, ψ(10) = H₉ − γ,
    /// ψ(−1/2) = ψ(3/2) = 2 − γ − 2 ln 2 (the reflection formula), ψ(2) = 1 − γ, ψ(6) = H₅ − γ.
    static let digammaCases: [(x: Double, value: Double)] = {
        let gamma = 0.5772156649015329
        return [
            (1, -gamma),
            (0.5, -gamma - 2 * log(2.0)),
            (10, 2.251752589066721),
            (-0.5, 2 - gamma - 2 * log(2.0)),
            (2, 1 - gamma),
            (6, 1 + 1 / 2.0 + 1 / 3.0 + 1 / 4.0 + 1 / 5.0 - gamma),
        ]
    }()

    /// The accuracy `Expression.digamma` documents: the series through x⁻¹⁴ from x ≥ 10 leaves
    /// < 5e-17, so the closed forms hold to 1e-13 relative (the recurrence adds a few ulps). An
    /// earlier version stopped at x⁻¹⁰ from x ≥ 6 and was off by 8.8e-12 at ψ(1); this test caught it.
    /// The poles give NaN.
    @Test func digammaMatchesClosedFormsTo1e13() {
        for (x, value) in Self.digammaCases {
            let psi = Expression.digamma(x)
            #expect(
                abs(psi - value) <= 1e-13 * abs(value),
                "ψ(\(x)) = \(psi), expected \(value), relative error \(abs(psi - value) / abs(value))")
        }
        #expect(Expression.digamma(0).isNaN && Expression.digamma(-2).isNaN)
    }

    /// d/dx x! = x! ψ(x + 1), against a central difference with step 1e-5 (truncation
    /// ~h²·f‴/(6f′), round-off ~ε·f/h). Measured relative differences ≤ 1.4e-9 (factorial(x²)/x
    /// at 2.3; 3.5e-11 to 2.5e-10 for factorial(x)); 1e-8 allows 7×, while a wrong derivative
    /// (ψ(x) for ψ(x + 1), say, is off by 1/x) is off by > 0.1.
    @Test(arguments: ["factorial(x)", "factorial(x^2) / x", "k * factorial(2 * x + 1)"])
    func factorialDerivativeMatchesFiniteDifferences(_ text: String) throws {
        let e = try ExpressionParser.parse(text)
        let d = e.derivative(with: "x")
        let values = ["k": 0.7]
        for x in [2.3, 0.4, 1.7] {
            let symbolic = d.evaluate { $0 == "x" ? x : values[$0]! }
            let h = 1e-5
            let numeric =
                (e.evaluate { $0 == "x" ? x + h : values[$0]! } - e.evaluate { $0 == "x" ? x - h : values[$0]! })
                / (2 * h)
            #expect(abs(symbolic - numeric) <= 1e-8 * abs(numeric), "\(text) at \(x): \(symbolic) vs \(numeric)")
        }
        // The compiled program (the solver's Jacobian) agrees with the tree, digamma included.
        var builder = ProgramBuilder()
        let names = ["x", "k"]
        let range = builder.compile(d) { names.firstIndex(of: $0)! }
        let tape = ProgramTape(builder)
        let point = [2.3, 0.7]
        let compiled = point.withUnsafeBufferPointer { tape.evaluate(range, $0.baseAddress!) }
        #expect(compiled == d.evaluate { point[names.firstIndex(of: $0)!] })
    }

    // MARK: Models without species

    @Test func aModelWithoutSpeciesLoads() throws {
        let model = try ModelLoader.load(
            source: """
                [parameters]
                x = 1.5
                k = 2
                [rate_rules]
                x = "k"
                [observables]
                t_squared = "t * t"
                [simulation]
                t_end = 2
                output_interval = 0.5
                """, file: "clock.toml")
        #expect(model.species.map(\.name) == ["x"])
        #expect(model.species.first?.isParameter == true)
        #expect(model.parameters.map(\.name) == ["k"])
        #expect(model.observables.map(\.name) == ["t_squared"])
        #expect(model.reactions.isEmpty)
        // Its right-hand side is the rule alone.
        let network = ReactionNetwork(model)
        var dy = [0.0]
        [1.5].withUnsafeBufferPointer { y in
            dy.withUnsafeMutableBufferPointer { network.rhs(t: 0.3, y: y.baseAddress!, dydt: $0.baseAddress!) }
        }
        #expect(dy == [2])
    }

    @Test(arguments: ["[simulation]\nt_end = 10\n", "", "[model]\nname = \"empty\"\n"])
    func aFileThatDeclaresNothingIsRejected(_ source: String) {
        do {
            _ = try ModelLoader.load(source: source, file: "empty.toml")
            Issue.record("a file declaring nothing loaded")
        } catch let e as ModelError {
            #expect(e.message.contains("the model declares nothing to simulate"), "\(e)")
        } catch { Issue.record("unexpected error \(error)") }
    }

    // MARK: Rate rules

    static let parameterRule = """
        [species]
        A = 1
        [parameters]
        k = 0.5
        x = { value = 2.5, description = "a parameter with a rate rule" }
        m = 4
        [rate_rules]
        x = "-k * x + A"
        [[reactions]]
        equation = "A -> "
        rate = "m * x * A"
        [[scenarios]]
        name = "s"
        parameters = { x = 3, k = 1 }
        [[scenarios]]
        name = "negative"
        parameters = { x = -2 }
        """

    @Test func aRateRuleMakesAParameterAStateVariable() throws {
        let model = try ModelLoader.load(source: Self.parameterRule, file: "rule.toml")
        #expect(model.parameters.map(\.name) == ["k", "m"])
        #expect(model.species.map(\.name) == ["A", "x"])
        let x = try #require(model.species.last)
        #expect(x.isParameter)
        #expect(!model.species[0].isParameter)
        #expect(x.initial == 2.5)
        #expect(x.description == "a parameter with a rate rule")
        #expect(x.rateRule == (try ExpressionParser.parse("-k * x + A")))
        #expect(model.species[0].rateRule == nil)
        // A scenario's value for it is an initial value; other parameters stay parameters.
        let s = try #require(model.scenario(named: "s"))
        #expect(s.initial.map(\.index) == [1] && s.initial.map(\.value) == [3])
        #expect(s.parameters.map(\.index) == [0] && s.parameters.map(\.value) == [1])
        // It may be negative, unlike a concentration.
        let negative = try #require(model.scenario(named: "negative"))
        #expect(negative.initial.map(\.value) == [-2])
        // d x/dt = −k x + A; dA/dt = −m x A.
        let network = ReactionNetwork(model)
        var dy = [0.0, 0.0]
        [0.8, 1.7].withUnsafeBufferPointer { y in
            dy.withUnsafeMutableBufferPointer { network.rhs(t: 0, y: y.baseAddress!, dydt: $0.baseAddress!) }
        }
        #expect(abs(dy[0] - (-4 * 1.7 * 0.8)) <= 1e-15 * 5.44)
        #expect(abs(dy[1] - (-0.5 * 1.7 + 0.8)) <= 1e-15)
    }

    static func catalystModel(rule: Bool) -> String {
        """
        [species]
        A = 1
        B = 0
        C = 0.5
        [parameters]
        kf = 2
        kr = 1
        [\(rule ? "rate_rules" : "observables")]
        \(rule ? "C" : "unused") = "-0.1 * C"
        [[reactions]]
        equation = "A + C <-> B + C"
        forward = "kf"
        reverse = "kr"
        """
    }

    @Test func quantitiesWithRateRulesAreInNoConservationLaw() throws {
        let ruled = try ModelLoader.load(source: Self.catalystModel(rule: true), file: "catalyst.toml")
        let laws = try #require(ruled.conservationLaws())
        #expect(laws.map(\.description) == ["A + B"])
        let c = try #require(ruled.species.firstIndex { $0.name == "C" })
        #expect(!laws.contains { law in law.terms.contains { $0.species == c } })
        // Without the rule the catalyst is conserved on its own: the check above can fail.
        let plain = try ModelLoader.load(source: Self.catalystModel(rule: false), file: "catalyst.toml")
        let plainLaws = try #require(plain.conservationLaws())
        #expect(plainLaws.contains { law in law.terms.contains { $0.species == c } })
        #expect(plainLaws.contains { $0.description == "A + B" })
        // A parameter with a rate rule is in no law either.
        let parameter = try ModelLoader.load(source: Self.parameterRule, file: "rule.toml")
        #expect(parameter.conservationLaws()?.isEmpty == true)
    }

    /// Rules that read species, observables, time and a state parameter, on species in a
    /// compartment of size 2 (a rule is concentration per time: no volume factor), with reactions
    /// that use ruled quantities as catalysts and in general rate laws.
    static let ruledNetwork = """
        [compartments]
        cyt = 2
        nuc = 0.5
        [species]
        A = { initial = 1, compartment = "cyt" }
        B = { initial = 0.5, compartment = "nuc" }
        C = { initial = 0.3, compartment = "cyt" }
        [parameters]
        kf = 0.7
        kr = 0.2
        K = 0.4
        x = 1.5
        [observables]
        sat = "A / (K + A)"
        [rate_rules]
        C = "x * sat - 0.3 * C^2 + exp(-t) * B"
        x = "-0.5 * x * B + factorial(C) - hill(A, K, 2.5)"
        [[reactions]]
        equation = "A + C -> B + C"
        forward = "kf"
        [[reactions]]
        equation = "B -> A"
        rate = "x * B / (1 + B) + kr * sat"
        """

    @Test func analyticJacobianWithRateRulesMatchesFiniteDifferences() throws {
        let model = try ModelLoader.load(source: Self.ruledNetwork, file: "ruled.toml")
        #expect(model.species.map(\.name) == ["A", "B", "C", "x"])
        let network = ReactionNetwork(model)
        for (t, y) in [(0.3, [0.9, 0.6, 0.35, 1.2]), (2.0, [0.2, 1.7, 1.1, -0.4]), (0.0, [1e-3, 2.0, 0.05, 3.0])] {
            let check = JacobianCheck(system: network, t: t, y: y)
            #expect(check.passed, "t = \(t), y = \(y): \(check.mismatches)")
            #expect(check.worstRatio <= 1)
        }
        // The rule is the rate of change of the concentration, with no volume factor.
        let y = [0.9, 0.6, 0.35, 1.2]
        let t = 0.3
        var dy = [Double](repeating: 0, count: 4)
        y.withUnsafeBufferPointer { yp in
            dy.withUnsafeMutableBufferPointer { network.rhs(t: t, y: yp.baseAddress!, dydt: $0.baseAddress!) }
        }
        let sat = 0.9 / (0.4 + 0.9)
        let ruleC = 1.2 * sat - 0.3 * 0.35 * 0.35 + exp(-t) * 0.6
        #expect(abs(dy[2] - ruleC) <= 1e-14)
        let hill = pow(0.9, 2.5) / (pow(0.4, 2.5) + pow(0.9, 2.5))
        let ruleX = -0.5 * 1.2 * 0.6 + tgamma(1.35) - hill
        #expect(abs(dy[3] - ruleX) <= 1e-14)
    }

    /// A rule that mentions species only through an observable still gets their Jacobian
    /// columns (observables are substituted before differentiation); exact values, not only FD.
    @Test func ruleThroughAnObservableGetsItsJacobianColumn() throws {
        let model = try ModelLoader.load(
            source: """
                [species]
                A = 2
                B = 1
                [parameters]
                p = 0.5
                [observables]
                ratio = "A / B"
                [rate_rules]
                p = "ratio^2"
                [[reactions]]
                equation = "A -> B"
                rate = "p * A"
                """, file: "observed.toml")
        let network = ReactionNetwork(model)
        let check = JacobianCheck(system: network, t: 0, y: [2, 1, 0.5])
        #expect(check.passed, "\(check.mismatches)")
        var j = [Double](repeating: 0, count: 9)
        let y = [2.0, 1, 0.5]
        var f = [Double](repeating: 0, count: 3)
        y.withUnsafeBufferPointer { yp in
            f.withUnsafeMutableBufferPointer { network.rhs(t: 0, y: yp.baseAddress!, dydt: $0.baseAddress!) }
            f.withUnsafeBufferPointer { fp in
                j.withUnsafeMutableBufferPointer {
                    network.jacobian(t: 0, y: yp.baseAddress!, dydt: fp.baseAddress!, jacobian: $0.baseAddress!)
                }
            }
        }
        // ∂(A²/B²)/∂A = 2A/B² = 4, ∂/∂B = −2A²/B³ = −8 (column-major, row p = 2).
        #expect(j[2 + 3 * 0] == 4)
        #expect(j[2 + 3 * 1] == -8)
        #expect(j[2 + 3 * 2] == 0)
    }

    /// The trigonometric and hyperbolic functions (for SBML's MathML): values from the C library,
    /// symbolic derivatives against central differences (step 1e-6; truncation and round-off
    /// give ~1e-9 relative here), in points inside every function's domain.
    @Test(arguments: [
        "sin(x)", "cos(x)", "tan(x)", "asin(x)", "acos(x)", "atan(x)", "sinh(x)", "cosh(x)", "tanh(x)",
        "asinh(x)", "acosh(x + 2)", "atanh(x)", "k * sin(x^2) / cos(x)",
    ])
    func trigonometricDerivativesMatchFiniteDifferences(_ text: String) throws {
        let e = try ExpressionParser.parse(text)
        let d = e.derivative(with: "x")
        let values = ["k": 0.7]
        for x in [0.3, -0.45, 0.8] {
            let symbolic = d.evaluate { $0 == "x" ? x : values[$0]! }
            let h = 1e-6
            let numeric =
                (e.evaluate { $0 == "x" ? x + h : values[$0]! } - e.evaluate { $0 == "x" ? x - h : values[$0]! })
                / (2 * h)
            #expect(
                abs(symbolic - numeric) <= 1e-7 * max(1, abs(numeric)), "\(text) at \(x): \(symbolic) vs \(numeric)")
        }
        #expect(try ExpressionParser.parse("asin(0.5)").evaluate { _ in 0 } == asin(0.5))
        #expect(try ExpressionParser.parse("cosh(2)").evaluate { _ in 0 } == cosh(2.0))
    }
}
