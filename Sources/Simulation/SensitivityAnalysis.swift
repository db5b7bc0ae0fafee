import Foundation

/// A global sensitivity analysis of a sweep whose plan is a Saltelli or a Morris design: it reads
/// the sweep's file back (so that resumed, sharded and merged sweeps are analysed alike) and turns
/// each metric's outputs into one row of indices per varied name.
public struct SensitivityAnalysis: Sendable {
    public enum Design: Sendable, Equatable {
        case sobol(SaltelliDesign)
        case morris(MorrisDesign)
    }

    public var design: Design
    public var names: [String]
    /// Bootstrap resamples of the confidence intervals, and the seed they are drawn from.
    public var resamples: Int
    public var seed: UInt64

    /// The analysis of `plan`, nil when its method is not a sensitivity design.
    public init?(plan: SweepPlan, resamples: Int, seed: UInt64) {
        if let saltelli = plan.saltelliDesign {
            design = .sobol(saltelli)
        } else if let morris = plan.morrisDesign {
            design = .morris(morris)
        } else {
            return nil
        }
        names = plan.names
        self.resamples = resamples
        self.seed = seed
    }

    /// The columns of the indices file.
    public var header: [String] {
        switch design {
        case .sobol: return ["metric", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
        case .morris: return ["metric", "parameter", "mu_star", "mu_star_conf", "sigma"]
        }
    }

    /// The CSV rows (each ending in a newline) of the metric whose column is `metric`, from its
    /// outputs at every point in point order.
    public func rows(metric: String, outputs: [Double]) -> String {
        var columns: [[Double]]
        switch design {
        case .sobol(let saltelli):
            let s = SobolIndices.estimate(outputs: outputs, design: saltelli, resamples: resamples, seed: seed)
            columns = [s.firstOrder, s.firstOrderConfidence, s.total, s.totalConfidence]
        case .morris(let morris):
            let e = MorrisEffects.estimate(outputs: outputs, design: morris, resamples: resamples, seed: seed)
            columns = [e.muStar, e.muStarConfidence, e.sigma]
        }
        var text = ""
        for (i, name) in names.enumerated() {
            text += OutputWriter.csvField(metric) + "," + OutputWriter.csvField(name)
            for column in columns { text += "," + column[i].exactText }
            text += "\n"
        }
        return text
    }
}

/// The metric values of a complete sweep file, point by point; the estimators need every point,
/// so the points without a value are listed by metric.
public struct PointOutputs: Sendable {
    /// values[m][p − 1]: metric m at point p (NaN where the file has none).
    public var values: [[Double]]
    /// missing[m]: the points (in order) without a value of metric m.
    public var missing: [[Int]]
    /// The message of each failed point.
    public var messages: [Int: String]

    /// Reads `path`, which must hold every point of `specification` in order under its header.
    public static func read(_ path: String, specification: SweepSpecification) throws -> PointOutputs {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw SimulationError("cannot read \(path).")
        }
        let header = specification.header
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard !lines.isEmpty, OutputWriter.splitCSV(String(lines.removeFirst())) == header else {
            throw SimulationError("\(path) does not have this analysis's columns (\(header.joined(separator: ","))).")
        }
        let total = specification.plan.pointCount
        guard lines.count == total else {
            throw SimulationError("\(path) has \(lines.count) rows; this analysis has \(total) points.")
        }
        let metricCount = specification.metrics.count
        let firstMetric = header.count - metricCount
        let statusColumn = header.firstIndex(of: "status")!
        var outputs = PointOutputs(
            values: .init(repeating: .init(repeating: .nan, count: total), count: metricCount),
            missing: .init(repeating: [], count: metricCount), messages: [:])
        for (k, line) in lines.enumerated() {
            let fields = OutputWriter.splitCSV(String(line))
            guard fields.count == header.count, Int(fields[0]) == k + 1 else {
                throw SimulationError("\(path): row \(k + 2) is not point \(k + 1) of this analysis.")
            }
            if fields[statusColumn] == "failed" { outputs.messages[k + 1] = fields[statusColumn + 1] }
            for m in 0..<metricCount {
                if let x = Double(fields[firstMetric + m]), x.isFinite {
                    outputs.values[m][k] = x
                } else {
                    outputs.missing[m].append(k + 1)
                }
            }
        }
        return outputs
    }

    /// Why metric `m` has no indices, or nil when every point has its value: how many points lack
    /// it, the first ten, and the first failed point's message.
    public func refusal(metric m: Int, column: String) -> String? {
        let points = missing[m]
        guard let first = points.first else { return nil }
        let list = points.prefix(10).map(String.init).joined(separator: ", ") + (points.count > 10 ? ", …" : "")
        var text =
            "\(column): no value at \(points.count) of \(values[m].count) points (\(list)); the indices need every "
            + "point, so none are computed for it"
        if let failed = points.first(where: { messages[$0] != nil }), let message = messages[failed] {
            text += " (point \(failed) failed: \(message))"
        } else {
            text += " (point \(first) has no value: the metric is undefined there, e.g. a half_life never reached)"
        }
        return text + "."
    }
}
