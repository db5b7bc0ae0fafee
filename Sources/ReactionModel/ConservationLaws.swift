/// Conserved moieties: an integer basis of the left null space of the stoichiometry matrix
/// (vectors l with lᵀN = 0 over the non-constant species), found by exact rational elimination.
/// Each law says Σ_i l_i · V_i · c_i (amounts) is constant in time.
public struct ConservationLaw: Sendable, Equatable, CustomStringConvertible {
    /// (species index, integer coefficient), nonzero coefficients only.
    public var terms: [(species: Int, coefficient: Int)]
    public var names: [String]

    public static func == (a: ConservationLaw, b: ConservationLaw) -> Bool {
        a.terms.map(\.species) == b.terms.map(\.species) && a.terms.map(\.coefficient) == b.terms.map(\.coefficient)
    }

    /// Moieties read best with non-negative coefficients and few species (total receptor, total
    /// STAT3): replaces basis vectors by integer combinations with other basis vectors while that
    /// lowers the number of negative entries, then of species, then the coefficients' size.
    /// Each replacement v ← v + c·w keeps a basis.
    static func preferNonNegative(_ input: [[Int]]) -> [[Int]] {
        var basis = input
        func score(_ v: [Int]) -> (Int, Int, Int) {
            (v.filter { $0 < 0 }.count, v.filter { $0 != 0 }.count, v.reduce(0) { $0 + abs($1) })
        }
        func normalised(_ v: [Int]) -> [Int] {
            var g = 0
            for x in v where x != 0 { g = Fraction.gcd(g, abs(x)) }
            var w = g > 1 ? v.map { $0 / g } : v
            if w.filter({ $0 < 0 }).count > w.filter({ $0 > 0 }).count { w = w.map { -$0 } }
            return w
        }
        var improved = true
        var passes = 0
        while improved && passes < 20 {
            improved = false
            passes += 1
            for i in basis.indices {
                var best = basis[i], bestScore = score(best)
                for j in basis.indices where j != i {
                    for c in [-3, -2, -1, 1, 2, 3] {
                        let candidate = normalised(zip(basis[i], basis[j]).map { $0 + c * $1 })
                        if candidate.allSatisfy({ $0 == 0 }) { continue }
                        if score(candidate) < bestScore { best = candidate; bestScore = score(candidate) }
                    }
                }
                if best != basis[i] { basis[i] = best; improved = true }
            }
        }
        return basis
    }

    public var description: String {
        var text = ""
        for (k, (_, c)) in terms.enumerated() {
            let name = names[k]
            let magnitude = abs(c) == 1 ? name : "\(abs(c)) \(name)"
            if k == 0 { text = c < 0 ? "-\(magnitude)" : magnitude } else { text += c < 0 ? " - \(magnitude)" : " + \(magnitude)" }
        }
        return text
    }
}

/// A fraction with Int components, always reduced, denominator > 0. Overflow traps are turned
/// into `nil` results by the caller checking magnitudes (stoichiometries are small integers).
struct Fraction: Equatable {
    var numerator: Int
    var denominator: Int

    init(_ n: Int, _ d: Int = 1) {
        let g = Fraction.gcd(abs(n), abs(d))
        let sign = d < 0 ? -1 : 1
        numerator = g == 0 ? 0 : sign * n / g
        denominator = g == 0 ? 1 : sign * d / g
    }

    static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
    var isZero: Bool { numerator == 0 }
    static func - (a: Fraction, b: Fraction) -> Fraction { Fraction(a.numerator * b.denominator - b.numerator * a.denominator, a.denominator * b.denominator) }
    static func * (a: Fraction, b: Fraction) -> Fraction { Fraction(a.numerator * b.numerator, a.denominator * b.denominator) }
    static func / (a: Fraction, b: Fraction) -> Fraction { Fraction(a.numerator * b.denominator, a.denominator * b.numerator) }
}

extension ModelDefinition {
    /// The conservation laws of the reaction network, or nil when a coefficient is not a simple
    /// rational (more than 6 decimals) so that exact elimination does not apply.
    public func conservationLaws() -> [ConservationLaw]? {
        let variable = species.indices.filter { !species[$0].constant }
        let m = variable.count
        guard m > 0 else { return [] }
        // Nᵀ: one row per reaction, one column per variable species; coefficients as fractions.
        var rows: [[Fraction]] = []
        for reaction in reactions {
            var row = [Fraction](repeating: Fraction(0), count: m)
            func add(_ s: Int, _ c: Double) -> Bool {
                guard let column = variable.firstIndex(of: s) else { return true }
                let scaled = (c * 1e6).rounded()
                guard abs(c * 1e6 - scaled) < 1e-6 else { return false }
                row[column] = row[column] - Fraction(-Int(scaled), 1_000_000)
                return true
            }
            for (s, c) in reaction.reactants { guard add(s, -c) else { return nil } }
            for (s, c) in reaction.products { guard add(s, c) else { return nil } }
            rows.append(row)
        }
        // A quantity with a rate rule changes by its own column: it is in no conservation law.
        for (column, s) in variable.enumerated() where species[s].rateRule != nil {
            var row = [Fraction](repeating: Fraction(0), count: m)
            row[column] = Fraction(1)
            rows.append(row)
        }
        // Reduced row echelon form of Nᵀ; its null space is the left null space of N.
        var pivotColumns: [Int] = []
        var r = 0
        for c in 0..<m where r < rows.count {
            guard let p = (r..<rows.count).first(where: { !rows[$0][c].isZero }) else { continue }
            rows.swapAt(r, p)
            let pivot = rows[r][c]
            rows[r] = rows[r].map { $0 / pivot }
            for i in 0..<rows.count where i != r && !rows[i][c].isZero {
                let factor = rows[i][c]
                for j in 0..<m { rows[i][j] = rows[i][j] - factor * rows[r][j] }
            }
            pivotColumns.append(c)
            r += 1
        }
        var basis: [[Int]] = []
        for free in 0..<m where !pivotColumns.contains(free) {
            var vector = [Fraction](repeating: Fraction(0), count: m)
            vector[free] = Fraction(1)
            for (k, pc) in pivotColumns.enumerated() { vector[pc] = Fraction(0) - rows[k][free] }
            // Scale to the smallest integer vector.
            var lcm = 1
            for f in vector where !f.isZero { lcm = lcm / Fraction.gcd(lcm, f.denominator) * f.denominator }
            var integers = vector.map { $0.numerator * (lcm / $0.denominator) }
            var g = 0
            for x in integers where x != 0 { g = Fraction.gcd(g, abs(x)) }
            if g > 1 { integers = integers.map { $0 / g } }
            if let first = integers.first(where: { $0 != 0 }), first < 0 { integers = integers.map { -$0 } }
            basis.append(integers)
        }
        basis = ConservationLaw.preferNonNegative(basis)
        return basis.map { integers in
            let terms = integers.enumerated().filter { $0.element != 0 }.map { (variable[$0.offset], $0.element) }
            return ConservationLaw(terms: terms, names: terms.map { species[$0.0].name })
        }
    }
}
