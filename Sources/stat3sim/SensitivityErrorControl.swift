import ArgumentParser

/// `--[no-]sensitivity-error-control`, for the commands that integrate forward sensitivities.
struct SensitivityErrorControl: ParsableArguments {
    @Flag(
        inversion: .prefixedNo,
        help: "Include forward sensitivities in the solver's error test (CVODES errconS; on by default).")
    var sensitivityErrorControl = true
}
