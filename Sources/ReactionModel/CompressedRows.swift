/// Rows of entries, compressed: row r is `entries[start[r] ..< start[r+1]]`. In buffers, so that
/// the loops over them allocate nothing. For plain values: the buffers are freed without
/// deinitializing.
final class CompressedRows<Entry> {
    let start: UnsafeMutablePointer<Int>
    let entries: UnsafeMutablePointer<Entry>

    init(_ rows: [[Entry]]) {
        var starts = [0]
        for row in rows { starts.append(starts.last! + row.count) }
        start = .buffer(starts)
        entries = .buffer(rows.flatMap { $0 })
    }

    deinit {
        start.deallocate()
        entries.deallocate()
    }
}

/// Rows of (index, compiled program) pairs.
typealias ProgramRows = CompressedRows<(index: Int, program: ProgramRange)>
