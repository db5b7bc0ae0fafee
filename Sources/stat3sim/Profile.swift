import ArgumentParser
import Calibration
import Foundation
import ReactionModel
import Simulation

/// `stat3sim profile`: profile likelihoods and confidence intervals of a fitted PEtab problem.
struct Profile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Profile likelihoods of a fitted PEtab problem: which parameters the data identify, and how well.",
        discussion: """
            From the parameters given (a fit's best table; a local fit refines them first), each profiled
            parameter is stepped down and up on its scale with the others re-optimised at every step, until
            2ΔNLL passes --threshold (3.84: a 95 % pointwise confidence interval) or the bound is reached.
            Steps adapt to the profile's curvature. OUT has one row per profile point (parameter, value on
            its scale, nll + prior, ratio = 2ΔNLL, iterations, status, then all estimated parameters);
            OUT without .csv + _intervals.csv the confidence intervals (empty where the profile stays below
            the threshold: not identifiable on that side). Profiles run in parallel.

            Examples:
              stat3sim profile Tests/PEtab/Boehm_JProteomeRes2014/Boehm_JProteomeRes2014.yaml \\
                  --parameters boehm_fit_best.tsv --out boehm_profiles.csv
              stat3sim profile problem.yaml --parameters best.tsv --names k_phos,k_exp_homo
            """)

    @Argument(help: "The PEtab problem (YAML).")
    var problem: String

    @Option(
        help: ArgumentHelp(
            "The fitted parameters: a PEtab parameter table (as `fit` writes it) or a parameterId/value TSV.",
            valueName: "file.tsv"))
    var parameters: String

    @Option(
        help: ArgumentHelp("The estimated parameters to profile, comma-separated (default: all).", valueName: "ids"))
    var names: String?

    @Option(help: "The CSV of profile points (default: the problem's name + _profiles.csv).")
    var out: String?

    @Option(help: "Profiles run in parallel (default: all cores).")
    var jobs: Int?

    @Option(help: "The 2ΔNLL a profile must pass on each side (3.84: 95 %, one degree of freedom).")
    var threshold = 3.84

    @Option(help: "Most profile points on each side of the optimum.")
    var maxPoints = 40

    @Option(help: "Relative tolerance of the simulations.")
    var rtol = 1e-8

    @Option(help: "Absolute tolerance of the simulations.")
    var atol = 1e-12

    func run() throws {
        let p = try loadPEtab(problem)
        guard threshold > 0 else { throw CLIError("--threshold must be positive.") }
        guard maxPoints >= 1 else { throw CLIError("--max-points must be at least 1.") }
        let jobs = self.jobs ?? ProcessInfo.processInfo.activeProcessorCount
        guard jobs >= 1 else { throw CLIError("--jobs must be at least 1.") }
        let ids = p.estimated.map(\.id)
        let chosen =
            try names.map { list in
                try list.split(separator: ",").map { name -> Int in
                    let name = name.trimmingCharacters(in: .whitespaces)
                    guard let k = ids.firstIndex(of: name) else {
                        throw CLIError(
                            "--names: '\(name)' is not an estimated parameter of \(problem)"
                                + "\(didYouMean(name, among: ids)).")
                    }
                    return k
                }
            } ?? Array(ids.indices)
        let output = out ?? (URL(fileURLWithPath: problem).deletingPathExtension().lastPathComponent + "_profiles.csv")
        let intervalsPath = OutputWriter.companionPath(of: output, suffix: "_intervals.csv")

        var fitter = PEtabFitter(problem: p, rtol: rtol, atol: atol)
        fitter.maxSteps = 100_000
        var profiler = ProfileLikelihood(fitter: fitter)
        profiler.threshold = threshold
        profiler.maxPoints = maxPoints
        let clock = ContinuousClock.now
        let profiles: [ParameterProfile]
        let optimum: FitStart
        do {
            let given = try p.parameterValues(file: parameters)
            let start = p.estimated.map { $0.scale.scaled(given[$0.id] ?? $0.nominalValue) }
            let objective = try PEtabObjective(problem: p, rtol: rtol, atol: atol)
            let before = try PEtabFitter.quadraticModel(objective, at: start).value
            optimum = profiler.refine(start, objective: objective)
            guard optimum.value.isFinite else {
                throw CLIError("\(problem): the fit from \(parameters) failed: \(optimum.status.text)")
            }
            FileHandle.standardError.write(
                Data(
                    String(
                        format: "optimum: nll + prior %.6f at %@, %.6f after a local fit (%@)\n", before, parameters,
                        optimum.value, optimum.status.text
                    ).utf8))
            profiles = try run(profiler, chosen, optimum: optimum, jobs: jobs)
        } catch let e as PEtabError { throw CLIError(e.description) }
        let elapsed = ContinuousClock.now - clock
        try write(profiles, problem: p, output: output, intervals: intervalsPath)
        var lines = [
            String(
                format: "%d profiles in %.1f s (threshold 2ΔNLL = %g); 95 %% intervals on the parameter scale:",
                profiles.count, Double(elapsed.components.seconds), threshold)
        ]
        let width = max(9, profiles.map(\.parameter.count).max() ?? 0)
        for profile in profiles {
            func side(_ v: Double?, _ end: String) -> String {
                v.map { String(format: "%.4g", $0) } ?? (end == "bound" ? "(bound)" : "(open)")
            }
            lines.append(
                "  " + profile.parameter.padding(toLength: width, withPad: " ", startingAt: 0)
                    + String(
                        format: "  %.4g  [%@, %@]", profile.optimum, side(profile.lower, profile.lowerEnd),
                        side(profile.upper, profile.upperEnd))
                    + (profile.better.map { String(format: "  (a better point: %.6f; refit from it)", $0) } ?? ""))
        }
        lines.append("wrote \(output) and \(intervalsPath)")
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }

    /// The profiles on `jobs` threads, each with its own objective.
    func run(_ profiler: ProfileLikelihood, _ chosen: [Int], optimum: FitStart, jobs: Int) throws
        -> [ParameterProfile]
    {
        let workers = max(1, min(jobs, chosen.count))
        let objectives = try (0..<workers).map { _ in
            let o = try PEtabObjective(problem: profiler.fitter.problem, rtol: rtol, atol: atol)
            o.parallelConditions = workers == 1
            o.maxSteps = profiler.fitter.maxSteps
            return o
        }
        var results = [Result<ParameterProfile, Error>?](repeating: nil, count: chosen.count)
        let lock = NSLock()
        var next = 0
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            while true {
                lock.lock()
                let k = next
                next += 1
                lock.unlock()
                guard k < chosen.count else { return }
                let r = Result {
                    try profiler.profile(
                        chosen[k], optimum: optimum.parameters, objective: optimum.value, using: objectives[w])
                }
                lock.lock()
                results[k] = r
                if case .success(let profile) = r {
                    FileHandle.standardError.write(
                        Data("profile \(profile.parameter): \(profile.points.count) points\n".utf8))
                }
                lock.unlock()
            }
        }
        return try results.map { try $0!.get() }
    }

    func write(_ profiles: [ParameterProfile], problem p: PEtabProblem, output: String, intervals: String) throws {
        let ids = p.estimated.map(\.id)
        var text = (["parameter", "value", "nll", "ratio", "iterations", "status"] + ids).joined(separator: ",") + "\n"
        for profile in profiles {
            for point in profile.points {
                text +=
                    ([
                        profile.parameter, point.value.exactText, point.objective.exactText, point.ratio.exactText,
                        String(point.iterations), OutputWriter.csvField(point.status.text),
                    ] + point.parameters.map(\.exactText)).joined(separator: ",") + "\n"
            }
        }
        var table = "parameter,scale,optimum,lower,upper,lower_end,upper_end,lower_linear,upper_linear\n"
        for profile in profiles {
            let scale = p.estimated[profile.index].scale
            func field(_ v: Double?) -> String { v?.exactText ?? "" }
            table +=
                [
                    profile.parameter, scale.rawValue, profile.optimum.exactText, field(profile.lower),
                    field(profile.upper), profile.lowerEnd, profile.upperEnd, field(profile.lower.map(scale.linear)),
                    field(profile.upper.map(scale.linear)),
                ].joined(separator: ",") + "\n"
        }
        do {
            try OutputWriter.writeAtomically(text, to: output)
            try OutputWriter.writeAtomically(table, to: intervals)
        } catch let e as SimulationError { throw CLIError(e.message) }
    }
}
