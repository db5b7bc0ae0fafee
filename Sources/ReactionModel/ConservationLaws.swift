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
                var best = basis[i]
                var bestScore = score(best)
                for j in basis.indices where j != i {
                    for c in [-3, -2, -1, 1, 2, 3] {
                        let candidate = normalised(zip(basis[i], basis[j]).map { $0 + c * $1 })
                        if candidate.allSatisfy({ $0 == 0 }) { continue }
                        if score(candidate) < bestScore {
                            best = candidate
                            bestScore = score(candidate)
                        }
                    }
                }
                if best != basis[i] {
                    basis[i] = best
                    improved = true
                }
            }
        }
        return basis
    }

    public var description: String {
        var text = ""
        for (k, (_, c)) in terms.enumerated() {
            let name = names[k]
            let magnitude = abs(c) == 1 ? name : "\(abs(c)) \(name)"
            if k == 0 {
                text = c < 0 ? "-\(magnitude)" : magnitude
            } else {
                text += c < 0 ? " - \(magnitude)" : " + \(magnitude)"
            }
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
    static func - (a: Fraction, b: Fraction) -> Fraction {
        Fraction(a.numerator * b.denominator - b.numerator * a.denominator, a.denominator * b.denominator)
    }
    static func * (a: Fraction, b: Fraction) -> Fraction {
        Fraction(a.numerator * b.numerator, a.denominator * b.denominator)
    }
    static func / (a: Fraction, b: Fraction) -> Fraction {
        Fraction(a.numerator * b.denominator, a.denominator * b.numerator)
    }
}

/// A row of Nᵀ: (column, value) by increasing column, nonzero values only.
typealias SparseRow = [(column: Int, value: Fraction)]

extension Array where Element == (column: Int, value: Fraction) {
    /// a − factor · b, merged by column (entries that cancel are dropped).
    static func subtracting(_ a: SparseRow, _ factor: Fraction, _ b: SparseRow) -> SparseRow {
        var result: SparseRow = []
        result.reserveCapacity(a.count + b.count)
        var i = 0
        var j = 0
        while i < a.count || j < b.count {
            if j == b.count || (i < a.count && a[i].column < b[j].column) {
                result.append(a[i])
                i += 1
            } else if i == a.count || b[j].column < a[i].column {
                result.append((b[j].column, Fraction(0) - factor * b[j].value))
                j += 1
            } else {
                let value = a[i].value - factor * b[j].value
                if !value.isZero { result.append((a[i].column, value)) }
                i += 1
                j += 1
            }
        }
        return result
    }
}

extension ModelDefinition {
    /// The conservation laws of the reaction network, or nil when a coefficient is not a simple
    /// rational (more than 6 decimals) so that exact elimination does not apply.
    public func conservationLaws() -> [ConservationLaw]? {
        let variable = species.indices.filter { !species[$0].constant }
        let m = variable.count
        guard m > 0 else { return [] }
        var column = [Int: Int]()
        for (k, s) in variable.enumerated() { column[s] = k }
        // Species that no reaction and no rate rule changes are each a law of their own (their
        // column of Nᵀ is zero; the unit vector is already the best basis vector, and adding it to
        // another only adds a species). Only the others go through the elimination, so a model
        // with many untouched species costs as much as one without them.
        var active = [Bool](repeating: false, count: m)
        for reaction in reactions {
            for (s, c) in reaction.reactants + reaction.products where c != 0 {
                if let k = column[s] { active[k] = true }
            }
        }
        for (k, s) in variable.enumerated() where species[s].rateRule != nil { active[k] = true }
        let activeColumns = active.indices.filter { active[$0] }
        var activeIndex = [Int](repeating: -1, count: m)
        for (a, k) in activeColumns.enumerated() { activeIndex[k] = a }
        guard let reduced = activeNullSpace(activeIndex: activeIndex, count: activeColumns.count, column: column)
        else { return nil }

        // The basis in the order of the free columns over all variable species, as before.
        var laws: [ConservationLaw] = []
        var next = 0
        for k in 0..<m {
            if !active[k] {
                let s = variable[k]
                laws.append(ConservationLaw(terms: [(s, 1)], names: [species[s].name]))
            } else if reduced.freeColumns.contains(activeIndex[k]) {
                let integers = reduced.basis[next]
                next += 1
                let terms = integers.enumerated().filter { $0.element != 0 }.map {
                    (variable[activeColumns[$0.offset]], $0.element)
                }
                laws.append(ConservationLaw(terms: terms, names: terms.map { species[$0.0].name }))
            }
        }
        return laws
    }

    /// The left null space of N restricted to the active species (those some reaction or rate
    /// rule changes), by exact rational elimination: the free columns and one integer basis
    /// vector per free column, in column order, after `preferNonNegative`.
    func activeNullSpace(activeIndex: [Int], count m: Int, column: [Int: Int]) -> (
        freeColumns: Set<Int>, basis: [[Int]]
    )? {
        guard m > 0 else { return (freeColumns: [], basis: []) }
        // Nᵀ: one sparse row per reaction over the active species; coefficients as fractions.
        var rows: [SparseRow] = []
        for reaction in reactions {
            var entries: [Int: Fraction] = [:]
            func add(_ s: Int, _ c: Double) -> Bool {
                guard let k = column[s], activeIndex[k] >= 0 else { return true }
                let scaled = (c * 1e6).rounded()
                guard abs(c * 1e6 - scaled) < 1e-6 else { return false }
                entries[activeIndex[k], default: Fraction(0)] =
                    entries[activeIndex[k], default: Fraction(0)] - Fraction(-Int(scaled), 1_000_000)
                return true
            }
            for (s, c) in reaction.reactants { guard add(s, -c) else { return nil } }
            for (s, c) in reaction.products { guard add(s, c) else { return nil } }
            rows.append(entries.filter { !$0.value.isZero }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        }
        // A quantity with a rate rule changes by its own column: it is in no conservation law.
        for (s, k) in column.sorted(by: { $0.value < $1.value }) where species[s].rateRule != nil && activeIndex[k] >= 0
        {
            rows.append([(activeIndex[k], Fraction(1))])
        }
        // The reduced row echelon form of Nᵀ (its null space is the left null space of N), which
        // is unique, built one sparse row at a time: each reaction's row is reduced against the
        // rows kept so far (a reverse reaction's row vanishes at once) and kept when something is
        // left, so at most rank(N) rows are ever stored; then back substitution. Dense
        // elimination over every reaction cost minutes and gigabytes on 10⁴-reaction networks.
        var pivotRow: [Int: SparseRow] = [:]
        for row in rows {
            var v = row
            while let first = v.first {
                if let b = pivotRow[first.column] {
                    v = SparseRow.subtracting(v, first.value, b)
                } else {
                    pivotRow[first.column] = v.map { ($0.column, $0.value / first.value) }
                    break
                }
            }
        }
        let pivotColumns = pivotRow.keys.sorted()
        for c in pivotColumns.reversed() {
            var row = pivotRow[c]!
            // Rows of later pivots are already reduced: subtracting them touches no other pivot.
            for (column, _) in row.dropFirst() where pivotRow[column] != nil {
                guard let value = row.first(where: { $0.column == column })?.value else { continue }
                row = SparseRow.subtracting(row, value, pivotRow[column]!)
            }
            pivotRow[c] = row
        }
        let pivots = Set(pivotColumns)
        // −RREF[k][free] for every pivot row k, by free column.
        var entriesByFree: [Int: [(pivot: Int, value: Fraction)]] = [:]
        for pc in pivotColumns {
            for (column, value) in pivotRow[pc]! where column != pc {
                entriesByFree[column, default: []].append((pc, Fraction(0) - value))
            }
        }
        var basis: [[Int]] = []
        var freeColumns = Set<Int>()
        for free in 0..<m where !pivots.contains(free) {
            freeColumns.insert(free)
            var vector = [Fraction](repeating: Fraction(0), count: m)
            vector[free] = Fraction(1)
            for (pc, value) in entriesByFree[free] ?? [] { vector[pc] = value }
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
        return (freeColumns: freeColumns, basis: ConservationLaw.preferNonNegative(basis))
    }
}
