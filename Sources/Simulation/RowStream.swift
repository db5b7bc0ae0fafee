import Foundation
import ODESolver

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// CSV text to a file descriptor through one fixed buffer, flushed when full: the memory of a
/// streamed run does not grow with its rows.
public final class CSVStream {
    let descriptor: Int32
    /// The destination as the user named it, for messages.
    let path: String
    static let capacity = 1 << 16
    let buffer: UnsafeMutablePointer<UInt8>
    var used = 0
    public private(set) var bytesWritten = 0

    public init(fileDescriptor: Int32, path: String) {
        descriptor = fileDescriptor
        self.path = path
        buffer = .allocate(capacity: CSVStream.capacity)
    }

    deinit { buffer.deallocate() }

    /// Appends text (headers; not for rows).
    public func write(_ text: String) throws {
        var text = text
        try text.withUTF8 { bytes in
            for byte in bytes {
                if used == CSVStream.capacity { try flush() }
                buffer[used] = byte
                used += 1
            }
        }
    }

    @inline(__always) func room(_ bytes: Int) throws {
        if used + bytes > CSVStream.capacity { try flush() }
    }

    /// `x.exactText` as bytes.
    @inline(__always) func append(number x: Double) throws {
        try room(32)
        if x.isFinite {
            // `Double.write(to:)` hands its digits (those of `description`) to `_writeASCII`
            // from a stack buffer: no String is made, so a row allocates nothing.
            var target = Target(stream: self)
            x.write(to: &target)
        } else {
            for byte in (x.isNaN ? "nan" : x > 0 ? "inf" : "-inf").utf8 {
                buffer[used] = byte
                used += 1
            }
        }
    }

    @inline(__always) func append(byte: UInt8) throws {
        try room(1)
        buffer[used] = byte
        used += 1
    }

    /// One row: `label` (already a CSV field and its comma, or empty), time, values.
    func appendRow(label: [UInt8], time: Double, values: UnsafePointer<Double>, count: Int) throws {
        for byte in label { try append(byte: byte) }
        try append(number: time)
        for c in 0..<count {
            try append(byte: UInt8(ascii: ","))
            try append(number: values[c])
        }
        try append(byte: UInt8(ascii: "\n"))
    }

    /// Copies text into the buffer (`room` was made for it).
    struct Target: TextOutputStream {
        let stream: CSVStream
        mutating func write(_ string: String) {
            for byte in string.utf8 {
                stream.buffer[stream.used] = byte
                stream.used += 1
            }
        }
        mutating func _writeASCII(_ bytes: UnsafeBufferPointer<UInt8>) {
            (stream.buffer + stream.used).update(from: bytes.baseAddress!, count: bytes.count)
            stream.used += bytes.count
        }
    }

    public func flush() throws {
        var offset = 0
        while offset < used {
            let n = Glibc.write(descriptor, buffer + offset, used - offset)
            if n < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                used = 0
                throw SimulationError("cannot write \(path): \(reason).")
            }
            offset += n
        }
        bytesWritten += used
        used = 0
    }
}

/// What the grid recorder hands each output row to.
protocol RowSink {
    mutating func row(_ t: Double, _ values: UnsafePointer<Double>, count: Int) throws
}

/// Rows kept in memory, row-major (time courses, sweep trajectories).
struct StoredRows: RowSink {
    var values: [Double] = []

    init(capacity: Int) { values.reserveCapacity(capacity) }

    mutating func row(_ t: Double, _ values: UnsafePointer<Double>, count: Int) throws {
        self.values.append(contentsOf: UnsafeBufferPointer(start: values, count: count))
    }
}

/// Rows written as they come, with the summary accumulated on the way (peak, its first time,
/// final value of every column).
struct StreamedRows: RowSink {
    let stream: CSVStream
    let label: [UInt8]
    var rows = 0
    var peak: [Double], peakTime: [Double], final: [Double]

    init(stream: CSVStream, label: String?, width: Int) {
        self.stream = stream
        self.label = label.map { Array((OutputWriter.csvField($0) + ",").utf8) } ?? []
        peak = [Double](repeating: .nan, count: width)
        peakTime = peak
        final = peak
    }

    mutating func row(_ t: Double, _ values: UnsafePointer<Double>, count: Int) throws {
        try stream.appendRow(label: label, time: t, values: values, count: count)
        // As TimeCourse.peak: the first row, then any strictly larger value.
        for c in 0..<count {
            let v = values[c]
            if rows == 0 || v > peak[c] {
                peak[c] = v
                peakTime[c] = t
            }
            final[c] = v
        }
        rows += 1
    }
}

/// A streamed run's account: what a summary and the sidecar need, without the rows.
public struct RunSummary: Sendable {
    public var scenario: String?
    /// Column names after `time`.
    public var columns: [String]
    public var rows: Int
    public var firstTime: Double
    public var lastTime: Double
    public var statistics: SolverStatistics
    /// The sensitivities' own work, when the run integrated them.
    public var sensitivityStatistics: SensitivityStatistics? = nil
    var peaks: [Double], peakTimes: [Double], finals: [Double]

    /// Largest value of a column and the first output time it is reached.
    public func peak(of name: String) -> (value: Double, time: Double)? {
        guard rows > 0, let c = columns.firstIndex(of: name) else { return nil }
        return (peaks[c], peakTimes[c])
    }

    public func final(of name: String) -> Double? {
        guard rows > 0, let c = columns.firstIndex(of: name) else { return nil }
        return finals[c]
    }
}

extension TimeCourse {
    /// The same account of a stored time course.
    public var summary: RunSummary {
        var peaks: [Double] = []
        var times: [Double] = []
        var finals: [Double] = []
        for name in columns {
            let p = peak(of: name)
            peaks.append(p?.value ?? .nan)
            times.append(p?.time ?? .nan)
            finals.append(column(named: name)?.last ?? .nan)
        }
        return RunSummary(
            scenario: scenario, columns: columns, rows: self.times.count, firstTime: self.times.first ?? .nan,
            lastTime: self.times.last ?? .nan, statistics: statistics, peaks: peaks, peakTimes: times, finals: finals)
    }
}

/// Raised when the stop flag is set during a streamed run (SIGINT, SIGTERM).
public struct Interrupted: Error, Sendable {}
