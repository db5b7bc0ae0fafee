import Testing

@testable import ReactionModel

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Expressions: parsing, evaluation, symbolic derivatives")
struct ExpressionTests {
    func value(_ text: String, _ variables: [String: Double]) throws -> Double {
        let e = try ExpressionParser.parse(text)
        return e.evaluate { variables[$0]! }
    }

    @Test func precedenceAndAssociativity() throws {
        #expect(try value("1 + 2 * 3", [:]) == 7)
        #expect(try value("2 ^ 3 ^ 2", [:]) == 512)  // right-associative
        #expect(try value("-2 ^ 2", [:]) == -4)  // unary minus binds looser than ^
        #expect(try value("(1 + 2) * 3", [:]) == 9)
        #expect(try value("8 / 4 / 2", [:]) == 1)  // left-associative
        #expect(try value("1e-3 * 2E2", [:]) == 0.2)
        #expect(try value("x - -y", ["x": 1, "y": 2]) == 3)
    }

    @Test func functions() throws {
        let v = ["x": 2.0, "K": 3.0, "n": 2.0]
        #expect(try value("hill(x, K, n)", v) == 4.0 / 13.0)
        #expect(try value("min(x, K) + max(x, K)", v) == 5)
        #expect(try value("pow(x, 3)", v) == 8)
        #expect(abs(try value("exp(log(x)) + log10(100) + sqrt(x*8) + abs(-x)", v) - 10) < 1e-14)
    }

    /// Symbolic derivatives against central differences at random points.
    @Test(arguments: [
        "k * A * B", "kf * A^2 - kr * B", "Vm * A / (Km + A)", "hill(A, K, 2.5) * B", "exp(-A / K) * log(B + 1)",
        "sqrt(A * B) / (1 + A)^3", "min(A, B) * max(A, 2 * B)", "abs(A - B) + log10(A)", "A^B", "pow(K, A) / B",
    ])
    func derivativeMatchesFiniteDifferences(_ text: String) throws {
        let e = try ExpressionParser.parse(text)
        let point: [String: Double] = ["A": 0.7, "B": 1.3, "k": 2, "kf": 0.5, "kr": 0.2, "Vm": 3, "Km": 0.4, "K": 1.1]
        for variable in ["A", "B"] {
            let d = e.derivative(with: variable)
            let symbolic = d.evaluate { point[$0]! }
            let h = 1e-6
            var plus = point
            var minus = point
            plus[variable]! += h
            minus[variable]! -= h
            let numeric =
                (e.evaluate { plus[$0]! }
                    - e.evaluate { minus[$0]! }) / (2 * h)
            #expect(
                abs(symbolic - numeric) <= 1e-7 * max(1, abs(numeric)),
                "\(text) d/d\(variable): \(symbolic) vs \(numeric)")
        }
    }

    @Test func simplificationRemovesTrivialTerms() throws {
        let e = try ExpressionParser.parse("k * A")
        #expect(e.derivative(with: "A") == .name("k"))
        #expect(e.derivative(with: "B") == .number(0))
        #expect(try ExpressionParser.parse("A^2").derivative(with: "A") == .multiply(.number(2), .name("A")))
    }

    @Test func compiledProgramsAgreeWithTreeEvaluation() throws {
        let texts = ["k * A * B", "hill(A, K, 2.5) * B", "min(A, B) * max(A, 2 * B)", "A^3 - A^2.5 + -A", "abs(A - B)"]
        let names = ["A", "B", "k", "K"]
        let values: [Double] = [0.7, 1.3, 2, 1.1]
        var builder = ProgramBuilder()
        let ranges = try texts.map { try builder.compile(ExpressionParser.parse($0)) { names.firstIndex(of: $0)! } }
        let tape = ProgramTape(builder)
        for (text, range) in zip(texts, ranges) {
            let compiled = values.withUnsafeBufferPointer { tape.evaluate(range, $0.baseAddress!) }
            let tree = try value(text, Dictionary(uniqueKeysWithValues: zip(names, values)))
            #expect(compiled == tree, "\(text)")
        }
    }
}
