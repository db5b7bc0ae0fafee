import Foundation
import ODESolver
import ReactionModel

#if canImport(Glibc)
    import Glibc
#endif

/// Writers for the formats of DESIGN.md: wide CSV with shortest round-trip numbers, and the
/// `.meta.json` sidecar. Files are written to a temporary name and renamed when complete, so an
/// interrupted run never leaves a truncated file that looks whole.
public enum OutputWriter {
    /// The CSV text of one or several time courses; with several (or `scenarioColumn`), a leading
    /// `scenario` column names each row's scenario.
    public static func csv(_ courses: [TimeCourse], scenarioColumn: Bool) -> String {
        guard let first = courses.first else { return "" }
        var text = csvHeader(columns: first.columns, scenarioColumn: scenarioColumn)
        for course in courses {
            let label = csvField(course.scenario ?? "default")
            for row in course.times.indices {
                if scenarioColumn { text += label + "," }
                text += course.times[row].exactText
                for c in course.columns.indices {
                    text += ","
                    text += course.value(row: row, column: c).exactText
                }
                text += "\n"
            }
        }
        return text
    }

    /// The header line of a time-course CSV: [scenario,] time, the columns.
    public static func csvHeader(columns: [String], scenarioColumn: Bool) -> String {
        (([scenarioColumn ? "scenario" : nil, "time"].compactMap { $0 } + columns.map(csvField)).joined(separator: ","))
            + "\n"
    }

    /// Splits one CSV line into fields, honouring double-quoted fields with "" escapes.
    public static func splitCSV(_ line: String) -> [String] {
        var fields: [String] = []
        var field = ""
        var quoted = false
        var iterator = line.makeIterator()
        while let c = iterator.next() {
            if quoted {
                if c == "\"" {
                    if let d = iterator.next() {
                        if d == "\"" {
                            field.append("\"")
                        } else {
                            quoted = false
                            if d == "," {
                                fields.append(field)
                                field = ""
                            } else {
                                field.append(d)
                            }
                        }
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                fields.append(field)
                field = ""
            } else {
                field.append(c)
            }
        }
        fields.append(field)
        return fields
    }

    public static func csvField(_ s: String) -> String {
        s.contains(",") || s.contains("\"") || s.contains("\n")
            ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"").replacingOccurrences(of: "\n", with: " ") + "\"" : s
    }

    /// Whether `path` exists and is not a regular file (`/dev/null`, a FIFO, a terminal). Output goes
    /// straight into such a file, never through a temporary file renamed over it (as root, that
    /// would replace `/dev/null` itself with a file), and a sidecar beside it goes to `/dev/null`.
    public static func isSpecialFile(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && (status.st_mode & S_IFMT) != S_IFREG && (status.st_mode & S_IFMT) != S_IFDIR
    }

    /// The file beside `output` named as it is, without `.csv`, plus `suffix` (`fit.csv` →
    /// `fit_best.tsv`); `/dev/null` beside a device or FIFO, so that nothing is written into `/dev`.
    public static func companionPath(of output: String, suffix: String) -> String {
        if isSpecialFile(output) { return "/dev/null" }
        return (output.hasSuffix(".csv") ? String(output.dropLast(4)) : output) + suffix
    }

    /// Writes `contents` to `path` atomically: a temporary file beside it, then a rename.
    public static func writeAtomically(_ contents: String, to path: String) throws {
        if isSpecialFile(path) {
            // A device or a FIFO is written into: renaming a file over it would replace it.
            guard let handle = FileHandle(forWritingAtPath: path) else {
                throw SimulationError("cannot write \(path).")
            }
            defer { try? handle.close() }
            do { try handle.write(contentsOf: Data(contents.utf8)) } catch {
                throw SimulationError("cannot write \(path): \(error.localizedDescription)")
            }
            return
        }
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let temporary = directory.appendingPathComponent(
            ".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try Data(contents.utf8).write(to: temporary)
            // rename(2) replaces an existing file atomically.
            guard rename(temporary.path, url.path) == 0 else {
                throw SimulationError("cannot rename \(temporary.path) to \(path): \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw SimulationError("cannot write \(path): \(error.localizedDescription)")
        }
    }

    /// The sidecar: model identity, run settings, solver statistics, program version, units.
    public static func metadata(
        definition: ModelDefinition, source: String, courses: [TimeCourse],
        settings: RunSettings, programVersion: String, command: [String]
    ) -> String {
        metadata(
            definition: definition, source: source, runs: courses.map(\.summary), settings: settings,
            programVersion: programVersion, command: command)
    }

    /// The sidecar of streamed runs.
    public static func metadata(
        definition: ModelDefinition, source: String, runs: [RunSummary],
        settings: RunSettings, programVersion: String, command: [String]
    ) -> String {
        var meta = RunMetadata(
            version: programVersion, command: command, definition: definition, sha256: SHA256.hex(Data(source.utf8)))
        meta.solver = .init(
            method: "BDF (variable order 1-5, Nordsieck, CVODE rules)",
            rtol: settings.rtol ?? definition.simulation.rtol, atol: settings.atol ?? definition.simulation.atol)
        if settings.atol == nil {
            let own = definition.species.compactMap { s in s.absoluteTolerance.map { (s.name, $0) } }
            if !own.isEmpty { meta.solver?.atolBySpecies = Dictionary(own) { a, _ in a } }
        }
        meta.columns = ["time"] + (runs.first?.columns ?? [])
        meta.runs = runs.map {
            .init(scenario: $0.scenario ?? "default", rows: $0.rows, solverStatistics: .init($0.statistics))
        }
        meta.created = RunMetadata.now()
        if !settings.overrides.isEmpty {
            var overrides: [String: Double] = [:]
            for (k, v) in settings.overrides { overrides[k] = v }
            meta.overrides = overrides
        }
        if let request = settings.sensitivities {
            meta.sensitivities = .init(
                parameters: request.parameters, normalized: request.normalized, errorControl: request.errorControl)
        }
        return meta.json()
    }
}

/// SHA-256 (FIPS 180-4), for the model hash in metadata: Foundation on Linux has no digest API
/// and a 60-line implementation beats a cryptography dependency for one hash per run.
enum SHA256 {
    static let k: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]

    static func hex(_ data: Data) -> String {
        var h: [UInt32] = [
            0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
        ]
        var message = [UInt8](data)
        let bitLength = UInt64(message.count) * 8
        message.append(0x80)
        while message.count % 64 != 56 { message.append(0) }
        for i in (0..<8).reversed() { message.append(UInt8((bitLength >> (UInt64(i) * 8)) & 0xff)) }
        func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
        var w = [UInt32](repeating: 0, count: 64)
        for chunk in stride(from: 0, to: message.count, by: 64) {
            for i in 0..<16 {
                w[i] = (0..<4).reduce(UInt32(0)) { ($0 << 8) | UInt32(message[chunk + 4 * i + $1]) }
            }
            for i in 16..<64 {
                let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
                let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
            for i in 0..<64 {
                let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                let ch = (e & f) ^ (~e & g)
                let t1 = hh &+ s1 &+ ch &+ k[i] &+ w[i]
                let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                let maj = (a & b) ^ (a & c) ^ (b & c)
                let t2 = s0 &+ maj
                (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
            }
            h = [h[0] &+ a, h[1] &+ b, h[2] &+ c, h[3] &+ d, h[4] &+ e, h[5] &+ f, h[6] &+ g, h[7] &+ hh]
        }
        return h.map { String(format: "%08x", $0) }.joined()
    }
}

/// SHA-256 of a text, for callers outside this module (model hashes in metadata).
public enum SHA256Hex {
    public static func of(_ text: String) -> String { SHA256.hex(Data(text.utf8)) }
}

/// An output file written under a temporary name beside its destination and renamed when
/// complete; `discard` removes the temporary file and any folder `create` made, so a failed or
/// interrupted run leaves nothing behind.
public final class OutputFile {
    public let destination: String
    let temporary: String
    public let descriptor: Int32
    /// Folders made for the destination, outermost first.
    let createdFolders: [String]
    var open = true

    init(destination: String, temporary: String, descriptor: Int32, createdFolders: [String]) {
        self.destination = destination
        self.temporary = temporary
        self.descriptor = descriptor
        self.createdFolders = createdFolders
    }

    public static func create(_ destination: String) throws -> OutputFile {
        if OutputWriter.isSpecialFile(destination) {
            // Written into directly (see `OutputWriter.isSpecialFile`): commit only closes it.
            let fd = Glibc.open(destination, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else {
                throw SimulationError("cannot write \(destination): \(String(cString: strerror(errno))).")
            }
            return OutputFile(destination: destination, temporary: destination, descriptor: fd, createdFolders: [])
        }
        let url = URL(fileURLWithPath: destination)
        let folder = url.deletingLastPathComponent()
        var missing: [String] = []
        var probe = folder
        while !FileManager.default.fileExists(atPath: probe.path) && probe.path != "/" {
            missing.insert(probe.path, at: 0)
            probe = probe.deletingLastPathComponent()
        }
        var made: [String] = []
        func undo() { for path in made.reversed() { rmdir(path) } }
        for path in missing {
            guard mkdir(path, 0o777) == 0 || errno == EEXIST else {
                let reason = String(cString: strerror(errno))
                undo()
                throw SimulationError("cannot write \(destination): cannot create the folder \(path): \(reason).")
            }
            made.append(path)
        }
        let temporary = folder.appendingPathComponent(
            ".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)"
        ).path
        let fd = Glibc.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            undo()
            throw SimulationError("cannot write \(destination): \(reason).")
        }
        return OutputFile(destination: destination, temporary: temporary, descriptor: fd, createdFolders: made)
    }

    /// Closes the file and renames it to its destination (rename(2) replaces atomically).
    public func commit() throws {
        guard open else { return }
        open = false
        guard close(descriptor) == 0, temporary == destination || rename(temporary, destination) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw SimulationError("cannot write \(destination): \(reason).")
        }
    }

    /// Removes the temporary file and the folders made for it.
    public func discard() {
        if open {
            close(descriptor)
            open = false
        }
        if temporary == destination { return }
        unlink(temporary)
        for path in createdFolders.reversed() { rmdir(path) }
    }

    /// Bytes free for an unprivileged user in the folder that would hold `destination` (its
    /// nearest existing ancestor when the folder does not exist yet); nil when unknown.
    public static func freeBytes(for destination: String) -> Double? {
        var folder = URL(fileURLWithPath: destination).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: folder.path) && folder.path != "/" {
            folder = folder.deletingLastPathComponent()
        }
        var info = statvfs()
        guard statvfs(folder.path, &info) == 0 else { return nil }
        return Double(info.f_bavail) * Double(info.f_frsize)
    }

    /// Refuses an output the destination's disk cannot hold.
    public static func checkSpace(rows: Int, fields: Int, destination: String, what: String) throws {
        guard let free = freeBytes(for: destination) else { return }
        let folder = URL(fileURLWithPath: destination).deletingLastPathComponent().path
        try OutputSize.checkFits(rows: rows, fields: fields, free: free, folder: folder, what: what)
    }
}
