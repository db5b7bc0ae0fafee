import Foundation

// Every way stat3sim writes a number as text, in one place, so that a CSV cell, a message and a
// summary line never disagree about what a number looks like. (The solver's own messages keep a
// private %g formatter: ODESolver depends on nothing of ours.)

extension Double {
    /// The shortest text that reads back as exactly this number, with `nan`, `inf` and `-inf`
    /// (a NaN's sign is dropped), as pandas and R read them: CSV cells and sidecars.
    /// `Simulation.RowStream` writes the same bytes without building the string.
    public var exactText: String {
        if isNaN { return "nan" }
        if isInfinite { return self > 0 ? "inf" : "-inf" }
        return description
    }

    /// Whole numbers without ".0" (`3`, not `3.0`), others as `exactText`: messages, model text and
    /// column names (`value_at@30`).
    public var plainText: String {
        self == rounded() && Swift.abs(self) < 1e15 ? String(Int(self)) : exactText
    }

    /// Four significant digits (`%.4g`), or `%.3e` outside [1e-3, 1e5): summaries read by people.
    public var summaryText: String {
        if self == 0 { return "0" }
        return Swift.abs(self) >= 1e-3 && Swift.abs(self) < 1e5
            ? String(format: "%.4g", self) : String(format: "%.3e", self)
    }
}
