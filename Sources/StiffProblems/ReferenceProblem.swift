import ODESolver

/// A stiff initial-value problem with a reference solution computed by someone else
/// (the Bari "Test Set for IVP Solvers" 2.4, Hairer & Wanner), or a closed form.
/// Sources and verification: `docs/stiff-problems.md`.
public protocol ReferenceProblem: ODESystem {
    var name: String { get }
    var initialState: [Double] { get }
    var startTime: Double { get }
    var endTime: Double { get }
    /// y(endTime), to about 1e-13 relative or better.
    var referenceSolution: [Double] { get }
}

extension ReferenceProblem {
    public var startTime: Double { 0 }
}

/// Maximum absolute and maximum relative error of `y` against `reference`; components whose
/// reference is below `floor` in magnitude are compared absolutely only.
public func errors(of y: [Double], against reference: [Double]) -> (absolute: Double, relative: Double) {
    var absolute = 0.0
    var relative = 0.0
    for (a, b) in zip(y, reference) {
        let e = abs(a - b)
        absolute = max(absolute, e)
        if b != 0 { relative = max(relative, e / abs(b)) }
    }
    return (absolute, relative)
}
