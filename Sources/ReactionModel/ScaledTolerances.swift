import Foundation

extension ModelDefinition {
    /// How far below each species' own size its absolute tolerance lies, as a fraction of the
    /// relative tolerance: an error test that ignores a species' error below 1e-3 × rtol of its
    /// size controls it as tightly as rtol does where it is large.
    public static let absoluteToleranceFraction = 1e-3

    /// Initial values below this fraction of the model's largest are round-off of a zero (files
    /// exported from a steady state carry 1e-27 beside 74), not a size to scale a tolerance to.
    public static let roundOffFraction = 1e-12

    /// Gives every species (not parameters with rate rules) its own absolute tolerance,
    /// `absoluteToleranceFraction` × rtol × its size: the magnitude of its initial value, or, for
    /// one that starts at zero (a complex, a product) or at round-off, the smallest other initial
    /// magnitude of the model's species, the cautious guess of how large it can become. One
    /// absolute tolerance for all is wrong for files in molar units, where species of 1e-9 to
    /// 1e-14 M lie below any tolerance chosen for the others and come out 1 % to 9× off. The SBML
    /// import calls this for a file that gives no tolerances of its own; a model with no nonzero
    /// initial value keeps `[simulation] atol`.
    public mutating func scaleAbsoluteTolerances() {
        let magnitudes = species.filter { !$0.isParameter }.map { abs($0.initial) }.filter(\.isFinite)
        let largest = magnitudes.max() ?? 0
        let floor = Self.roundOffFraction * largest
        guard let smallest = magnitudes.filter({ $0 > floor }).min() else { return }
        let fraction = Self.absoluteToleranceFraction * simulation.rtol
        for i in species.indices where !species[i].isParameter {
            let size = abs(species[i].initial)
            species[i].absoluteTolerance = Self.twoDigits(fraction * (size > floor && size.isFinite ? size : smallest))
        }
    }

    /// `x` to two significant digits: a tolerance needs no more, and `stat3sim import` writes it
    /// into the TOML file as `atol = 2e-21`, not `2.0000000000000002e-21`.
    static func twoDigits(_ x: Double) -> Double {
        Double(String(format: "%.1e", x)) ?? x
    }

    /// The absolute tolerance of every state, in state order: a species' own, else `[simulation]
    /// atol`; nil when no species has its own (one scalar for all).
    public var absoluteTolerancesByState: [Double]? {
        guard species.contains(where: { $0.absoluteTolerance != nil }) else { return nil }
        return species.map { $0.absoluteTolerance ?? simulation.atol }
    }
}
