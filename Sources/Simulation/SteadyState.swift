import Foundation
import ODESolver
import ReactionModel

/// A steady state of a reaction network with its quality and stability.
public struct SteadyState: Sendable {
    /// Concentrations of every species.
    public var state: [Double]
    /// Largest |dc/dt| over the non-constant species (concentration per time unit).
    public var residual: Double
    /// Eigenvalues of the Jacobian reduced by the conservation laws, by decreasing real part.
    public var eigenvalues: [(real: Double, imaginary: Double)]
    /// Every eigenvalue has a negative real part (beyond round-off).
    public var stable: Bool
    /// The largest real part is zero to round-off: a continuum of steady states (neutral).
    public var marginal: Bool
    /// "Newton" or "integration to t = …, then Newton".
    public var method: String
    public var newtonIterations: Int

    public var largestRealPart: Double { eigenvalues.first?.real ?? -.infinity }
}

/// Finds steady states COPASI's way, because either method alone fails on real models: damped
/// Newton on the system reduced by its conservation laws (totals fixed by the starting state);
/// when that does not converge, integration over ever longer times, then Newton again to polish.
/// Stability comes from the eigenvalues of the reduced Jacobian (LAPACK dgeev).
public final class SteadyStateSolver {
    let network: ReactionNetwork
    let definition: ModelDefinition
    let options: BDFOptions
    /// Non-constant species, split into independent (Newton unknowns) and dependent ones
    /// (fixed by the conservation laws).
    let independent: [Int]
    let dependent: [Int]
    /// Rows: laws; `lawIndependent[k][i]`, `lawDependent[k][d]`: coefficient × compartment size.
    var lawIndependent: [[Double]] = []
    var lawDependent: [[Double]] = []
    /// −A⁻¹B: how the dependent species move with the independent ones.
    var sensitivity: [[Double]] = []
    var inverseA: [[Double]] = []

    public init(network: ReactionNetwork, options: BDFOptions) throws {
        // A steady state of a delay equation is one of the equations with past values as
        // present ones, and so are its Jacobian and stability there (as the linearisation's
        // characteristic roots at zero lag; a lag can destabilise it, which this does not see).
        let network = network.hasDelays ? network.withPastValuesAsPresent() : network
        self.network = network
        self.definition = network.definition
        self.options = options
        let d = definition
        let variable = d.species.indices.filter { !d.species[$0].constant }
        guard let laws = d.conservationLaws() else {
            throw SimulationError(
                "steady states need the conservation laws, which could not be computed (a non-rational stoichiometric "
                    + "coefficient)."
            )
        }
        // Law matrix over the variable species, in amounts (coefficient × compartment size).
        var matrix = laws.map { law -> [Double] in
            var row = [Double](repeating: 0, count: variable.count)
            for (s, c) in law.terms {
                if let k = variable.firstIndex(of: s) {
                    row[k] = Double(c) * network.compartmentSize(d.species[s].compartment)
                }
            }
            return row
        }
        // Dependent species: pivot columns of the law matrix (partial pivoting by magnitude).
        var pivots: [Int] = []
        var rows = matrix
        for r in 0..<rows.count {
            var best = -1
            var bestValue = 0.0
            for c in 0..<variable.count where !pivots.contains(c) && abs(rows[r][c]) > bestValue {
                best = c
                bestValue = abs(rows[r][c])
            }
            guard best >= 0 else { continue }
            pivots.append(best)
            for other in 0..<rows.count where other != r && rows[other][best] != 0 {
                let factor = rows[other][best] / rows[r][best]
                for c in 0..<variable.count { rows[other][c] -= factor * rows[r][c] }
            }
        }
        matrix = matrix.filter { $0.contains { $0 != 0 } }
        let dependentSpecies = pivots.map { variable[$0] }
        dependent = dependentSpecies
        independent = variable.filter { !dependentSpecies.contains($0) }
        lawDependent = matrix.map { row in pivots.map { row[$0] } }
        lawIndependent = matrix.map { row in variable.indices.filter { !pivots.contains($0) }.map { row[$0] } }
        let m = dependent.count
        if m > 0 {
            // A⁻¹ by Gauss–Jordan (m is small: one per conserved moiety).
            var a = lawDependent
            var inverse = (0..<m).map { i in (0..<m).map { $0 == i ? 1.0 : 0.0 } }
            for c in 0..<m {
                let p = (c..<m).max { abs(a[$0][c]) < abs(a[$1][c]) }!
                a.swapAt(c, p)
                inverse.swapAt(c, p)
                let pivot = a[c][c]
                for j in 0..<m {
                    a[c][j] /= pivot
                    inverse[c][j] /= pivot
                }
                for r in 0..<m where r != c && a[r][c] != 0 {
                    let f = a[r][c]
                    for j in 0..<m {
                        a[r][j] -= f * a[c][j]
                        inverse[r][j] -= f * inverse[c][j]
                    }
                }
            }
            inverseA = inverse
            let b = lawIndependent
            let count = independent.count
            sensitivity = (0..<m).map { d in
                (0..<count).map { i in -(0..<m).reduce(0.0) { $0 + inverse[d][$1] * b[$1][i] } }
            }
        }
    }

    /// The full state from the independent concentrations and the moiety totals.
    func fullState(_ x: [Double], totals: [Double], template: [Double]) -> [Double] {
        var c = template
        for (k, s) in independent.enumerated() { c[s] = x[k] }
        let m = dependent.count
        for d in 0..<m {
            var value = 0.0
            for k in 0..<m {
                var rest = totals[k]
                for (i, coefficient) in lawIndependent[k].enumerated() { rest -= coefficient * x[i] }
                value += inverseA[d][k] * rest
            }
            c[dependent[d]] = value
        }
        return c
    }

    func totals(of state: [Double]) -> [Double] {
        (0..<dependent.count).map { k in
            var total = 0.0
            for (i, s) in independent.enumerated() { total += lawIndependent[k][i] * state[s] }
            for (d, s) in dependent.enumerated() { total += lawDependent[k][d] * state[s] }
            return total
        }
    }

    func rates(_ c: [Double], t: Double) -> [Double] {
        var f = [Double](repeating: 0, count: c.count)
        c.withUnsafeBufferPointer { y in
            f.withUnsafeMutableBufferPointer { network.rhs(t: t, y: y.baseAddress!, dydt: $0.baseAddress!) }
        }
        return f
    }

    /// The reduced Jacobian J_ii + J_id·D (column-major, r × r).
    func reducedJacobian(_ c: [Double], t: Double) -> [Double] {
        let n = c.count
        let r = independent.count
        var jacobian = [Double](repeating: 0, count: n * n)
        let f = rates(c, t: t)
        c.withUnsafeBufferPointer { y in
            f.withUnsafeBufferPointer { fp in
                jacobian.withUnsafeMutableBufferPointer {
                    network.jacobian(t: t, y: y.baseAddress!, dydt: fp.baseAddress!, jacobian: $0.baseAddress!)
                }
            }
        }
        var reduced = [Double](repeating: 0, count: r * r)
        for (col, j) in independent.enumerated() {
            for (row, i) in independent.enumerated() {
                var value = jacobian[i + j * n]
                for (d, s) in dependent.enumerated() { value += jacobian[i + s * n] * sensitivity[d][col] }
                reduced[row + col * r] = value
            }
        }
        return reduced
    }

    func weightedNorm(_ v: [Double], _ c: [Double]) -> Double {
        let atol: Double
        switch options.absoluteTolerance {
        case .scalar(let a): atol = a
        case .perComponent(let a): atol = a.min() ?? 1e-12
        }
        var sum = 0.0
        for (k, s) in independent.enumerated() {
            let w = v[k] / (1e-6 * abs(c[s]) + atol)
            sum += w * w
        }
        return (sum / Double(max(independent.count, 1))).squareRoot()
    }

    /// Damped Newton from `start`; nil when it does not converge.
    func newton(from start: [Double], t: Double) -> (state: [Double], iterations: Int)? {
        let r = independent.count
        let totals = totals(of: start)
        var x = independent.map { start[$0] }
        if r == 0 { return (start, 0) }
        let lu = DenseLU(dimension: r, backend: .lapack)
        func residual(_ x: [Double]) -> (f: [Double], c: [Double]) {
            let c = fullState(x, totals: totals, template: start)
            let f = rates(c, t: t)
            return (independent.map { f[$0] }, c)
        }
        var (f, c) = residual(x)
        for iteration in 1...100 {
            let jacobian = reducedJacobian(c, t: t)
            for k in 0..<(r * r) { lu.matrix[k] = jacobian[k] }
            guard lu.factorize() else { return nil }
            var step = f.map { -$0 }
            step.withUnsafeMutableBufferPointer { lu.solve($0.baseAddress!) }
            guard step.allSatisfy({ $0.isFinite }) else { return nil }
            // Damping: halve until the residual falls and no concentration goes clearly negative.
            var lambda = 1.0
            let currentNorm = weightedNorm(f, c)
            var accepted = false
            while lambda >= 1.0 / 1024 {
                let trial = zip(x, step).map { $0 + lambda * $1 }
                let (tf, tc) = residual(trial)
                let negative = tc.enumerated().contains {
                    !definition.species[$0.offset].constant && $0.element < -1e-9 * (1 + abs(c[$0.offset]))
                }
                if !negative && tf.allSatisfy({ $0.isFinite })
                    && (weightedNorm(tf, tc) < currentNorm || lambda == 1 && weightedNorm(step, c) < 1)
                {
                    x = trial
                    f = tf
                    c = tc
                    accepted = true
                    break
                }
                lambda /= 2
            }
            guard accepted else { return nil }
            if weightedNorm(step.map { $0 * lambda }, c) < 1e-6 {
                // Clean round-off negatives of zero species.
                for s in 0..<c.count where c[s] < 0 && c[s] > -1e-9 { c[s] = 0 }
                return (c, iteration)
            }
        }
        return nil
    }

    /// The steady state reached from `start` at parameters in force.
    public func solve(from start: [Double], t: Double = 0) throws -> SteadyState {
        var method = "Newton"
        var result = newton(from: start, t: t)
        if result == nil {
            // Integrate ever longer, polishing with Newton after each stretch.
            let solver = try BDFSolver(system: network, options: options)
            var state = start
            var time = t
            for power in 0...10 {
                let horizon = t + pow(10, Double(power))
                solver.reset(time: time, state: state)
                do {
                    try state.withUnsafeMutableBufferPointer {
                        _ = try solver.advance(to: horizon, stopTime: horizon, into: $0.baseAddress!)
                    }
                } catch let e as ODESolverError {
                    throw SimulationError(
                        "no steady state: Newton did not converge and the integration failed: \(e)", solverError: e)
                }
                time = horizon
                if let polished = newton(from: state, t: t) {
                    result = polished
                    method = "integration to t = \((horizon - t).plainText), then Newton"
                    break
                }
                // Newton cannot converge where steady states are not isolated (dead-end complexes
                // make the Jacobian singular); then accept a state that no longer moves: at its
                // rates no species would change by 0.1 % over a span as long as the integration.
                let f = rates(state, t: t)
                let atol = 1e-12
                if power >= 3,
                    independent.allSatisfy({ abs(f[$0]) * (horizon - t) <= 1e-3 * (abs(state[$0]) + atol) })
                        && dependent.allSatisfy({ abs(f[$0]) * (horizon - t) <= 1e-3 * (abs(state[$0]) + atol) })
                {
                    result = (state, 0)
                    method =
                        "integration to t = \((horizon - t).plainText) (Newton cannot converge: the steady state is "
                        + "not isolated)"
                    break
                }
            }
        }
        guard let (state, iterations) = result else {
            throw SimulationError("no steady state found: Newton did not converge, even after integrating to t = 1e10.")
        }
        let f = rates(state, t: t)
        let residual = independent.map { abs(f[$0]) }.max() ?? 0
        let r = independent.count
        let eigenvalues = r == 0 ? [] : (Eigenvalues.of(reducedJacobian(state, t: t), dimension: r) ?? [])
        let scale = eigenvalues.map { ($0.real * $0.real + $0.imaginary * $0.imaginary).squareRoot() }.max() ?? 0
        let stable = eigenvalues.allSatisfy { $0.real < -1e-10 * scale }
        let marginal = !stable && eigenvalues.allSatisfy { $0.real <= 1e-10 * scale }
        return SteadyState(
            state: state, residual: residual, eigenvalues: eigenvalues, stable: stable, marginal: marginal,
            method: method, newtonIterations: iterations)
    }
}
