import ArgumentParser
import Foundation
import ReactionModel
import Simulation

// The sweep vocabulary as flags: ArgumentParser parses --vary, --follow, --metric, --method and
// --scenario into the library's types. A value it cannot parse is reported by `syntaxError(in:)`
// with the parser's own sentence, as `--FLAG TEXT: what is wrong.` (exit status 1).

extension SweepRange: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
}

extension MetricSpec: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
}

extension SamplingMethod: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
}

extension ScenarioSelection: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}

/// The sentence for a flag's value that ArgumentParser could not parse into one of the sweep
/// types, or nil for any other error (which ArgumentParser reports itself).
func syntaxError(in error: Error) -> String? {
    guard let (flag, value) = unparsableValue(in: error) else { return nil }
    // The same parser again, for its reason; --samples on the command line (or the gsa command,
    // which always samples) says which form a --vary range should have had.
    let gsa = CommandLine.arguments.dropFirst().first == "gsa"
    let sampled = gsa || CommandLine.arguments.contains { $0 == "--samples" || $0.hasPrefix("--samples=") }
    if gsa && flag == "method" { return "--method \(excerpt(value, limit: 80)): \(SensitivityMethod.unknown(value))" }
    do {
        switch flag {
        case "vary": _ = try SweepRange(parsing: value, pointCount: sampled ? .forbidden : .required)
        case "follow": _ = try SweepRange(parsing: value, pointCount: .required)
        case "metric": _ = try MetricSpec(parsing: value)
        case "method": _ = try SamplingMethod(parsing: value)
        default: return nil
        }
    } catch let error as SweepSyntaxError {
        // The command line says where a sampled sweep's number of points comes from.
        let message =
            sampled && error.message == SweepRange.usage(.forbidden)
            ? "write \(SweepRange.sampleSyntax) (with --samples the number of points comes from --samples)."
            : error.message
        return "--\(flag) \(excerpt(value, limit: 80)): \(message)"
    } catch {
        return nil
    }
    return nil
}

/// The long flag name and the value of ArgumentParser's "unable to parse value" error. Its error
/// types are internal, so they are read by reflection: the case `unableToParseValue(origin,
/// name, value, forKey:, originalError:)` somewhere inside the error.
private func unparsableValue(in error: Any, depth: Int = 0) -> (flag: String, value: String)? {
    guard depth < 8 else { return nil }
    for child in Mirror(reflecting: error).children {
        if child.label == "unableToParseValue" {
            let fields = Array(Mirror(reflecting: child.value).children)
            guard fields.count >= 3, let value = fields[2].value as? String,
                let flag = longName(in: fields[1].value)
            else { return nil }
            return (flag, value)
        }
        if let found = unparsableValue(in: child.value, depth: depth + 1) { return found }
    }
    return nil
}

/// The string of a `Name.long(String)`, looked for through the Optional around it.
private func longName(in value: Any, depth: Int = 0) -> String? {
    guard depth < 4 else { return nil }
    for child in Mirror(reflecting: value).children {
        if child.label == "long", let name = child.value as? String { return name }
        if let name = longName(in: child.value, depth: depth + 1) { return name }
    }
    return nil
}
