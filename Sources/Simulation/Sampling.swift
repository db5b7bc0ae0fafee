#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// xoshiro256** seeded by SplitMix64: fast, and the same stream on every platform for a seed,
/// so that a sampled sweep is reproducible from its seed alone.
public struct RandomGenerator: Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    public mutating func next() -> UInt64 {
        func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform integer in 0..<n (rejection sampling, no modulo bias).
    public mutating func integer(below n: Int) -> Int {
        let bound = UInt64(n)
        let limit = UInt64.max - UInt64.max % bound
        while true {
            let x = next()
            if x < limit { return Int(x % bound) }
        }
    }
}

/// Unscrambled Sobol' points (Bratley & Fox's construction with Joe & Kuo's direction numbers,
/// new-joe-kuo-6.21201, dimensions 1–16). The first point (all zeros) is skipped, as is usual for
/// sampling; the sequence then matches SciPy's `qmc.Sobol(d, scramble=False)` from its second point.
public struct SobolSequence: Sendable {
    /// (s, a, m_1…m_s) for dimensions 2…16 (dimension 1 is the van der Corput sequence).
    static let table: [(s: Int, a: UInt32, m: [UInt32])] = [
        (1, 0, [1]), (2, 1, [1, 3]), (3, 1, [1, 3, 1]), (3, 2, [1, 1, 1]), (4, 1, [1, 1, 3, 3]),
        (4, 4, [1, 3, 5, 13]), (5, 2, [1, 1, 5, 5, 17]), (5, 4, [1, 1, 5, 5, 5]), (5, 7, [1, 1, 7, 11, 19]),
        (5, 11, [1, 1, 5, 1, 1]), (5, 13, [1, 1, 1, 3, 11]), (5, 14, [1, 3, 5, 5, 31]),
        (6, 1, [1, 3, 3, 9, 7, 49]), (6, 13, [1, 1, 1, 15, 21, 21]), (6, 16, [1, 3, 1, 13, 27, 49]),
    ]
    public static let maxDimensions = 16
    static let bits = 32

    let dimensions: Int
    var directions: [[UInt32]]
    var state: [UInt32]
    var index: UInt32 = 0

    public init(dimensions: Int) {
        precondition(dimensions >= 1 && dimensions <= SobolSequence.maxDimensions)
        self.dimensions = dimensions
        directions = []
        for d in 0..<dimensions {
            var v = [UInt32](repeating: 0, count: SobolSequence.bits)
            if d == 0 {
                for i in 0..<SobolSequence.bits { v[i] = 1 << (31 - i) }
            } else {
                let (s, a, m) = SobolSequence.table[d - 1]
                for i in 0..<s { v[i] = m[i] << (31 - i) }
                if s < SobolSequence.bits {
                    for i in s..<SobolSequence.bits {
                        v[i] = v[i - s] ^ (v[i - s] >> UInt32(s))
                        for k in 1..<s where (a >> UInt32(s - 1 - k)) & 1 == 1 { v[i] ^= v[i - k] }
                    }
                }
            }
            directions.append(v)
        }
        state = [UInt32](repeating: 0, count: dimensions)
    }

    /// The next point in [0, 1)^d (Gray-code order).
    public mutating func next() -> [Double] {
        // The index of the lowest zero bit of `index` picks the direction to xor in.
        var c = 0
        var i = index
        while i & 1 == 1 {
            i >>= 1
            c += 1
        }
        index += 1
        for d in 0..<dimensions { state[d] ^= directions[d][c] }
        return state.map { Double($0) * 0x1.0p-32 }
    }
}
