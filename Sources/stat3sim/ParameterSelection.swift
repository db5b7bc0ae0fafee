import ArgumentParser

/// `--parameters a,b,…`: the quantities `sensitivity` and `bench-sensitivities` differentiate by,
/// in place of their default list.
struct ParameterSelection: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Sensitivities by these parameters, compartments (size) or species (initial value), comma-separated, "
                + "instead of the default list (see above).",
            valueName: "names"))
    var parameters: String?

    /// The names given, trimmed; nil without the flag.
    var names: [String]? {
        parameters.map { list in
            list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }
}
