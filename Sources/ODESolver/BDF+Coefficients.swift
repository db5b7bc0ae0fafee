/// The variable-step BDF coefficients in fixed-leading-coefficient form and the error-test
/// constants, from the step-size history (CVODE's `cvSetBDF`, `cvSetTqBDF`), and the Nordsieck
/// adjustments for an order change (`cvIncreaseBDF`, `cvDecreaseBDF`).
extension BDFSolver {
    /// Computes l_0...l_q, the test quantities tq[1...5] and γ = h/l_1 for the current h and q.
    ///
    /// l is the coefficient vector of the polynomial Λ(x) = Π_{i=1}^{q−1} (1 + x/ξ_i) · (1 + x/ξ*),
    /// ξ_i = (t_n − t_{n−i})/h, that maps the correction onto the Nordsieck columns.
    func setCoefficients() {
        let qd = Double(q)
        l[0] = 1
        l[1] = 1
        for i in stride(from: 2, through: maxOrder, by: 1) { l[i] = 0 }
        var xiInverse = 1.0
        var xiStarInverse = 1.0
        var alpha0 = -1.0
        var alpha0Hat = -1.0
        var hsum = h
        if q > 1 {
            if q > 2 {
                for j in 2...(q - 1) {
                    hsum += tau[j - 1]
                    xiInverse = h / hsum
                    alpha0 -= 1 / Double(j)
                    for i in stride(from: j, through: 1, by: -1) { l[i] += l[i - 1] * xiInverse }
                }
            }
            // j = q
            alpha0 -= 1 / qd
            xiStarInverse = -l[1] - alpha0
            hsum += tau[q - 1]
            xiInverse = h / hsum
            alpha0Hat = -l[1] - xiInverse
            for i in stride(from: q, through: 1, by: -1) { l[i] += l[i - 1] * xiStarInverse }
        }
        setTestQuantities(
            hsum: hsum, alpha0: alpha0, alpha0Hat: alpha0Hat,
            xiInverse: xiInverse, xiStarInverse: xiStarInverse)
        rl1 = 1 / l[1]
        gamma = h * rl1
        if stepsSinceReset == 0 { gammaAtFactorization = gamma }
        gammaRatio = stepsSinceReset > 0 ? gamma / gammaAtFactorization : 1
    }

    /// Error constants: tq[2] for the local error test at order q, tq[1] and tq[3] for the
    /// estimates at q−1 and q+1 (only needed when an order change is due), tq[4] the Newton
    /// tolerance, tq[5] the factor relating successive corrections to the order-(q+1) error.
    func setTestQuantities(
        hsum hsumIn: Double, alpha0: Double, alpha0Hat: Double,
        xiInverse xiInverseIn: Double, xiStarInverse: Double
    ) {
        let qd = Double(q)
        var hsum = hsumIn
        var xiInverse = xiInverseIn
        let a1 = 1 - alpha0Hat + alpha0
        let a2 = 1 + qd * a1
        tq[2] = abs(a1 / (alpha0 * a2))
        tq[5] = abs(a2 * xiStarInverse / (l[q] * xiInverse))
        if qwait == 1 {
            if q > 1 {
                let c = xiStarInverse / l[q]
                let a3 = alpha0 + 1 / qd
                let a4 = alpha0Hat + xiInverse
                let cpInverse = (1 - a4 + a3) / a3
                tq[1] = abs(c * cpInverse)
            } else {
                tq[1] = 1
            }
            hsum += tau[q]
            xiInverse = h / hsum
            let a5 = alpha0 - 1 / (qd + 1)
            let a6 = alpha0Hat - xiInverse
            let cppInverse = (1 - a6 + a5) / a2
            tq[3] = abs(cppInverse / (xiInverse * (qd + 2) * a5))
        }
        tq[4] = options.newtonConvergenceCoefficient / tq[2]
    }

    /// Adjusts the Nordsieck array for an order change of ±1 (the step size is unchanged here).
    func adjustOrder(by deltaq: Int) {
        if q == 2 && deltaq != 1 { return }
        if deltaq == 1 { increaseOrder() } else if deltaq == -1 { decreaseOrder() }
    }

    /// Adds column q+1 from the saved correction Δ_n so that the new polynomial of degree q+1
    /// still interpolates the history.
    func increaseOrder() {
        let n = dimension
        for i in 0...maxOrder { l[i] = 0 }
        l[2] = 1
        var alpha1 = 1.0
        var prod = 1.0
        var xiOld = 1.0
        var alpha0 = -1.0
        var hsum = hscale
        if q > 1 {
            for j in 1..<q {
                hsum += tau[j + 1]
                let xi = hsum / hscale
                prod *= xi
                alpha0 -= 1 / Double(j + 1)
                alpha1 += 1 / xi
                for i in stride(from: j + 2, through: 2, by: -1) { l[i] = l[i] * xiOld + l[i - 1] }
                xiOld = xi
            }
        }
        let a1 = (-alpha0 - alpha1) / prod
        addColumn(nordsieck, width: n, a1: a1)
        if sensitivityCount > 0 { addColumn(sensitivityNordsieck, width: sensitivityWidth, a1: a1) }
    }

    /// Column L = a1 · (saved correction in column qmax); the columns 2...q take l_j of it.
    func addColumn(_ z: UnsafeMutablePointer<Double>, width: Int, a1: Double) {
        let newColumn = z + L * width
        let saved = z + maxOrder * width
        for i in 0..<width { newColumn[i] = a1 * saved[i] }
        if q >= 2 {
            for j in 2...q {
                let column = z + j * width
                let lj = l[j]
                for i in 0..<width { column[i] += lj * newColumn[i] }
            }
        }
    }

    /// Removes column q, correcting the lower columns so the history is still interpolated.
    func decreaseOrder() {
        let n = dimension
        for i in 0...maxOrder { l[i] = 0 }
        l[2] = 1
        var hsum = 0.0
        if q >= 3 {
            for j in 1...(q - 2) {
                hsum += tau[j]
                let xi = hsum / hscale
                for i in stride(from: j + 2, through: 2, by: -1) { l[i] = l[i] * xi + l[i - 1] }
            }
        }
        removeColumn(nordsieck, width: n)
        if sensitivityCount > 0 { removeColumn(sensitivityNordsieck, width: sensitivityWidth) }
    }

    /// Takes l_j · (column q) from the columns 2...q−1.
    func removeColumn(_ z: UnsafeMutablePointer<Double>, width: Int) {
        let last = z + q * width
        if q >= 3 {
            for j in 2..<q {
                let column = z + j * width
                let lj = l[j]
                for i in 0..<width { column[i] -= lj * last[i] }
            }
        }
    }
}
