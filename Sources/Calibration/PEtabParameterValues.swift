import Foundation
import ReactionModel
import Simulation

extension PEtabProblem {
    /// Parameter values to evaluate the objective at (`petab nll --parameters FILE.tsv`), on the
    /// linear scale, by parameter id: a PEtab parameter table (its `nominalValue` column, as a fit
    /// writes its best parameters) or any TSV with the columns `parameterId` and `value`. Every id
    /// must be in the problem's parameter table, once; parameters the file leaves out keep their
    /// nominal values.
    public func parameterValues(file path: String) throws -> [String: Double] {
        let table = try TSVTable(path: path, display: path)
        let id = try table.requiredColumn("parameterId")
        guard let column = table.column("value") ?? table.column("nominalValue") else {
            throw PEtabError(
                "the table has neither a 'value' nor a 'nominalValue' column (its columns: "
                    + "\(table.header.joined(separator: ", "))).", file: path, line: 1)
        }
        var values: [String: Double] = [:]
        for row in table.rows {
            let name = table.field(row, id)
            guard parameter(name) != nil else {
                throw PEtabError(
                    "'\(name)' is not in the problem's parameter table "
                        + "(\(parameterFile))\(didYouMean(name, among: parameters.map(\.id))).", file: path,
                    line: row.line)
            }
            guard values[name] == nil else {
                throw PEtabError("the parameter '\(name)' is given twice.", file: path, line: row.line)
            }
            let text = table.field(row, column)
            guard let value = petabNumber(text), value.isFinite else {
                throw PEtabError(
                    "the value of '\(name)' is '\(text)', not a finite number.", file: path, line: row.line)
            }
            values[name] = value
        }
        return values
    }
}

extension PEtabProblem {
    /// A PEtab parameter table of the problem's parameters with `values` (linear scale, by id) as
    /// their nominal values: how a fit hands its best parameters to `petab nll --parameters`,
    /// `profile --parameters` or another PEtab tool.
    public func parameterTable(values: [String: Double]) -> String {
        let priors = parameters.contains { $0.prior != nil }
        var header = ["parameterId", "parameterScale", "lowerBound", "upperBound", "nominalValue", "estimate"]
        if priors { header += ["objectivePriorType", "objectivePriorParameters"] }
        var lines = [header.joined(separator: "\t")]
        for p in parameters {
            var fields = [
                p.id, p.scale.rawValue, p.lowerBound.exactText, p.upperBound.exactText,
                (values[p.id] ?? p.nominalValue).exactText, p.estimate ? "1" : "0",
            ]
            if priors {
                fields.append(p.prior?.kind.rawValue ?? "")
                fields.append(p.prior.map { $0.parameters.map(\.exactText).joined(separator: ";") } ?? "")
            }
            lines.append(fields.joined(separator: "\t"))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension PEtabProblem {
    /// SHA-256 of the problem's files (YAML, SBML model, condition, measurement, observable and
    /// parameter tables, concatenated in that order): what a fit's sidecar records.
    public var sha256: String {
        let files = [yamlFile, modelFile, conditionFile, measurementFile, observableFile, parameterFile]
        return SHA256Hex.of(
            files.map { (try? String(contentsOfFile: $0, encoding: .utf8)) ?? "" }.joined(separator: "\u{0}"))
    }
}
