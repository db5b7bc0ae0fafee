import Foundation

/// Why an integration stopped before its end. Carries where it happened and which components
/// were to blame, so that a modeller can act on it; `description` reads as one paragraph.
public struct ODESolverError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The step size fell below what t can resolve (t + h == t) or below `minStep`.
        case stepSizeTooSmall
        /// `maxSteps` internal steps did not reach the requested time.
        case tooManySteps(Int)
        /// The tolerances ask for more accuracy than double precision gives.
        case toleranceTooSmall(suggestedScale: Double)
        /// The local error test failed `maxErrorTestFailures` times on one step.
        case repeatedErrorTestFailures(Int)
        /// Newton's iteration failed to converge `maxConvergenceFailures` times on one step.
        case repeatedConvergenceFailures(Int)
        /// f or J returned NaN or ±Inf and smaller steps did not help.
        case nonFiniteValues(source: String)
        /// An error weight could not be formed: rtol|y_i| + atol_i ≤ 0 (a zero atol on a zero component).
        case invalidErrorWeight
        /// The options or the call are inconsistent (message says how).
        case invalidInput(String)
    }

    /// A component named by the system with its weighted contribution to the failing test
    /// (|local error| / (rtol |y| + atol), or the offending value for non-finite failures).
    public struct Culprit: Sendable, Equatable {
        public var index: Int
        public var name: String
        public var value: Double
        public var weightedError: Double
    }

    public var kind: Kind
    /// Time reached when the solver gave up.
    public var t: Double
    /// Step size being attempted when the solver gave up.
    public var stepSize: Double
    /// Components with the largest weighted error (at most three, largest first).
    public var culprits: [Culprit]

    public init(kind: Kind, t: Double, stepSize: Double, culprits: [Culprit] = []) {
        self.kind = kind
        self.t = t
        self.stepSize = stepSize
        self.culprits = culprits
    }

    public var description: String {
        var text: String
        switch kind {
        case .stepSizeTooSmall:
            text =
                "The step size fell to \(fmt(stepSize)) at t = \(fmt(t)), below what t can resolve or the minimum "
                + "step; the solution changes too fast here (a discontinuity, a singularity, or a blow-up)."
        case .tooManySteps(let count):
            text =
                "The solver took \(count) steps without reaching the requested time and stopped at t = \(fmt(t)) "
                + "(step \(fmt(stepSize))); raise the step limit or check for fast oscillations."
        case .toleranceTooSmall(let scale):
            text =
                "At t = \(fmt(t)) the tolerances ask for more accuracy than double precision can give; multiply rtol "
                + "and atol by at least \(fmt(scale))."
        case .repeatedErrorTestFailures(let count):
            text =
                "The local error test failed \(count) times in one step at t = \(fmt(t)) with step \(fmt(stepSize)); "
                + "the solution may be discontinuous here or the tolerances too tight."
        case .repeatedConvergenceFailures(let count):
            text =
                "Newton's iteration failed to converge \(count) times in one step at t = \(fmt(t)) with step "
                + "\(fmt(stepSize)); the Jacobian may be wrong or the system singular."
        case .nonFiniteValues(let source):
            text =
                "The \(source) returned NaN or infinity at t = \(fmt(t)) (step \(fmt(stepSize))) and smaller steps "
                + "did not help; check rate laws for division by zero or overflow."
        case .invalidErrorWeight:
            text =
                "At t = \(fmt(t)) an error weight is undefined: rtol·|y| + atol is zero for a component; give that "
                + "component a positive absolute tolerance."
        case .invalidInput(let message):
            text = message
        }
        if !culprits.isEmpty {
            let names = culprits.map { "\($0.name) (value \(fmt($0.value)), weighted error \(fmt($0.weightedError)))" }
            text += " Largest weighted errors: " + names.joined(separator: ", ") + "."
        }
        return text
    }

    private func fmt(_ x: Double) -> String {
        x == 0 || (abs(x) >= 1e-3 && abs(x) < 1e6) ? String(format: "%g", x) : String(format: "%.3e", x)
    }
}
