/// A system of ordinary differential equations `dy/dt = f(t, y)` as the solver sees it.
///
/// The solver calls these methods millions of times in a sweep, so they take raw pointers into
/// the solver's own buffers: an implementation writes into `dydt` / `jacobian` and must not
/// allocate. The solver is generic over the conforming type, so calls are not existential.
public protocol ODESystem {
    /// Number of state variables `n`.
    var dimension: Int { get }

    /// Writes `f(t, y)` into `dydt` (both of length `n`).
    func rhs(t: Double, y: UnsafePointer<Double>, dydt: UnsafeMutablePointer<Double>)

    /// Whether ``jacobian(t:y:dydt:jacobian:)`` is implemented. When `false` the solver
    /// approximates the Jacobian by forward differences, as CVODE's dense DQ Jacobian does.
    var providesJacobian: Bool { get }

    /// Writes `∂f_i/∂y_j` at `(t, y)` into `jacobian[i + j*n]` (column-major, LAPACK's layout).
    /// The matrix is zeroed before the call, so an implementation need only set nonzeros.
    /// `dydt` holds `f(t, y)`, already evaluated.
    func jacobian(
        t: Double, y: UnsafePointer<Double>, dydt: UnsafePointer<Double>,
        jacobian: UnsafeMutablePointer<Double>)

    /// A name for component `index`, used in error messages ("y[3]" by default).
    func componentName(_ index: Int) -> String

    /// The (row, column) pairs where the Jacobian can be nonzero, when known; the solver orders
    /// its LU factorisation to reduce fill-in from it. `nil` (the default) means dense.
    var jacobianPattern: [(row: Int, column: Int)]? { get }

    /// Whether ``sparseJacobian(t:y:dydt:positions:values:)`` is implemented. When `false` and the
    /// solver factorises the Newton matrix sparsely, it evaluates the dense Jacobian and gathers
    /// the pattern's entries (an n×n buffer; fine for a few hundred unknowns, not thousands).
    var providesSparseJacobian: Bool { get }

    /// Adds `∂f_i/∂y_j` at `(t, y)` for each entry p = (i, j) of ``jacobianPattern`` (in its
    /// order) into `values[positions[p]]`: the solver's compressed-column storage, so no n×n
    /// matrix is ever formed. An entry's contributions may be split over several p with the same
    /// (i, j): they add up. `values` is zeroed before the call; `dydt` holds `f(t, y)`.
    func sparseJacobian(
        t: Double, y: UnsafePointer<Double>, dydt: UnsafePointer<Double>, positions: UnsafePointer<Int>,
        values: UnsafeMutablePointer<Double>)

    /// How many parameters `parameterDerivative` can differentiate by (0, the default: the system
    /// has no forward sensitivities).
    var parameterCount: Int { get }

    /// Writes `∂f_i/∂p_k` at `(t, y)` into `derivative[i]` (length n) for parameter `k` of
    /// `0..<parameterCount`. The vector is zeroed before the call; `dydt` holds `f(t, y)`.
    func parameterDerivative(
        t: Double, y: UnsafePointer<Double>, dydt: UnsafePointer<Double>, parameter k: Int,
        derivative: UnsafeMutablePointer<Double>)
}

extension ODESystem {
    public var providesJacobian: Bool { false }

    public func jacobian(
        t: Double, y: UnsafePointer<Double>, dydt: UnsafePointer<Double>,
        jacobian: UnsafeMutablePointer<Double>
    ) {}

    public func componentName(_ index: Int) -> String { "y[\(index)]" }

    public var jacobianPattern: [(row: Int, column: Int)]? { nil }

    public var providesSparseJacobian: Bool { false }

    public func sparseJacobian(
        t: Double, y: UnsafePointer<Double>, dydt: UnsafePointer<Double>, positions: UnsafePointer<Int>,
        values: UnsafeMutablePointer<Double>
    ) {}

    public var parameterCount: Int { 0 }

    public func parameterDerivative(
        t: Double, y: UnsafePointer<Double>, dydt: UnsafePointer<Double>, parameter k: Int,
        derivative: UnsafeMutablePointer<Double>
    ) {}
}
