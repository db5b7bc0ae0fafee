import Foundation
import ODESolver
import ReactionModel

/// The `.meta.json` sidecar of every command that writes one (run, sweep, sweep --follow, merge):
/// one type, so the shared keys are spelled once. Keys are snake_case; a key a command does not
/// use is absent; a key that is `null` in the file is a `Nullable`.
public struct RunMetadata: Codable, Sendable {
    public struct Model: Codable, Sendable {
        public var name: String
        public var file: String
        public var sha256: String
    }
    public struct Units: Codable, Sendable {
        public var time: String
        public var concentration: String
    }
    public struct Solver: Codable, Sendable {
        public var method: String
        public var rtol: Double
        /// The absolute tolerance of every state without its own.
        public var atol: Double
        /// The species' own absolute tolerances (`atol = …` in the file, or scaled to their sizes
        /// by the SBML import), when they are in force.
        public var atolBySpecies: [String: Double]? = nil
        enum CodingKeys: String, CodingKey {
            case method, rtol, atol
            case atolBySpecies = "atol_by_species"
        }
    }
    public struct Statistics: Codable, Sendable {
        var steps, rhsEvaluations, jacobianEvaluations, luFactorizations, newtonIterations, errorTestFailures,
            convergenceFailures, lastOrder: Int
        /// Of the LU factorisations, the sparse LU's with a pivot search and those reusing its pivots
        /// (both 0 when the Newton matrix is dense; absent from sidecars written before there was a
        /// sparse LU, which must still read).
        var sparseFactorizations, sparseRefactorizations: Int?
        /// GMRES iterations, preconditioner set-ups and linear convergence failures of the Krylov
        /// path (0 on the direct paths; absent from sidecars written before it).
        var linearIterations, preconditionerSetups, linearConvergenceFailures: Int?
        var lastStep: Double
        enum CodingKeys: String, CodingKey {
            case steps
            case rhsEvaluations = "rhs_evaluations"
            case jacobianEvaluations = "jacobian_evaluations"
            case luFactorizations = "lu_factorizations"
            case sparseFactorizations = "sparse_factorizations"
            case sparseRefactorizations = "sparse_refactorizations"
            case linearIterations = "linear_iterations"
            case preconditionerSetups = "preconditioner_setups"
            case linearConvergenceFailures = "linear_convergence_failures"
            case newtonIterations = "newton_iterations"
            case errorTestFailures = "error_test_failures"
            case convergenceFailures = "convergence_failures"
            case lastOrder = "last_order"
            case lastStep = "last_step"
        }
        init(_ s: SolverStatistics) {
            steps = s.steps
            rhsEvaluations = s.rhsEvaluations
            jacobianEvaluations = s.jacobianEvaluations
            luFactorizations = s.luFactorizations
            sparseFactorizations = s.sparseFactorizations
            sparseRefactorizations = s.sparseRefactorizations
            linearIterations = s.linearIterations
            preconditionerSetups = s.preconditionerSetups
            linearConvergenceFailures = s.linearConvergenceFailures
            newtonIterations = s.newtonIterations
            errorTestFailures = s.errorTestFailures
            convergenceFailures = s.convergenceFailures
            lastOrder = s.lastOrder
            lastStep = s.lastStep
        }
    }
    public struct Run: Codable, Sendable {
        var scenario: String
        var rows: Int
        var solverStatistics: Statistics
        enum CodingKeys: String, CodingKey {
            case scenario, rows
            case solverStatistics = "solver_statistics"
        }
    }
    /// What `run --sensitivities` asked for.
    public struct Sensitivities: Codable, Sendable {
        var parameters: [String]
        var normalized: Bool
        var errorControl: Bool
        enum CodingKeys: String, CodingKey {
            case parameters, normalized
            case errorControl = "error_control"
        }
    }
    public struct Shard: Codable, Sendable {
        public var index: Int
        public var count: Int
        public init(index: Int, count: Int) {
            self.index = index
            self.count = count
        }
    }
    public struct Totals: Codable, Sendable {
        public var points, ok, failed, unsettled: Int
        public init(points: Int, ok: Int, failed: Int, unsettled: Int) {
            self.points = points
            self.ok = ok
            self.failed = failed
            self.unsettled = unsettled
        }
    }
    public struct Follow: Codable, Sendable {
        var name: String
        var low, high: Double
        var count: Int
        var log: Bool
        public init(name: String, low: Double, high: Double, count: Int, log: Bool) {
            self.name = name
            self.low = low
            self.high = high
            self.count = count
            self.log = log
        }
    }
    public struct Bistable: Codable, Sendable {
        var low, high: Double
        var switchUpBetween, switchDownBetween: [Double]
        enum CodingKeys: String, CodingKey {
            case low, high
            case switchUpBetween = "switch_up_between"
            case switchDownBetween = "switch_down_between"
        }
        public init(low: Double, high: Double, switchUpBetween: [Double], switchDownBetween: [Double]) {
            self.low = low
            self.high = high
            self.switchUpBetween = switchUpBetween
            self.switchDownBetween = switchDownBetween
        }
    }

    public var program = "stat3sim"
    public var version: String
    public var command: [String]
    public var model: Model
    public var units: Units?
    public var created: String?
    // run
    public var solver: Solver?
    public var columns: [String]?
    public var runs: [Run]?
    public var overrides: [String: Double]?
    public var sensitivities: Sensitivities?
    // sweep and merge
    public var sweep: SweepDescription?
    public var shard: Nullable<Shard>?
    public var totals: Totals?
    public var complete: Bool?
    public var jobs: Int?
    public var wallSeconds: Double?
    public var mergedFrom: [String]?
    // fit (a multi-start fit's rows merge like a sweep's points)
    public var fit: FitDescription?
    // follow
    public var follow: Follow?
    public var scenario: String?
    public var bistable: [String: Bistable]?

    // Keys spelled out: a key strategy would also rewrite dictionary keys (observable names).
    enum CodingKeys: String, CodingKey {
        case program, version, command, model, units, created, solver, columns, runs, overrides, sensitivities, sweep,
            shard, totals,
            complete, jobs
        case wallSeconds = "wall_seconds"
        case mergedFrom = "merged_from"
        case follow, scenario, bistable, fit
    }

    public init(version: String, command: [String], definition d: ModelDefinition, sha256: String, units: Bool = true) {
        self.version = version
        self.command = command
        model = Model(name: d.name, file: d.file, sha256: sha256)
        if units { self.units = Units(time: d.timeUnit ?? "", concentration: d.concentrationUnit ?? "") }
    }

    /// The sidecar's text (pretty, sorted keys, a final newline).
    public func json() -> String { layOut(self, options: [.prettyPrinted, .sortedKeys]) + "\n" }

    /// Reads a sidecar; nil when it is missing or not one.
    public static func read(_ path: String) -> RunMetadata? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(RunMetadata.self, from: data)
    }

    static func now() -> String { ISO8601DateFormatter().string(from: Date()) }
}

/// What defines a sweep's numbers, as the sidecar records it and the fingerprint hashes it.
public struct SweepDescription: Codable, Sendable {
    public struct Method: Codable, Sendable {
        var name: String
        var samples: Int?
        var seed: String?
        var file: String?
        var sha256: String?
        /// Morris's grid levels (absent for other methods, so their fingerprints are unchanged).
        var levels: Int?
    }
    public struct Dimension: Codable, Sendable {
        var name: String
        var low, high: Double?
        var log: Bool?
        var count: Int?
    }
    public struct MetricEntry: Codable, Sendable {
        var column: String
        var definition: String
    }
    public struct Settings: Codable, Sendable {
        var tEnd, rtol, atol: Nullable<Double>
        var overrides: [String]
        enum CodingKeys: String, CodingKey {
            case tEnd = "t_end"
            case rtol, atol, overrides
        }
    }

    var modelSha256: String
    var method: Method
    var dimensions: [Dimension]
    var scenarios: [String]
    var metrics: [MetricEntry]
    public var points: Int
    var settings: Settings
    /// In the sidecar only (the hash of the rest).
    public var fingerprint: String?
    enum CodingKeys: String, CodingKey {
        case modelSha256 = "model_sha256"
        case method, dimensions, scenarios, metrics, points, settings, fingerprint
    }

    /// SHA-256 of the description without the fingerprint (sorted keys, compact).
    func hash() -> String {
        var bare = self
        bare.fingerprint = nil
        return SHA256.hex(Data(layOut(bare, options: [.sortedKeys]).utf8))
    }
}

/// What defines a multi-start fit's rows (`stat3sim fit`): the problem, the design of the starts
/// and the settings; the fingerprint hashes them, so that only rows of one fit resume or merge.
public struct FitDescription: Codable, Sendable {
    /// SHA-256 of the problem's YAML file and tables, concatenated in that order.
    public var problemSha256: String
    public var starts: Int
    public var seed: String
    public var rtol, atol: Double
    public var maxIterations: Int
    public var maxSteps: Int
    /// The estimated parameters, in the columns' order.
    public var parameters: [String]
    /// Scaling parameters fitted in closed form (`--hierarchical`); absent otherwise, so that
    /// fingerprints of fits without it stay what they were.
    public var hierarchical: Bool?
    public var fingerprint: String?
    enum CodingKeys: String, CodingKey {
        case problemSha256 = "problem_sha256"
        case starts, seed, rtol, atol
        case maxIterations = "max_iterations"
        case maxSteps = "max_steps"
        case parameters, hierarchical, fingerprint
    }

    public init(
        problemSha256: String, starts: Int, seed: UInt64, rtol: Double, atol: Double, maxIterations: Int,
        maxSteps: Int, parameters: [String], hierarchical: Bool = false
    ) {
        self.problemSha256 = problemSha256
        self.starts = starts
        self.seed = String(seed)
        self.rtol = rtol
        self.atol = atol
        self.maxIterations = maxIterations
        self.maxSteps = maxSteps
        self.parameters = parameters
        self.hierarchical = hierarchical ? true : nil
        fingerprint = nil
        fingerprint = SHA256.hex(Data(layOut(self, options: [.sortedKeys]).utf8))
    }
}

/// A value written as `null` when absent (where the file has always had the key).
public struct Nullable<Wrapped: Codable & Sendable>: Codable, Sendable {
    public var value: Wrapped?
    public init(_ value: Wrapped?) { self.value = value }
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        value = container.decodeNil() ? nil : try container.decode(Wrapped.self)
    }
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value { try container.encode(value) } else { try container.encodeNil() }
    }
}

/// JSON text of `value` laid out by JSONSerialization: its key order (case-insensitive) differs
/// from JSONEncoder's, and sidecars and sweep fingerprints have always been laid out this way.
func layOut<T: Encodable>(_ value: T, options: JSONSerialization.WritingOptions) -> String {
    guard let encoded = try? JSONEncoder().encode(value),
        let object = try? JSONSerialization.jsonObject(with: encoded),
        let data = try? JSONSerialization.data(withJSONObject: object, options: options)
    else { return "" }
    return String(decoding: data, as: UTF8.self)
}
