import ODESolver
import StiffProblems
import Testing

@Suite("Failures are typed errors, not crashes")
struct FailureTests {
    /// y' = y², y(0) = 1 blows up at t = 1.
    struct BlowUp: ODESystem {
        var dimension: Int { 1 }
        var providesJacobian: Bool { true }
        func rhs(t: Double, y: UnsafePointer<Double>, dydt: UnsafeMutablePointer<Double>) { dydt[0] = y[0] * y[0] }
        func jacobian(
            t: Double, y: UnsafePointer<Double>, dydt: UnsafePointer<Double>, jacobian: UnsafeMutablePointer<Double>
        ) { jacobian[0] = 2 * y[0] }
        func componentName(_ index: Int) -> String { "X" }
    }

    /// f is NaN once t > 1 (a rate law dividing by zero, say).
    struct NaNAfterOne: ODESystem {
        var dimension: Int { 2 }
        func rhs(t: Double, y: UnsafePointer<Double>, dydt: UnsafeMutablePointer<Double>) {
            dydt[0] = -y[0]
            dydt[1] = t > 1 ? .nan : 0
        }
        func componentName(_ index: Int) -> String { ["A", "B"][index] }
    }

    @Test func blowUpEndsWithATypedErrorNearTheSingularity() throws {
        let solver = try BDFSolver(
            system: BlowUp(), options: BDFOptions(relativeTolerance: 1e-6, absoluteTolerance: 1e-10))
        do {
            _ = try solver.solve(from: 0, initialState: [1], outputTimes: [2])
            Issue.record("a blow-up must not integrate to the end")
        } catch let error as ODESolverError {
            print(error)
            #expect(abs(error.t - 1) < 1e-3)
            #expect(error.description.contains("t = "))
            switch error.kind {
            case .stepSizeTooSmall, .repeatedErrorTestFailures, .toleranceTooSmall, .nonFiniteValues: break
            default: Issue.record("unexpected kind \(error.kind)")
            }
        }
    }

    @Test func tooManyStepsReportsWhereItStopped() throws {
        var options = BDFOptions(relativeTolerance: 1e-6, absoluteTolerance: 1e-10)
        options.maxSteps = 50
        let solver = try BDFSolver(system: Robertson(), options: options)
        #expect(throws: ODESolverError.self) {
            _ = try solver.solve(from: 0, initialState: [1, 0, 0], outputTimes: [1e5])
        }
        do { _ = try solver.solve(from: 0, initialState: [1, 0, 0], outputTimes: [1e5]) } catch let error
            as ODESolverError
        {
            #expect(error.kind == .tooManySteps(50))
            #expect(error.t > 0 && error.t < 1e5)
            #expect(error.stepSize > 0)
            #expect(error.description.contains("50 steps"))
        }
    }

    @Test func nonFiniteRightHandSideIsNamed() throws {
        let solver = try BDFSolver(
            system: NaNAfterOne(), options: BDFOptions(relativeTolerance: 1e-6, absoluteTolerance: 1e-10))
        do {
            _ = try solver.solve(from: 0, initialState: [1, 1], outputTimes: [2])
            Issue.record("NaN must stop the solve")
        } catch let error as ODESolverError {
            print(error)
            #expect(error.kind == .nonFiniteValues(source: "right-hand side"))
            #expect(error.culprits.map(\.name) == ["B"])
            // The solver closes in on t = 1, where f stops being finite, and stops there.
            #expect(abs(error.t - 1) < 1e-6)
        }
    }

    @Test func nonFiniteInitialDerivativeIsReportedAtTheStart() throws {
        struct BadAtZero: ODESystem {
            var dimension: Int { 1 }
            func rhs(t: Double, y: UnsafePointer<Double>, dydt: UnsafeMutablePointer<Double>) {
                dydt[0] = 1 / (y[0] - 1)
            }
        }
        let solver = try BDFSolver(system: BadAtZero(), options: BDFOptions())
        #expect(throws: ODESolverError.self) { _ = try solver.solve(from: 0, initialState: [1], outputTimes: [1]) }
    }

    /// A Jacobian with the wrong sign makes the modified Newton iteration diverge at any
    /// reasonable step; with one failure allowed per step the solver must say so.
    @Test func newtonFailureIsReportedWithComponents() throws {
        var options = BDFOptions(relativeTolerance: 1e-6, absoluteTolerance: 1e-10)
        options.maxConvergenceFailures = 1
        let flipped = AlteredJacobianRobertson { jacobian in for k in 0..<9 { jacobian[k] = -jacobian[k] } }
        let solver = try BDFSolver(system: flipped, options: options)
        do {
            _ = try solver.solve(from: 0, initialState: [1, 0, 0], outputTimes: [1e5])
            Issue.record("a sign-flipped Jacobian must fail with one convergence failure allowed")
        } catch let error as ODESolverError {
            print(error)
            #expect(error.kind == .repeatedConvergenceFailures(1))
            #expect(!error.culprits.isEmpty)
            #expect(error.description.contains("Newton"))
        }
    }

    @Test func invalidOptionsAreRejectedWithAReason() {
        var options = BDFOptions()
        options.relativeTolerance = -1
        #expect(throws: ODESolverError.self) { _ = try BDFSolver(system: Robertson(), options: options) }
        options = BDFOptions()
        options.absoluteTolerance = .perComponent([1e-8, 1e-8])
        do {
            _ = try BDFSolver(system: Robertson(), options: options)
            Issue.record("wrong atol count accepted")
        } catch let error as ODESolverError {
            #expect(error.description == "2 absolute tolerances were given for 3 components.")
        } catch { Issue.record("\(error)") }
        options = BDFOptions()
        options.maxOrder = 6
        #expect(throws: ODESolverError.self) { _ = try BDFSolver(system: Robertson(), options: options) }
    }

    @Test func zeroAbsoluteToleranceOnAZeroComponentIsAnErrorWeightFailure() throws {
        let options = BDFOptions(relativeTolerance: 1e-6, absoluteTolerance: 0)
        let solver = try BDFSolver(system: Robertson(), options: options)
        do { _ = try solver.solve(from: 0, initialState: [1, 0, 0], outputTimes: [1]) } catch let error
            as ODESolverError
        {
            #expect(error.kind == .invalidErrorWeight)
            #expect(error.culprits.first?.index == 1)
        }
    }
}
