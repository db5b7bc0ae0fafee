import Foundation
import ReactionModel

typealias Expr = ReactionModel.Expression

/// SBML Level 2 and 3 core → a model definition, for the subset that maps onto the model file
/// without changes to the solver (docs/sbml-import.md lists it). Everything outside that subset is
/// an `SBMLImportError` naming the SBML element and id, never a silently different model.
///
/// The mapping:
/// * compartments keep their sizes (any spatial dimension: a size factor, as in SBML; a missing
///   size is 1);
/// * species are concentrations (initial amounts are divided by the compartment size); a species
///   with `hasOnlySubstanceUnits="true"` stands for its amount in SBML math, so every mention of it
///   becomes `S * V` (and values assigned to it by events are divided by `V`);
/// * `boundaryCondition` or `constant` → `constant = true`;
/// * parameters stay parameters; local parameters become `REACTION_NAME` globals;
/// * assignment rules on parameters → observables of the same name;
/// * a kinetic law (amount per time) becomes `rate = law / V` with `V` the compartment of the first
///   reactant (first product), which is exactly what stat3sim multiplies a rate by;
/// * function definitions are inlined; initial assignments are evaluated to numbers;
/// * events triggered by `time >= T` (or `time > T`) with constant `T` and no delay → timed events.
public enum SBMLReader {
    public static func definition(path: String) throws -> ModelDefinition {
        try definition(fromXML: readFile(path), file: path)
    }

    public static func definition(fromXML xml: String, file: String) throws -> ModelDefinition {
        try imported(fromXML: xml, file: file).definition
    }

    /// The model and what the import changed on the way (each a sentence naming the SBML id),
    /// for the command line to print.
    public static func imported(fromXML xml: String, file: String) throws -> (
        definition: ModelDefinition,
        warnings: [String]
    ) {
        let root = try XMLNode.parse(xml)
        var importer = try Importer(root: root, file: file)
        let d = try importer.run()
        // Validate as a model file would be: write it and read it back.
        let toml = TOMLWriter.document(for: d)
        do {
            return (try ModelLoader.load(source: toml, file: file), importer.warnings)
        } catch let error as ModelError {
            let reason = excerpt(error.message, limit: 400)
            throw SBMLImportError("the imported model is not a valid stat3sim model: \(reason)")
        }
    }

    public static func imported(path: String) throws -> (definition: ModelDefinition, warnings: [String]) {
        try imported(fromXML: readFile(path), file: path)
    }

    static func readFile(_ path: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "not readable as UTF-8 text" : "no such file"
            throw SBMLImportError("cannot read the SBML file (\(reason)).")
        }
    }
}

/// The names an expression reads (each once; shared parts are walked each time).
func names(_ e: Expr) -> Set<String> {
    var found = Set<String>()
    var stack = [e]
    while let e = stack.popLast() {
        switch e {
        case .number: break
        case .name(let n): found.insert(n)
        case .negate(let a), .function(_, let a): stack.append(a)
        case .add(let a, let b), .subtract(let a, let b), .multiply(let a, let b), .divide(let a, let b),
            .power(let a, let b), .delay(let a, let b):
            stack.append(a)
            stack.append(b)
        case .select(let a, let b, let c, let d): stack += [a, b, c, d]
        }
    }
    return found
}

/// The value of an expression, or nil when a name has no value yet.
func evaluate(_ e: Expr, _ values: [String: Double]) -> Double? {
    func ev(_ e: Expr) -> Double? {
        switch e {
        case .number(let x): return x
        case .name(let n): return values[n]
        case .negate(let a): return ev(a).map { -$0 }
        case .add(let a, let b):
            guard let x = ev(a), let y = ev(b) else { return nil }
            return x + y
        case .subtract(let a, let b):
            guard let x = ev(a), let y = ev(b) else { return nil }
            return x - y
        case .multiply(let a, let b):
            guard let x = ev(a), let y = ev(b) else { return nil }
            return x * y
        case .divide(let a, let b):
            guard let x = ev(a), let y = ev(b) else { return nil }
            return x / y
        case .power(let a, let b):
            guard let x = ev(a), let y = ev(b) else { return nil }
            return pow(x, y)
        case .function(let f, let a):
            guard let x = ev(a) else { return nil }
            return Expr.apply(f, x)
        case .select(let l, let r, let a, let b):
            guard let x = ev(l), let y = ev(r) else { return nil }
            return x < y ? ev(a) : ev(b)
        // Initial values are computed at the start, where the history is the initial state.
        case .delay(let a, _): return ev(a)
        }
    }
    return ev(e)
}
