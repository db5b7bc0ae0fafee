import Foundation

extension PEtabObjective {
    /// −log of the objective priors at θ (linear values) and its derivatives by the estimated
    /// parameters on their scales. A prior over the linear value is a density of that value (no
    /// Jacobian of the scale), as PEtab v1 defines them. `curvature` is the Gauss–Newton part of
    /// the second derivative on the parameter scale (0 for uniform and Laplace densities).
    func priorTerm(_ theta: [String: Double]) -> (
        value: Double, gradient: [String: Double], curvature: [String: Double]
    ) {
        var value = 0.0
        var gradient: [String: Double] = [:]
        var curvature: [String: Double] = [:]
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
            // f, df/dv, and the Gauss–Newton d²f/dv² (the squared derivative of the residual z).
            let (f, df, ddf): (Double, Double, Double)
            switch prior.kind {
            case .uniform, .parameterScaleUniform:
                (f, df, ddf) = (v >= a && v <= b ? log(b - a) : .infinity, 0, 0)
            case .normal, .parameterScaleNormal:
                let z = (v - a) / b
                (f, df, ddf) = (0.5 * log(2 * Double.pi * b * b) + 0.5 * z * z, z / b, 1 / (b * b))
            case .laplace, .parameterScaleLaplace:
                let r = v - a
                (f, df, ddf) = (log(2 * b) + abs(r) / b, (r > 0 ? 1 : (r < 0 ? -1 : 0)) / b, 0)
            case .logNormal:
                let z = (log(v) - a) / b
                (f, df, ddf) = (
                    log(v) + 0.5 * log(2 * Double.pi * b * b) + 0.5 * z * z, (1 + z / b) / v, 1 / (b * b * v * v)
                )
            case .logLaplace:
                let r = log(v) - a
                (f, df, ddf) = (log(2 * b * v) + abs(r) / b, (1 + (r > 0 ? 1 : (r < 0 ? -1 : 0)) / b) / v, 0)
            }
            value += f
            gradient[p.id] = df * dv
            curvature[p.id] = ddf * dv * dv
        }
        return (value, gradient, curvature)
    }
}
