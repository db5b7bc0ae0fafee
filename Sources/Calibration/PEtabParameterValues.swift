import Foundation
import ReactionModel

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
