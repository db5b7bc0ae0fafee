import Foundation

// The words of a sweep: ranges, metrics, sampling methods and scenario selections, as a model's
// `[sweep]` table and the command line both write them. The parsers judge the text alone and say
// what is wrong with it, never where it came from: the caller adds `--vary …:` or `FILE:LINE:`.
// Checks that need the model (is the name settable, is the target a species) belong to the sweep.

/// What is wrong with the text of a sweep setting, in a sentence about the text alone.
public struct SweepSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One varied name: `NAME=LO:HI:N[:log]` (a grid of N points) or `NAME=LO:HI[:log]` (sampled).
public struct SweepRange: Sendable, Equatable {
    public var name: String
    public var low: Double
    public var high: Double
    /// Grid points (nil when the range is written without N, for sampling).
    public var count: Int?
    public var logarithmic: Bool

    public init(name: String, low: Double, high: Double, count: Int?, logarithmic: Bool) {
        self.name = name
        self.low = low
        self.high = high
        self.count = count
        self.logarithmic = logarithmic
    }

    /// Whether the text must give the number of grid points.
    public enum PointCount: Sendable {
        /// `NAME=LO:HI:N[:log]` only.
        case required
        /// `NAME=LO:HI[:log]` only.
        case forbidden
        /// Either form.
        case optional
    }

    public static let gridSyntax = "NAME=LO:HI:N or NAME=LO:HI:N:log"
    public static let sampleSyntax = "NAME=LO:HI or NAME=LO:HI:log"

    /// The message for a range that is not written in the expected form.
    public static func usage(_ pointCount: PointCount) -> String {
        switch pointCount {
        case .required: return "write \(gridSyntax)."
        case .forbidden: return "write \(sampleSyntax) (the number of sampled points is not part of the range)."
        case .optional: return "write \(gridSyntax) for a grid, or \(sampleSyntax) for sampled points."
        }
    }

    /// Parses the text; `pointCount` says which of the two forms is expected.
    public init(parsing text: String, pointCount: PointCount = .optional) throws {
        let usage = Self.usage(pointCount)
        let sides = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard sides.count == 2, !sides[0].isEmpty else { throw SweepSyntaxError(usage) }
        let name = sides[0].trimmingCharacters(in: .whitespaces)
        var fields = sides[1].split(separator: ":", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        var logarithmic = false
        if fields.last == "log" {
            logarithmic = true
            fields.removeLast()
        }
        let counts: Set<Int> = pointCount == .required ? [3] : pointCount == .forbidden ? [2] : [2, 3]
        guard counts.contains(fields.count), let low = Double(fields[0]), let high = Double(fields[1]),
            low.isFinite, high.isFinite
        else { throw SweepSyntaxError(usage) }
        var count: Int? = nil
        if fields.count == 3 {
            guard let n = Int(fields[2]), n >= 1 else {
                throw SweepSyntaxError("the number of grid points must be a whole number ≥ 1.")
            }
            count = n
        }
        guard high >= low else { throw SweepSyntaxError("the range must be ascending (LO ≤ HI).") }
        if logarithmic && low <= 0 { throw SweepSyntaxError("a log range needs LO > 0.") }
        self.init(name: name, low: low, high: high, count: count, logarithmic: logarithmic)
    }
}

extension SweepRange: CustomStringConvertible {
    /// The range as written, numbers in their shortest form (whole numbers without ".0").
    public var description: String {
        "\(name)=\(low.plainText):\(high.plainText)" + (count.map { ":\($0)" } ?? "")
            + (logarithmic ? ":log" : "")
    }
}

/// The kinds of metric a sweep computes: the one list the parser, `--help` and the docs use.
/// The order is the order in which messages and help list them.
public enum MetricKind: String, CaseIterable, Sendable {
    case peak
    case timeToPeak = "time_to_peak"
    case final
    case min
    case mean
    case auc
    case halfLife = "half_life"
    case steadyState = "steady_state"
    /// Written `value_at@T`.
    case valueAt = "value_at"
    case regime

    /// How the kind is written in `KIND:TARGET` (`value_at@T` with its time).
    public var syntax: String { self == .valueAt ? "value_at@T" : rawValue }

    /// What the metric is, in one line (T is the time of `value_at@T`).
    public var definition: String {
        switch self {
        case .peak: return "largest value over the run"
        case .timeToPeak: return "time of the largest value (first, if repeated)"
        case .final: return "value at the end time"
        case .min: return "smallest value over the run"
        case .mean: return "time average: AUC / (t_end - t_start)"
        case .auc:
            return "area under the curve: trapezoid rule on the solver's dense output (4 points per internal step)"
        case .halfLife:
            return "time from the peak until the value is first half-way back from the peak to the final value "
                + "(linear interpolation between dense-output points); empty if it never gets there"
        case .steadyState:
            return "the steady state's value when the run has settled: the steady-state solver's Newton iteration, "
                + "started from the final state, converges within 0.1 % (or atol) of it, or at its final rate "
                + "of change the value would move by less than 0.1 % over a span as long as the run; "
                + "otherwise empty and the point's status is 'unsettled'"
        case .valueAt: return "value at t = T (after any event at that time)"
        case .regime:
            return "0 if the value returns to baseline (final within 10 % of the peak's rise above the value at "
                + "t_start), 1 if it stays up (sustained), 2 if it stays up and the steady state reached from "
                + "the initial state with the final parameter values is different (bistable: the run's "
                + "history decides)"
        }
    }

    /// The kinds as written, comma-separated ("peak, time_to_peak, …, regime").
    public static var syntaxList: String { allCases.map(\.syntax).joined(separator: ", ") }

    /// A markdown table of the kinds and their definitions, for the README and the format docs.
    public static var markdownTable: String {
        "| kind | meaning |\n|---|---|\n"
            + allCases.map { "| `\($0.syntax)` | \($0.definition) |\n" }.joined()
    }
}

/// One metric: `KIND:TARGET` (`value_at@T:TARGET` for the value at time T).
public struct MetricSpec: Sendable, Equatable {
    public var kind: MetricKind
    /// The time of `value_at@T` (nil for the other kinds).
    public var time: Double?
    public var target: String

    public init(kind: MetricKind, time: Double? = nil, target: String) {
        self.kind = kind
        self.time = time
        self.target = target
    }

    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else {
            throw SweepSyntaxError(
                "write KIND:TARGET, e.g. peak:pSTAT3_fraction (kinds: \(MetricKind.syntaxList)).")
        }
        let (word, target) = (parts[0], parts[1])
        if word.hasPrefix("value_at@") {
            guard let t = Double(word.dropFirst("value_at@".count)), t.isFinite else {
                throw SweepSyntaxError("value_at needs a time, e.g. value_at@30:\(target).")
            }
            self.init(kind: .valueAt, time: t, target: target)
            return
        }
        guard let kind = MetricKind(rawValue: word), kind != .valueAt else {
            let names = MetricKind.allCases.map(\.syntax)
            throw SweepSyntaxError(
                "unknown kind '\(excerpt(word))'\(didYouMean(word, among: names)); kinds are "
                    + "\(MetricKind.syntaxList).")
        }
        self.init(kind: kind, target: target)
    }
}

extension MetricSpec: CustomStringConvertible {
    /// The metric as written: `KIND:TARGET`.
    public var description: String {
        (kind == .valueAt ? "value_at@\((time ?? 0).plainText)" : kind.rawValue) + ":" + target
    }
}

/// How a sampled sweep draws its points.
public enum SamplingMethod: String, CaseIterable, Sendable {
    /// Latin hypercube.
    case lhs
    /// Sobol' sequence.
    case sobol
    /// Uniform random.
    case random

    public init(parsing text: String) throws {
        guard let method = SamplingMethod(rawValue: text) else {
            let names = Self.allCases.map(\.rawValue)
            throw SweepSyntaxError(
                "choose \(names.dropLast().joined(separator: ", ")) or \(names.last!)"
                    + "\(didYouMean(text, among: names)).")
        }
        self = method
    }
}

/// Which runs a command makes: the model's default run, one scenario (`a+b` combines scenarios),
/// a comma-separated list of those (`default` names the model's own run), or `all` (the default
/// and every scenario).
public enum ScenarioSelection: Sendable, Equatable {
    case `default`
    /// One scenario, or several joined by '+' and applied in order.
    case one(String)
    /// Several runs; nil is the default run.
    case list([String?])
    case all

    /// Any text is a selection: names are checked against the model by the command that runs it.
    public init(parsing text: String) {
        if text == "all" {
            self = .all
        } else if text.contains(",") {
            self = .list(
                text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.map {
                    $0 == "default" ? nil : $0
                })
        } else {
            self = .one(text)
        }
    }

    /// The runs, in order; nil is the default run. `.all` needs the model's scenario names.
    public func runs(scenarios names: [String]) -> [String?] {
        switch self {
        case .default: return [nil]
        case .one(let name): return [name]
        case .list(let runs): return runs
        case .all: return [nil] + names
        }
    }
}

extension ScenarioSelection: CustomStringConvertible {
    /// The selection as written.
    public var description: String {
        switch self {
        case .default: return "default"
        case .one(let name): return name
        case .list(let runs): return runs.map { $0 ?? "default" }.joined(separator: ",")
        case .all: return "all"
        }
    }
}

/// A number as a message writes it: whole numbers without ".0", others as shortest round-trip text.
