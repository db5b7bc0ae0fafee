import ODESolver
import StiffProblems
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// y' = −y + sin(10 t) ... a smooth, non-stiff scalar problem with a closed form, for dense
/// output between steps: y(t) = (y0 + 10/101) e^{−t} + (sin 10t − 10 cos 10t)/101.
struct ForcedDecay: ODESystem {
    var dimension: Int { 1 }
    var providesJacobian: Bool { true }
    func rhs(t: Double, y: UnsafePointer<Double>, dydt: UnsafeMutablePointer<Double>) {
        dydt[0] = -y[0] + sin(10 * t)
    }
    func jacobian(
        t: Double, y: UnsafePointer<Double>, dydt: UnsafePointer<Double>, jacobian: UnsafeMutablePointer<Double>
    ) {
        jacobian[0] = -1
    }
    static func exact(_ t: Double, y0: Double = 1) -> Double {
        (y0 + 10.0 / 101) * exp(-t) + (sin(10 * t) - 10 * cos(10 * t)) / 101
    }
}

@Suite("Linear stiff system with a closed-form solution")
struct LinearStiffTests {
    @Test func matchesTheClosedFormAtEveryOutputTime() throws {
        let problem = LinearStiff(endTime: 10)
        let rtol = 1e-8
        let atol = 1e-12
        let solver = try BDFSolver(
            system: problem, options: BDFOptions(relativeTolerance: rtol, absoluteTolerance: atol))
        let times = (0...200).map { Double($0) * 0.05 }
        let trajectory = try solver.solve(from: 0, initialState: problem.initialState, outputTimes: times)
        var worst = 0.0
        for (k, t) in times.enumerated() {
            let exact = problem.exactSolution(at: t)
            for (a, b) in zip(trajectory.state(at: k), exact) {
                worst = max(worst, abs(a - b) / (rtol * abs(b) + atol))
            }
        }
        print("linear stiff: worst error over 201 outputs = \(worst) × tolerance")
        #expect(worst <= 50)
    }

    /// Tolerance proportionality: the error should fall in proportion to the tolerance, i.e. the
    /// slope of log(error) against log(rtol) should be near 1 (CVODE's design goal).
    @Test func errorShrinksInProportionToTheTolerance() throws {
        let problem = LinearStiff(endTime: 2)
        let tolerances = [1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10]
        var logErrors: [Double] = []
        for rtol in tolerances {
            let solver = try BDFSolver(
                system: problem, options: BDFOptions(relativeTolerance: rtol, absoluteTolerance: rtol * 1e-3))
            let y = try solver.solve(from: 0, initialState: problem.initialState, outputTimes: [0.5, 1, 1.5, 2])
            var error = 0.0
            for (k, t) in y.times.enumerated() {
                for (a, b) in zip(y.state(at: k), problem.exactSolution(at: t)) { error = max(error, abs(a - b)) }
            }
            logErrors.append(log10(error))
        }
        let logTolerances = tolerances.map { log10($0) }
        let meanX = logTolerances.reduce(0, +) / Double(tolerances.count)
        let meanY = logErrors.reduce(0, +) / Double(tolerances.count)
        var sxy = 0.0
        var sxx = 0.0
        for (x, y) in zip(logTolerances, logErrors) {
            sxy += (x - meanX) * (y - meanY)
            sxx += (x - meanX) * (x - meanX)
        }
        let slope = sxy / sxx
        print("tolerance proportionality: slope \(slope), log10 errors \(logErrors)")
        #expect(slope > 0.8 && slope < 1.2)
        // and strictly better at every tenfold tightening
        for (a, b) in zip(logErrors, logErrors.dropFirst()) { #expect(b < a) }
    }
}

@Suite("Dense output and stop times")
struct DenseOutputTests {
    @Test func outputTimesDoNotForceSteps() throws {
        let problem = Robertson(endTime: 40)
        let options = BDFOptions(relativeTolerance: 1e-6, absoluteTolerance: 1e-10)
        let few = try BDFSolver(system: problem, options: options)
        _ = try few.solve(from: 0, initialState: problem.initialState, outputTimes: [40])
        let many = try BDFSolver(system: problem, options: options)
        let grid = (1...4000).map { Double($0) / 100 }
        let dense = try many.solve(from: 0, initialState: problem.initialState, outputTimes: grid)
        #expect(many.statistics == few.statistics)
        let single = try few.solve(from: 0, initialState: problem.initialState, outputTimes: [40])
        #expect(dense.finalState == single.finalState)
    }

    @Test func interpolationBetweenStepsIsAccurate() throws {
        // The solution decays from 1 into an oscillation through zero of amplitude ~0.1; errors
        // are measured against the solution's scale, rtol·max|y| + atol with max|y| = 1.
        let rtol = 1e-8
        let atol = 1e-9
        let solver = try BDFSolver(
            system: ForcedDecay(), options: BDFOptions(relativeTolerance: rtol, absoluteTolerance: atol))
        // 4001 outputs over two time units (three periods): several per step, so most are
        // interpolated.
        let times = (0...4000).map { Double($0) / 2000 }
        let trajectory = try solver.solve(from: 0, initialState: [1], outputTimes: times)
        #expect(solver.statistics.steps < times.count / 2)
        var worst = 0.0
        for (k, t) in times.enumerated() {
            let exact = ForcedDecay.exact(t)
            worst = max(worst, abs(trajectory.states[k] - exact) / (rtol * 1 + atol))
        }
        print(
            "dense output: worst error \(worst) × tolerance over \(times.count) points, "
                + "\(solver.statistics.steps) steps"
        )
        #expect(worst <= 50)
    }

    @Test func derivativeFromDenseOutputMatchesTheRightHandSide() throws {
        let solver = try BDFSolver(
            system: ForcedDecay(), options: BDFOptions(relativeTolerance: 1e-9, absoluteTolerance: 1e-12))
        solver.reset(time: 0, state: [1])
        var y = [0.0]
        var dy = [0.0]
        let t = try y.withUnsafeMutableBufferPointer { try solver.advance(to: 3.3, into: $0.baseAddress!) }
        try dy.withUnsafeMutableBufferPointer { try solver.interpolate(at: t, derivative: 1, into: $0.baseAddress!) }
        let expected = -ForcedDecay.exact(3.3) + sin(33.0)
        #expect(abs(dy[0] - expected) < 1e-5)
    }

    @Test func stopTimeIsHitExactlyAndNeverPassed() throws {
        let problem = Robertson(endTime: 40)
        let solver = try BDFSolver(
            system: problem, options: BDFOptions(relativeTolerance: 1e-6, absoluteTolerance: 1e-10))
        solver.reset(time: 0, state: problem.initialState)
        var y = [Double](repeating: 0, count: 3)
        let reached = try y.withUnsafeMutableBufferPointer {
            try solver.advance(to: 40, stopTime: 7.25, into: $0.baseAddress!)
        }
        #expect(reached == 7.25)
        #expect(solver.currentTime <= 7.25)
        #expect(abs(solver.currentTime - 7.25) < 1e-12)
        // Continue past the stop to the end: same answer as one call, within tolerance.
        let end = try y.withUnsafeMutableBufferPointer {
            try solver.advance(to: 40, stopTime: 40, into: $0.baseAddress!)
        }
        #expect(end == 40)
        for (a, b) in zip(y, problem.referenceSolution) { #expect(abs(a - b) < 1e-5 * abs(b) + 1e-9) }
    }

    @Test func restartAfterAnEventChangesTheState() throws {
        // y' = −y to t = 1, then y is set to 2 and integrated on: y(2) = 2 e^{−1}.
        let solver = try BDFSolver(
            system: LinearDecay(), options: BDFOptions(relativeTolerance: 1e-9, absoluteTolerance: 1e-12))
        solver.reset(time: 0, state: [1])
        var y = [0.0]
        try y.withUnsafeMutableBufferPointer { _ = try solver.advance(to: 1, stopTime: 1, into: $0.baseAddress!) }
        #expect(abs(y[0] - exp(-1)) < 1e-8)
        let before = solver.statistics.steps
        solver.reset(time: 1, state: [2], keepStatistics: true)
        try y.withUnsafeMutableBufferPointer { _ = try solver.advance(to: 2, stopTime: 2, into: $0.baseAddress!) }
        #expect(abs(y[0] - 2 * exp(-1)) < 1e-8)
        #expect(solver.statistics.steps > before)
    }
}

struct LinearDecay: ODESystem {
    var dimension: Int { 1 }
    func rhs(t: Double, y: UnsafePointer<Double>, dydt: UnsafeMutablePointer<Double>) { dydt[0] = -y[0] }
}

@Suite("Invariants, constraints and determinism")
struct InvariantTests {
    @Test func roberKeepsItsMassInvariant() throws {
        let problem = Robertson(endTime: 1e5)
        let solver = try BDFSolver(
            system: problem, options: BDFOptions(relativeTolerance: 1e-6, absoluteTolerance: 1e-10))
        let times = (0...50).map { pow(10, -5 + 0.2 * Double($0)) }
        let trajectory = try solver.solve(from: 0, initialState: problem.initialState, outputTimes: times)
        var worst = 0.0
        for k in times.indices {
            let s = trajectory.state(at: k)
            worst = max(worst, abs(s[s.startIndex] + s[s.startIndex + 1] + s[s.startIndex + 2] - 1))
        }
        print("ROBER invariant: max |y1+y2+y3−1| = \(worst)")
        #expect(worst <= 1e-12)
    }

    /// With loose tolerances (rtol = atol = 1e-3) ROBER's y2 (~3.6e-5 at its peak) is not
    /// controlled: it goes negative, and then −3e7·y2² drives it to −∞ (the classic failure of
    /// stiff codes on chemistry). The non-negativity option must prevent both.
    @Test func nonNegativityConstraintKeepsConcentrationsNonNegative() throws {
        let problem = Robertson(endTime: 1e5)
        let times = (0...100).map { pow(10, -3 + 0.08 * Double($0)) }
        var options = BDFOptions(relativeTolerance: 1e-3, absoluteTolerance: 1e-3)
        let free = try BDFSolver(system: problem, options: options)
        do {
            let unconstrained = try free.solve(from: 0, initialState: problem.initialState, outputTimes: times)
            #expect(unconstrained.states.min()! < 0, "without the constraint y2 should go negative")
        } catch let error as ODESolverError {
            print("without constraint: \(error)")
        }
        options.nonNegative = true
        let constrainedSolver = try BDFSolver(system: problem, options: options)
        let constrained = try constrainedSolver.solve(from: 0, initialState: problem.initialState, outputTimes: times)
        print("with constraint: min y \(constrained.states.min()!), \(constrainedSolver.statistics)")
        #expect(constrained.states.min()! >= 0)
        // Projection (as in CVODE) does not conserve mass: at this loose atol the sum drifts by
        // ~0.1, which is why tight absolute tolerances remain the cure for conservation.
        #expect(constrained.times.count == times.count)
    }

    @Test func repeatedSolvesInOneWorkspaceAreBitIdentical() throws {
        let problem = Pollution()
        let solver = try BDFSolver(
            system: problem, options: BDFOptions(relativeTolerance: 1e-6, absoluteTolerance: 1e-10))
        let first = try solver.solve(from: 0, initialState: problem.initialState, outputTimes: [1, 10, 60])
        _ = try solver.solve(
            from: 0, initialState: Robertson().initialState + [Double](repeating: 0.01, count: 17), outputTimes: [5])
        let again = try solver.solve(from: 0, initialState: problem.initialState, outputTimes: [1, 10, 60])
        #expect(first.states == again.states)
        #expect(first.statistics == again.statistics)
    }

    @Test func perComponentAbsoluteToleranceIsUsed() throws {
        // Tight atol only on y2 (the tiny intermediate) should reduce y2's error.
        let problem = Robertson(endTime: 40)
        var loose = BDFOptions(relativeTolerance: 1e-4, absoluteTolerance: 1e-6)
        let a = try BDFSolver(system: problem, options: loose).solve(
            from: 0, initialState: problem.initialState, outputTimes: [40]
        ).finalState
        loose.absoluteTolerance = .perComponent([1e-6, 1e-12, 1e-6])
        let b = try BDFSolver(system: problem, options: loose).solve(
            from: 0, initialState: problem.initialState, outputTimes: [40]
        ).finalState
        let ref = problem.referenceSolution
        #expect(abs(b[1] - ref[1]) < abs(a[1] - ref[1]))
        #expect(abs(b[1] - ref[1]) / ref[1] < 1e-3)
    }

    @Test func finiteDifferenceJacobianGivesTheSameAccuracy() throws {
        struct NoJacobian<P: ReferenceProblem>: ODESystem {
            let base: P
            var dimension: Int { base.dimension }
            func rhs(t: Double, y: UnsafePointer<Double>, dydt: UnsafeMutablePointer<Double>) {
                base.rhs(t: t, y: y, dydt: dydt)
            }
        }
        let problem = Pollution()
        let options = BDFOptions(relativeTolerance: 1e-6, absoluteTolerance: 1e-10)
        let solver = try BDFSolver(system: NoJacobian(base: problem), options: options)
        let y = try solver.solve(from: 0, initialState: problem.initialState, outputTimes: [60]).finalState
        var ratio = 0.0
        for (a, b) in zip(y, problem.referenceSolution) { ratio = max(ratio, abs(a - b) / (1e-6 * abs(b) + 1e-10)) }
        #expect(ratio <= 50)
        #expect(solver.statistics.rhsEvaluationsForJacobian == 20 * solver.statistics.jacobianEvaluations)
    }
}
