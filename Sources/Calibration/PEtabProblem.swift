import Foundation
import ReactionModel
import SBML
import Yams

public typealias Expr = ReactionModel.Expression

/// A PEtab v1 problem (PEtab-dev/PEtab, doc/v1/documentation_data_format.rst), read and checked:
/// the SBML model, the condition, measurement, observable and parameter tables. Everything it
/// cannot represent is refused by name when it is read (docs/calibration.md lists what).
public struct PEtabProblem: Sendable {
    public var yamlFile: String
    public var modelFile: String
    public var conditionFile: String
    public var measurementFile: String
    public var observableFile: String
    public var parameterFile: String
    public var model: ModelDefinition
    /// The SBML file's initial assignments, computed again for each condition and parameter set.
    public var initialAssignments: [SBMLInitialAssignment]
    public var importWarnings: [String]
    public var parameters: [Parameter]
    public var conditions: [Condition]
    public var observables: [Observable]
    public var measurements: [Measurement]
    /// The measurement table's header.
    public var measurementColumns: [String] = []
    /// Files and columns that were read but play no part in the likelihood (visualisation,
    /// dataset ids, initialisation priors), for `petab check`.
    public var notes: [String]

    /// A number, or a parameter of the parameter table, in a table cell.
    public enum Value: Sendable, Equatable, CustomStringConvertible {
        case number(Double)
        case parameter(String)

        public var description: String {
            switch self {
            case .number(let x): return x.isNaN ? "NaN" : "\(x)"
            case .parameter(let p): return p
            }
        }
    }

    public enum Scale: String, Sendable { case lin, log, log10 }

    public struct Prior: Sendable, Equatable {
        public enum Kind: String, Sendable, CaseIterable {
            case uniform, normal, laplace, logNormal, logLaplace
            case parameterScaleUniform, parameterScaleNormal, parameterScaleLaplace
        }
        public var kind: Kind
        public var parameters: [Double]
    }

    public struct Parameter: Sendable {
        public var id: String
        public var scale: Scale
        public var lowerBound: Double
        public var upperBound: Double
        /// On the linear scale, as the table gives it.
        public var nominalValue: Double
        public var estimate: Bool
        public var prior: Prior?
        public var line: Int
    }

    public struct Condition: Sendable {
        public var id: String
        /// Model parameter, species (initial value) or compartment (size) → value; NaN keeps the
        /// model's value.
        public var overrides: [(target: String, value: Value)]
        public var line: Int
    }

    public enum Transformation: String, Sendable { case lin, log, log10 }
    public enum Distribution: String, Sendable { case normal, laplace }

    public struct Observable: Sendable {
        public var id: String
        public var formula: Expr
        public var noiseFormula: Expr
        public var transformation: Transformation
        public var distribution: Distribution
        /// How many observableParameter{n}_ID and noiseParameter{n}_ID placeholders it has.
        public var observableParameterCount: Int
        public var noiseParameterCount: Int
        public var line: Int
    }

    public struct Measurement: Sendable {
        public var observableId: String
        public var preequilibrationConditionId: String?
        public var simulationConditionId: String
        public var measurement: Double
        public var time: Double
        public var observableParameters: [Value]
        public var noiseParameters: [Value]
        public var line: Int
        /// The row as written (one field per column of `measurementColumns`), for the simulation table.
        public var fields: [String] = []
    }

    public func parameter(_ id: String) -> Parameter? { parameters.first { $0.id == id } }
    public var estimated: [Parameter] { parameters.filter(\.estimate) }
}

extension PEtabProblem {
    /// Reads the problem the YAML file at `path` describes, checking every table against the model.
    public static func load(path: String) throws -> PEtabProblem {
        let files = try YAMLFiles(path: path)
        // Tables are named relative to the YAML file; messages name them as they are opened.
        let folder = (path as NSString).deletingLastPathComponent
        func resolve(_ name: String) -> String {
            name.hasPrefix("/") || folder.isEmpty ? name : (folder as NSString).appendingPathComponent(name)
        }
        let display = resolve
        let modelPath = resolve(files.sbml)
        let imported: (definition: ModelDefinition, warnings: [String], initialAssignments: [SBMLInitialAssignment])
        do {
            imported = try SBMLReader.importedKeepingInitialAssignments(path: modelPath)
        } catch let e as SBMLImportError {
            throw PEtabError("the SBML model cannot be imported: \(e.message)", file: display(files.sbml))
        }
        var problem = PEtabProblem(
            yamlFile: path, modelFile: display(files.sbml), conditionFile: display(files.condition),
            measurementFile: display(files.measurement), observableFile: display(files.observable),
            parameterFile: display(files.parameter), model: imported.definition,
            initialAssignments: imported.initialAssignments, importWarnings: imported.warnings, parameters: [],
            conditions: [], observables: [], measurements: [], notes: files.notes)
        try problem.checkInitialAssignments()
        let parameterTable = try TSVTable(path: resolve(files.parameter), display: problem.parameterFile)
        try problem.readParameters(parameterTable)
        let conditionTable = try TSVTable(path: resolve(files.condition), display: problem.conditionFile)
        try problem.readConditions(conditionTable)
        let observableTable = try TSVTable(path: resolve(files.observable), display: problem.observableFile)
        try problem.readObservables(observableTable)
        let measurementTable = try TSVTable(path: resolve(files.measurement), display: problem.measurementFile)
        try problem.readMeasurements(measurementTable)
        return problem
    }

    /// The initial assignments the objective can compute again: over parameters, compartments
    /// and other assignments' targets (not over rules' values).
    func checkInitialAssignments() throws {
        let targets = Set(initialAssignments.map(\.target))
        for a in initialAssignments {
            for name in a.expression.names where !targets.contains(name) {
                switch model.symbol(named: name) {
                case .parameter, .compartment, .species: continue
                default:
                    throw PEtabError(
                        "the initial assignment to '\(a.target)' uses '\(name)', which is not a parameter, compartment "
                            + "or species; initial assignments over rules' values are not supported.",
                        file: modelFile)
                }
            }
        }
    }
}

/// The file names of a PEtab v1 YAML file: one problem, one file of each kind.
struct YAMLFiles {
    var sbml, condition, measurement, observable, parameter: String
    var notes: [String] = []

    init(path: String) throws {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "not readable as UTF-8 text" : "no such file"
            throw PEtabError("cannot read the PEtab problem (\(reason)).", file: path)
        }
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw PEtabError("the YAML file is empty.", file: path, line: 1)
            }
            root = node
        } catch let e as PEtabError { throw e } catch let e as YamlError {
            throw PEtabError("not valid YAML: \(e)", file: path)
        }
        func line(_ node: Node?) -> Int? { node?.mark?.line }
        guard let top = root.mapping else {
            throw PEtabError(
                "the YAML file must be a mapping (format_version, parameter_file, problems).", file: path,
                line: line(root))
        }
        let known: Set<String> = ["format_version", "parameter_file", "problems", "extensions"]
        for (key, _) in top where !known.contains(key.string ?? "") {
            throw PEtabError(
                "unknown key '\(key.string ?? "?")' (PEtab v1 has format_version, parameter_file, problems).",
                file: path, line: line(key))
        }
        let version = root["format_version"]
        guard let v = version?.string, v == "1" || v == "1.0.0" || v == "1.0" else {
            throw PEtabError(
                "format_version is \(version?.string.map { "'\($0)'" } ?? "missing"); this importer reads PEtab v1 "
                    + "(format_version: 1).", file: path, line: line(version) ?? line(root))
        }
        if let ext = root["extensions"] {
            throw PEtabError("PEtab extensions are not supported.", file: path, line: line(ext))
        }
        guard let parameterFile = root["parameter_file"]?.string, !parameterFile.isEmpty else {
            throw PEtabError("parameter_file is missing.", file: path, line: line(root))
        }
        parameter = parameterFile
        guard let problems = root["problems"]?.sequence, let first = problems.first else {
            throw PEtabError("problems is missing or empty.", file: path, line: line(root["problems"]) ?? line(root))
        }
        if problems.count > 1 {
            throw PEtabError(
                "the file has \(problems.count) problems; one problem per file is supported.", file: path,
                line: line(problems.dropFirst().first))
        }
        func single(_ key: String, required: Bool = true) throws -> String? {
            guard let node = first[key] else {
                if required { throw PEtabError("the problem has no \(key).", file: path, line: line(first)) }
                return nil
            }
            let items = node.sequence.map { Array($0) } ?? [node]
            let names = items.compactMap(\.string).filter { !$0.isEmpty }
            if names.count != 1 {
                if !required && names.isEmpty { return nil }
                throw PEtabError(
                    "\(key) lists \(names.count) files; one file of each kind is supported (merge the tables into one).",
                    file: path, line: line(node))
            }
            return names[0]
        }
        let knownProblem: Set<String> = [
            "sbml_files", "condition_files", "measurement_files", "observable_files", "visualization_files",
            "mapping_files",
        ]
        if let mapping = first.mapping {
            for (key, _) in mapping where !knownProblem.contains(key.string ?? "") {
                throw PEtabError("unknown key '\(key.string ?? "?")' in the problem.", file: path, line: line(key))
            }
        }
        if try single("mapping_files", required: false) != nil {
            throw PEtabError(
                "mapping_files (PEtab mapping tables) are not supported.", file: path,
                line: line(first["mapping_files"]))
        }
        sbml = try single("sbml_files")!
        condition = try single("condition_files")!
        measurement = try single("measurement_files")!
        observable = try single("observable_files")!
        if let visualization = first["visualization_files"] {
            let n = visualization.sequence?.count ?? 1
            notes.append("\(n) visualization file\(n == 1 ? "" : "s") (not read: plots only)")
        }
    }
}
