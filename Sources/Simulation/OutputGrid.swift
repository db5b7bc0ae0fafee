import Foundation
import ReactionModel

/// The output times of a run, computed on demand: t_start, t_start + Δ, …, t_end (the last
/// interval may be shorter), or explicit times. An interval grid is never stored, so a run's
/// memory does not grow with its number of rows. Element k is bit for bit the k-th time of
/// `ModelDefinition.Simulation.outputTimes`.
public struct OutputGrid: RandomAccessCollection, Sendable {
    enum Storage: Sendable {
        case uniform(start: Double, interval: Double, end: Double)
        case explicit([Double])
    }

    let storage: Storage
    public let startIndex = 0
    public let endIndex: Int

    /// Grids beyond this many rows are refused outright: past 2^53 the times stop being distinct
    /// doubles, and no file could hold them.
    static let countable = 1 << 53

    public init(explicit times: [Double]) {
        storage = .explicit(times)
        endIndex = times.count
    }

    /// An interval grid over [start, end] (end > start, both finite; interval > 0, finite).
    public init(start: Double, end: Double, interval: Double) throws {
        storage = .uniform(start: start, interval: interval, end: end)
        // The stored grid's rule: times start + k·Δ while below end − 1e-9·Δ, then end. The
        // predicate is monotone in k, so the first k past the threshold is found by bisection
        // from an estimate (no loop over the rows).
        let threshold = end - 1e-9 * interval
        func time(_ k: Int) -> Double { start + Double(k) * interval }
        let estimate = (threshold - start) / interval
        guard estimate.isFinite, estimate < Double(OutputGrid.countable) / 2 else {
            throw SimulationError(
                "the output grid would have "
                    + "\(estimate.isFinite ? "about " : "")\(OutputGrid.describe(rows: Swift.max(estimate, 0) + 1)) "
                    + "rows (t = \(start.plainText)…\(end.plainText) every \(interval.plainText)), more than "
                    + "any file can hold; give a larger --output-interval."
            )
        }
        var low = 0
        var high = Swift.min(OutputGrid.countable, Swift.max(2, 2 * Int(Swift.max(estimate, 0).rounded(.up)) + 2))
        guard time(high) >= threshold else {
            throw SimulationError(
                "the output grid would have more than \(high) rows (t = \(start.plainText)…\(end.plainText) "
                    + "every \(interval.plainText)), more than any file can hold; give a larger --output-interval."
            )
        }
        while low < high {
            let mid = low + (high - low) / 2
            if time(mid) >= threshold { high = mid } else { low = mid + 1 }
        }
        endIndex = low + 1
    }

    public subscript(k: Int) -> Double {
        switch storage {
        case .uniform(let start, let interval, let end): return k == endIndex - 1 ? end : start + Double(k) * interval
        case .explicit(let times): return times[k]
        }
    }

    /// The index of the first time greater than `t`.
    func firstIndex(after t: Double) -> Int {
        var lo = 0
        var hi = endIndex
        while lo < hi {
            let mid = (lo + hi) / 2
            if self[mid] <= t { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// A row count for messages: exact below 10^15, else in powers of ten.
    static func describe(rows: Double) -> String {
        guard rows.isFinite else { return "more than 1e308" }
        return rows < 1e15 ? String(Int(rows)) : String(format: "%.1e", rows)
    }
}

/// How big an output would be, and the refusal of outputs too big to be meant.
public enum OutputSize {
    /// Rows an output may have unless asked for more (`--max-rows`).
    public static let defaultMaxRows = 100_000_000
    /// Typical bytes of one CSV field with its comma: shortest round-trip numbers average
    /// 16–19 bytes in the files of results/.
    public static let bytesPerField = 18.0

    public static func bytes(rows: Int, fields: Int) -> Double { Double(rows) * Double(fields) * bytesPerField }

    /// "1.2 GB", "340 kB": decimal units, two or three significant digits.
    public static func describe(bytes: Double) -> String {
        let units = ["bytes", "kB", "MB", "GB", "TB", "PB", "EB"]
        var value = bytes
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        if unit == 0 { return "\(Int(value)) bytes" }
        return String(format: value < 10 ? "%.1f" : "%.0f", value) + " " + units[unit]
    }

    /// Throws the one-sentence refusal when `rows` exceed `limit`: what would be written and how
    /// to ask for it anyway (`remedy` names the flag that makes it smaller).
    public static func check(rows: Int, fields: Int, limit: Int?, what: String, remedy: String) throws {
        let limit = limit ?? defaultMaxRows
        guard rows > limit else { return }
        throw SimulationError(
            "\(what) would write \(rows) rows (about \(describe(bytes: bytes(rows: rows, fields: fields))) of CSV), "
                + "more than the limit of \(limit); \(remedy), or give --max-rows \(rows) to write them anyway."
        )
    }
}

extension OutputSize {
    /// Throws when the estimated CSV would not fit in `free` bytes of `folder`.
    public static func checkFits(rows: Int, fields: Int, free: Double, folder: String, what: String) throws {
        let size = bytes(rows: rows, fields: fields)
        guard size > free else { return }
        throw SimulationError(
            "\(what) would write \(rows) rows (about \(describe(bytes: size)) of CSV), more than the "
                + "\(describe(bytes: free)) free in \(folder); give a larger --output-interval (or a shorter --t-end), "
                + "or an --out on a disk with more space."
        )
    }
}
