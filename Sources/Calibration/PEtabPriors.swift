import Foundation

extension PEtabObjective {
    /// −log of the objective priors at θ (linear values) and its derivatives by the estimated
    /// parameters on their scales. A prior over the linear value is a density of that value (no
    /// Jacobian of the scale), as PEtab v1 defines them.
    func priorTerm(_ theta: [String: Double]) -> (value: Double, gradient: [String: Double]) {
        var value = 0.0
        var gradient: [String: Double] = [:]
        for p in problem.estimated {
            guard let prior = p.prior else { continue }
            let x = theta[p.id]!
            let (a, b) = (prior.parameters[0], prior.parameters[1])
            // The variable the density is over, and d(variable)/d(θ on the parameter's scale).
            let onScale: Bool
            switch prior.kind {
            case .parameterScaleUniform, .parameterScaleNormal, .parameterScaleLaplace: onScale = true
            default: onScale = false
            }
            let v = onScale ? p.scale.scaled(x) : x
            let dv = onScale ? 1 : p.scale.linearDerivative(x)
            let (f, df): (Double, Double)
            switch prior.kind {
            case .uniform, .parameterScaleUniform:
                (f, df) = (v >= a && v <= b ? log(b - a) : .infinity, 0)
            case .normal, .parameterScaleNormal:
                let z = (v - a) / b
                (f, df) = (0.5 * log(2 * Double.pi * b * b) + 0.5 * z * z, z / b)
            case .laplace, .parameterScaleLaplace:
                let r = v - a
                (f, df) = (log(2 * b) + abs(r) / b, (r > 0 ? 1 : (r < 0 ? -1 : 0)) / b)
            case .logNormal:
                let z = (log(v) - a) / b
                (f, df) = (log(v) + 0.5 * log(2 * Double.pi * b * b) + 0.5 * z * z, (1 + z / b) / v)
            case .logLaplace:
                let r = log(v) - a
                (f, df) = (log(2 * b * v) + abs(r) / b, (1 + (r > 0 ? 1 : (r < 0 ? -1 : 0)) / b) / v)
            }
            value += f
            gradient[p.id] = df * dv
        }
        return (value, gradient)
    }
}
