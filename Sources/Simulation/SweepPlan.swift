import Foundation
import ReactionModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One varied quantity: `NAME=LO:HI:N[:log]` for grids, `NAME=LO:HI[:log]` for samples.
public struct SweepDimension: Sendable, Equatable {
    public var name: String
    public var low: Double
    public var high: Double
    /// Grid points along this dimension (nil for sampled sweeps).
    public var count: Int?
    public var logarithmic: Bool

    /// The value at fraction u ∈ [0, 1] of the range (geometric for log ranges).
    func value(at u: Double) -> Double {
        logarithmic ? exp(log(low) + u * (log(high) - log(low))) : low + u * (high - low)
    }

    /// Grid value k of `count` (ends included; one point sits at `low`).
    public func gridValue(_ k: Int) -> Double {
        guard let count, count > 1, k > 0 else { return low }
        if k == count - 1 { return high }
        return value(at: Double(k) / Double(count - 1))
    }

    init(name: String, low: Double, high: Double, count: Int?, logarithmic: Bool) {
        self.name = name
        self.low = low
        self.high = high
        self.count = count
        self.logarithmic = logarithmic
    }

    /// The dimension a range of the model's `definition` asks for; `grid` says whether the sweep is
    /// a grid (the range gives its number of points) or sampled (it does not). Messages say what is
    /// wrong without naming where the range came from: the caller adds that.
    public init(_ range: SweepRange, grid: Bool, definition: ModelDefinition) throws {
        if grid && range.count == nil { throw SimulationError("write \(SweepRange.gridSyntax).") }
        if !grid && range.count != nil {
            throw SimulationError(
                "write \(SweepRange.sampleSyntax) (the number of sampled points is not part of the range).")
        }
        try Self.checkSettable(range.name, flag: nil, definition: definition)
        self.init(
            name: range.name, low: range.low, high: range.high, count: range.count, logarithmic: range.logarithmic)
    }

    /// `flag` (nil: none) starts the message: where the name came from.
    static func checkSettable(_ name: String, flag: String?, definition d: ModelDefinition) throws {
        let origin = flag.map { "\($0): " } ?? ""
        switch d.symbol(named: name) {
        case .parameter, .species, .compartment: return
        case .observable, .time:
            throw SimulationError(
                "\(origin)'\(excerpt(name))' is \(name == "t" ? "time" : "an observable"); sweeps vary parameters, "
                    + "initial concentrations and compartment sizes."
            )
        case nil:
            throw SimulationError(origin + Simulator.noSettable(named: name, in: d))
        }
    }
}

/// Which points a sweep visits. Points are numbered from 1; with scenarios, each parameter set
/// is followed by its scenarios (point = (set − 1)·S + scenario). Any point can be produced from
/// its number alone, so shards, resumes and parallel workers agree without sharing state.
public struct SweepPlan: Sendable {
    public enum Method: Sendable, Equatable {
        case grid
        case random(samples: Int, seed: UInt64)
        case latinHypercube(samples: Int, seed: UInt64)
        case sobol(samples: Int)
        case points(file: String, sha256: String)
        /// Saltelli's design over N base rows of a Sobol' sequence (`SaltelliDesign`), for `gsa`.
        case saltelli(samples: Int)
        /// Morris's trajectories on a grid of `levels` levels (`MorrisDesign`), for `gsa`.
        case morris(trajectories: Int, levels: Int, seed: UInt64)

        public var name: String {
            switch self {
            case .grid: return "grid"
            case .random: return "random"
            case .latinHypercube: return "lhs"
            case .sobol: return "sobol"
            case .points: return "points"
            case .saltelli: return "saltelli"
            case .morris: return "morris"
            }
        }
    }

    public var names: [String]
    public var dimensions: [SweepDimension]
    public var method: Method
    /// Scenarios as one more dimension; `[nil]` for the default run only.
    public var scenarios: [String?]
    /// Explicit parameter sets (points files).
    var explicitSets: [[Double]] = []
    /// Latin hypercube strata: one permutation of 0..<N per dimension.
    var strata: [[Int32]] = []
    /// The grid's parameter sets (the product of the counts, checked when the plan is made).
    var gridCount = 1
    /// The parameter sets of a Saltelli or Morris design (checked when the plan is made).
    var designCount = 0
    /// The 2d-dimensional base sequence of a Saltelli design, built once.
    var saltelliBase: SobolSequence? = nil
    /// The d-dimensional sequence of a `.sobol` plan, built once (not once per point).
    var sobolSequence: SobolSequence? = nil

    public var parameterSetCount: Int {
        switch method {
        case .grid: return gridCount
        case .random(let n, _), .latinHypercube(let n, _), .sobol(let n): return n
        case .points: return explicitSets.count
        case .saltelli, .morris: return designCount
        }
    }

    /// The Saltelli design of a `.saltelli` plan.
    public var saltelliDesign: SaltelliDesign? {
        guard case .saltelli(let n) = method else { return nil }
        return SaltelliDesign(baseSamples: n, dimensions: dimensions.count)
    }

    /// The Morris design of a `.morris` plan.
    public var morrisDesign: MorrisDesign? {
        guard case .morris(let r, let levels, let seed) = method else { return nil }
        return MorrisDesign(trajectories: r, dimensions: dimensions.count, levels: levels, seed: seed)
    }

    public var pointCount: Int { parameterSetCount * scenarios.count }

    /// `maxPoints` (nil: `OutputSize.defaultMaxRows`) refuses a sweep too large to be meant
    /// before anything is allocated for it.
    public init(dimensions: [SweepDimension], method: Method, scenarios: [String?], maxPoints: Int? = nil) throws {
        self.dimensions = dimensions
        self.names = dimensions.map(\.name)
        self.method = method
        self.scenarios = scenarios
        // Point counts multiply: checked, so that a product past Int.max is refused, not a trap.
        var sets = 1
        switch method {
        case .grid:
            for d in dimensions {
                let (product, overflow) = sets.multipliedReportingOverflow(by: d.count ?? 1)
                if overflow {
                    let factors = dimensions.map { String($0.count ?? 1) }.joined(separator: " × ")
                    let size =
                        dimensions.reduce(1.0) { $0 * Double($1.count ?? 1) } * Double(Swift.max(scenarios.count, 1))
                    throw SimulationError(
                        "the sweep would have "
                            + "\(factors)\(scenarios.count > 1 ? " × \(scenarios.count) scenarios" : "") = "
                            + "\(String(format: "%.2e", size)) points, more than can be counted; vary fewer values."
                    )
                }
                sets = product
            }
            gridCount = sets
        case .random(let n, _), .latinHypercube(let n, _), .sobol(let n): sets = n
        case .points: sets = 0
        case .saltelli(let n):
            sets = try Self.checkedCount(
                SaltelliDesign(baseSamples: n, dimensions: dimensions.count).setCount, n, "× (d + 2)", dimensions)
            designCount = sets
        case .morris(let r, let levels, let seed):
            let design = MorrisDesign(trajectories: r, dimensions: dimensions.count, levels: levels, seed: seed)
            sets = try Self.checkedCount(design.setCount, r, "× (d + 1)", dimensions)
            designCount = sets
        }
        let (points, overflow) = sets.multipliedReportingOverflow(by: Swift.max(scenarios.count, 1))
        if overflow {
            throw SimulationError(
                "the sweep would have \(sets) × \(scenarios.count) = "
                    + "\(String(format: "%.2e", Double(sets) * Double(scenarios.count))) points, more than can be "
                    + "counted; vary fewer values."
            )
        }
        try OutputSize.check(
            rows: points, fields: dimensions.count + 3 + (scenarios.count > 1 ? 1 : 0), limit: maxPoints,
            what: "the sweep",
            remedy: "vary fewer values (--shard I/N splits a large sweep over machines)")
        if case .latinHypercube(let n, _) = method, n > Int(Int32.max) {
            throw SimulationError(
                "--samples \(n): Latin hypercube sampling takes at most \(Int32.max) samples; use --method sobol or "
                    + "random for more."
            )
        }
        if case .latinHypercube(let n, let seed) = method {
            var rng = RandomGenerator(seed: seed)
            strata = dimensions.map { _ in
                var permutation = (0..<n).map(Int32.init)
                for i in stride(from: n - 1, to: 0, by: -1) { permutation.swapAt(i, rng.integer(below: i + 1)) }
                return permutation
            }
        }
        if case .saltelli = method {
            guard dimensions.count <= SaltelliDesign.maxDimensions else {
                throw SimulationError(
                    "--method sobol (Saltelli's design, a Sobol' sequence in twice as many dimensions) supports up to "
                        + "\(SaltelliDesign.maxDimensions) varied names, not \(dimensions.count); use --method morris."
                )
            }
            saltelliBase = SobolSequence(dimensions: 2 * dimensions.count)
        }
        if case .sobol = method, dimensions.count > SobolSequence.maxDimensions {
            throw SimulationError(
                "--method sobol supports up to \(SobolSequence.maxDimensions) varied names, not \(dimensions.count); "
                    + "use lhs or random."
            )
        }
        if case .sobol = method { sobolSequence = SobolSequence(dimensions: dimensions.count) }
    }

    /// A plan over the rows of a CSV file with one column per name.
    public static func fromPointsFile(_ path: String, definition: ModelDefinition, scenarios: [String?]) throws
        -> SweepPlan
    {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw SimulationError("--points \(path): cannot read the file.")
        }
        var lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map(String.init).filter {
            !$0.trimmingCharacters(in: .whitespaces).isEmpty
        }
        guard !lines.isEmpty else {
            throw SimulationError("--points \(path): the file is empty; it needs a header row of names.")
        }
        let names = lines.removeFirst().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for name in names { try SweepDimension.checkSettable(name, flag: "--points \(path)", definition: definition) }
        var sets: [[Double]] = []
        for (k, line) in lines.enumerated() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard fields.count == names.count else {
                throw SimulationError(
                    "--points \(path): row \(k + 2) has \(fields.count) values for \(names.count) columns.")
            }
            sets.append(
                try fields.map { field in
                    guard let x = Double(field), x.isFinite else {
                        throw SimulationError(
                            "--points \(path): row \(k + 2) has '\(excerpt(field))', which is not a finite number.")
                    }
                    return x
                })
        }
        var plan = try SweepPlan(
            dimensions: names.map { SweepDimension(name: $0, low: 0, high: 0, count: nil, logarithmic: false) },
            method: .points(file: path, sha256: SHA256.hex(Data(text.utf8))), scenarios: scenarios)
        plan.explicitSets = sets
        return plan
    }

    /// The values of parameter set `set` (0-based).
    public func values(ofSet set: Int) -> [Double] {
        switch method {
        case .grid:
            // The last name varies fastest.
            var rest = set
            var result = [Double](repeating: 0, count: dimensions.count)
            for (d, dimension) in dimensions.enumerated().reversed() {
                let n = dimension.count ?? 1
                result[d] = dimension.gridValue(rest % n)
                rest /= n
            }
            return result
        case .random(_, let seed):
            // Each set draws from its own stream, so that any set can be produced alone.
            var rng = RandomGenerator(seed: seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(set + 1))
            return dimensions.map { $0.value(at: rng.uniform()) }
        case .latinHypercube(let n, let seed):
            var rng = RandomGenerator(seed: seed ^ (0xD1B5_4A32_D192_ED03 &* UInt64(set + 1)))
            return dimensions.enumerated().map { d, dimension in
                dimension.value(at: (Double(strata[d][set]) + rng.uniform()) / Double(n))
            }
        case .sobol:
            let u = sobolSequence!.point(set + 1)
            return dimensions.enumerated().map { d, dimension in dimension.value(at: u[d]) }
        case .points:
            return explicitSets[set]
        case .saltelli(let n):
            let u = SaltelliDesign(baseSamples: n, dimensions: dimensions.count).unitPoint(
                ofSet: set, sequence: saltelliBase!)
            return dimensions.enumerated().map { d, dimension in dimension.value(at: u[d]) }
        case .morris:
            let u = morrisDesign!.unitPoint(ofSet: set)
            return dimensions.enumerated().map { d, dimension in dimension.value(at: u[d]) }
        }
    }

    /// The parameter sets of a design (N·(d + 2) or r·(d + 1)), or an error saying it is too many.
    static func checkedCount(_ count: Int?, _ n: Int, _ factor: String, _ dimensions: [SweepDimension]) throws -> Int {
        guard let count else {
            throw SimulationError(
                "the analysis would have \(n) \(factor) points with d = \(dimensions.count), more than can be "
                    + "counted; give a smaller --samples.")
        }
        return count
    }

    /// Point number (1-based) → (parameter values, scenario).
    public func point(_ number: Int) -> (values: [Double], scenario: String?) {
        let index = number - 1
        return (values(ofSet: index / scenarios.count), scenarios[index % scenarios.count])
    }
}

extension SobolSequence {
    /// Point k (k ≥ 1 skips the origin) in Gray-code order, computed directly: the xor of the
    /// direction numbers of the bits of gray(k) = k ^ (k >> 1).
    public func point(_ k: Int) -> [Double] {
        let gray = UInt32(truncatingIfNeeded: k ^ (k >> 1))
        return (0..<dimensions).map { d in
            var x: UInt32 = 0
            var bits = gray
            var c = 0
            while bits != 0 {
                if bits & 1 == 1 { x ^= directions[d][c] }
                bits >>= 1
                c += 1
            }
            return Double(x) * 0x1.0p-32
        }
    }
}
