import Foundation
import ReactionModel

/// An SBML initial assignment kept as an expression, for callers that change the values it is
/// computed from (a PEtab condition or an estimated parameter) and must compute it again.
public struct SBMLInitialAssignment: Sendable, Equatable {
    /// The species, parameter or compartment it sets, by its name in the model definition.
    public var target: String
    /// Its value in stat3sim's terms (a species' concentration), over the definition's names.
    public var expression: ReactionModel.Expression
}

extension SBMLReader {
    /// `imported(path:)`, plus the file's initial assignments as expressions (the definition
    /// holds their values at the file's own parameter values). An assignment to a species with
    /// `hasOnlySubstanceUnits` is given as an amount divided by its compartment's size.
    public static func importedKeepingInitialAssignments(path: String) throws -> (
        definition: ModelDefinition, warnings: [String], initialAssignments: [SBMLInitialAssignment]
    ) {
        let xml = try readFile(path)
        let root = try XMLNode.parse(xml)
        var importer = try Importer(root: root, file: path)
        let d = try importer.run()
        let toml = TOMLWriter.document(for: d)
        let definition: ModelDefinition
        do {
            definition = try ModelLoader.load(source: toml, file: path)
        } catch let error as ModelError {
            let reason = excerpt(error.message, limit: 400)
            throw SBMLImportError("the imported model is not a valid stat3sim model: \(reason)")
        }
        let assignments = importer.initialAssignments.keys.sorted().map { id -> SBMLInitialAssignment in
            var e = importer.initialAssignments[id]!
            if importer.onlySubstance.contains(id), let c = importer.speciesCompartment[id] {
                e = .divide(e, .name(c))
            }
            return SBMLInitialAssignment(target: id, expression: e)
        }
        return (definition, importer.warnings, assignments)
    }
}
