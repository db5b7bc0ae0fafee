import Foundation
import ReactionModel
import Testing

@testable import Simulation

/// The sweep vocabulary: its parsers judge the text alone, and the sweep checks it against the
/// model without naming where it came from.
@Suite("Sweep vocabulary: ranges, metrics, methods, scenarios")
struct SweepVocabularyTests {
    static let model = try! ModelLoader.load(
        source: """
            [species]
            A = 1
            [parameters]
            k = 1
            [observables]
            A2 = "2 * A"
            """, file: "words.toml")

    func syntaxError(_ body: () throws -> Void) -> String? {
        do { try body() } catch let error as SweepSyntaxError { return error.message } catch { return "\(error)" }
        return nil
    }

    @Test func rangesReadBothForms() throws {
        #expect(
            try SweepRange(parsing: "k=0.1:10:5:log")
                == SweepRange(name: "k", low: 0.1, high: 10, count: 5, logarithmic: true))
        #expect(
            try SweepRange(parsing: " k = 0 : 2 ")
                == SweepRange(name: "k", low: 0, high: 2, count: nil, logarithmic: false)
        )
        #expect(try SweepRange(parsing: "k=1:1:1", pointCount: .required).count == 1)
        #expect(try SweepRange(parsing: "k=1e-3:1:log", pointCount: .forbidden).count == nil)
        #expect(try SweepRange(parsing: "k=0.01:10:25:log").description == "k=0.01:10:25:log")
        #expect(try SweepRange(parsing: "k=0:1").description == "k=0:1")
    }

    @Test func badRangesSayWhatIsWrongWithoutAFlag() {
        let cases: [(String, SweepRange.PointCount, String)] = [
            ("k=1:0:3", .optional, "the range must be ascending (LO ≤ HI)."),
            ("k=0:1:3:log", .optional, "a log range needs LO > 0."),
            ("k=0.1:1:0", .optional, "the number of grid points must be a whole number ≥ 1."),
            ("k=0.1:1:2.5", .required, "the number of grid points must be a whole number ≥ 1."),
            ("k", .required, "write NAME=LO:HI:N or NAME=LO:HI:N:log."),
            ("=0:1:3", .required, "write NAME=LO:HI:N or NAME=LO:HI:N:log."),
            ("k=0:inf:3", .required, "write NAME=LO:HI:N or NAME=LO:HI:N:log."),
            ("k=0:1", .required, "write NAME=LO:HI:N or NAME=LO:HI:N:log."),
            ("k=0:1:3", .forbidden, SweepRange.usage(.forbidden)),
            ("k=a:b", .optional, SweepRange.usage(.optional)),
        ]
        for (text, pointCount, expected) in cases {
            let message = syntaxError { _ = try SweepRange(parsing: text, pointCount: pointCount) }
            #expect(message == expected, "\(text)")
            #expect(message?.contains("--") == false, "\(text): \(message ?? "")")
        }
    }

    @Test func metricsReadEveryKind() throws {
        for kind in MetricKind.allCases where kind != .valueAt {
            #expect(try MetricSpec(parsing: "\(kind.rawValue):A") == MetricSpec(kind: kind, target: "A"))
        }
        #expect(try MetricSpec(parsing: "value_at@30:A2") == MetricSpec(kind: .valueAt, time: 30, target: "A2"))
        #expect(try MetricSpec(parsing: "value_at@2.5:A").description == "value_at@2.5:A")
        // The one list is the one the metrics use: names, order and definitions.
        #expect(
            MetricKind.syntaxList
                == "peak, time_to_peak, final, min, mean, auc, half_life, steady_state, value_at@T, regime")
        for kind in MetricKind.allCases {
            let metric = try Metric(MetricSpec(kind: kind, time: 7, target: "A"), definition: Self.model)
            #expect(metric.kind.vocabulary == kind)
            if kind != .valueAt { #expect(metric.kind.definition == kind.definition) }
        }
        #expect(MetricKind.markdownTable.split(separator: "\n").count == MetricKind.allCases.count + 2)
    }

    @Test func badMetricsSayWhatIsWrongWithoutAFlag() {
        let kinds = "peak, time_to_peak, final, min, mean, auc, half_life, steady_state, value_at@T, regime"
        let cases = [
            ("peak", "write KIND:TARGET, e.g. peak:pSTAT3_fraction (kinds: \(kinds))."),
            ("peek:A", "unknown kind 'peek' (did you mean 'peak'?); kinds are \(kinds)."),
            ("value_at:A", "unknown kind 'value_at' (did you mean 'value_at@T'?); kinds are \(kinds)."),
            ("value_at@x:A", "value_at needs a time, e.g. value_at@30:A."),
        ]
        for (text, expected) in cases {
            #expect(syntaxError { _ = try MetricSpec(parsing: text) } == expected, "\(text)")
        }
    }

    @Test func methodsAndScenarios() throws {
        #expect(SamplingMethod.allCases.map(\.rawValue) == ["lhs", "sobol", "random"])
        #expect(try SamplingMethod(parsing: "sobol") == .sobol)
        #expect(
            syntaxError { _ = try SamplingMethod(parsing: "lhss") }
                == "choose lhs, sobol or random (did you mean 'lhs'?).")
        #expect(ScenarioSelection(parsing: "all") == .all)
        #expect(ScenarioSelection(parsing: "a+b") == .one("a+b"))
        #expect(ScenarioSelection(parsing: "default, a+b") == .list([nil, "a+b"]))
        #expect(ScenarioSelection(parsing: "default, a+b").description == "default,a+b")
        #expect(ScenarioSelection.all.runs(scenarios: ["x", "y"]) == [nil, "x", "y"])
        #expect(ScenarioSelection.default.runs(scenarios: ["x"]) == [nil])
    }

    @Test func theModelChecksNameNoFlag() {
        let range = SweepRange(name: "kk", low: 0, high: 1, count: 3, logarithmic: false)
        #expect(
            message { _ = try SweepDimension(range, grid: true, definition: Self.model) }
                == "the model has no parameter, species or compartment 'kk' (did you mean 'k'?).")
        let observable = SweepRange(name: "A2", low: 0, high: 1, count: nil, logarithmic: false)
        #expect(
            message { _ = try SweepDimension(observable, grid: false, definition: Self.model) }
                == "'A2' is an observable; sweeps vary parameters, initial concentrations and compartment sizes.")
        #expect(
            message { _ = try SweepDimension(observable, grid: true, definition: Self.model) }
                == "write NAME=LO:HI:N or NAME=LO:HI:N:log.")
        #expect(
            message { _ = try Metric(MetricSpec(kind: .peak, target: "k"), definition: Self.model) }
                == "'k' is not a species or observable of the model (did you mean 'A'?).")
        // The command-line form still names its flag.
        #expect(
            message { _ = try Metric.parse("peak:k", definition: Self.model) }
                == "--metric peak:k: 'k' is not a species or observable of the model (did you mean 'A'?).")
    }
}
