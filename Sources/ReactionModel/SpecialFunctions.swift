#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Special functions that derivatives need but model files cannot name.
extension Expression {
    /// ψ(x) by the recurrence ψ(x) = ψ(x + 1) − 1/x up to x ≥ 10, then the asymptotic series
    /// through x⁻¹⁴ (the first term left out, 3617/(8160 x¹⁶), is below 5e-17 there); the
    /// reflection formula for x < 0.
    public static func digamma(_ x: Double) -> Double {
        if x <= 0 && x == x.rounded() { return .nan }
        if x < 0 { return digamma(1 - x) - Double.pi / tan(Double.pi * x) }
        var x = x
        var shift = 0.0
        while x < 10 {
            shift -= 1 / x
            x += 1
        }
        let r = 1 / (x * x)
        // ln x − 1/(2x) − Σ B₂ₖ/(2k x^{2k}), k = 1…7
        let series =
            r
            * (1.0 / 12 - r
                * (1.0 / 120 - r
                    * (1.0 / 252 - r
                        * (1.0 / 240 - r
                            * (1.0 / 132
                                - r * (691.0 / 32760 - r * (1.0 / 12)))))))
        return shift + log(x) - 0.5 / x - series
    }
}
