import Foundation
import ReactionModel

extension PEtabProblem {
    /// The parameter table: every row a parameter of the model or of the observables and noise
    /// models, on its scale, with bounds, nominal value, whether it is estimated and its prior.
    mutating func readParameters(_ table: TSVTable) throws {
        let id = try table.requiredColumn("parameterId")
        let scale = try table.requiredColumn("parameterScale")
        let lower = try table.requiredColumn("lowerBound")
        let upper = try table.requiredColumn("upperBound")
        let nominal = try table.requiredColumn("nominalValue")
        let estimate = try table.requiredColumn("estimate")
        let priorType = table.column("objectivePriorType")
        let priorParameters = table.column("objectivePriorParameters")
        let legacyPrior = table.column("priorType")
        if table.column("initializationPriorType") != nil || table.column("initializationPriorParameters") != nil {
            notes.append("initializationPriorType (not read: it draws starts for fits, not part of the objective)")
        }
        var seen: Set<String> = []
        for row in table.rows {
            func fail(_ message: String) -> PEtabError { PEtabError(message, file: table.file, line: row.line) }
            let name = table.field(row, id)
            guard isIdentifier(name) else { throw fail("parameterId '\(name)' is not a valid identifier.") }
            guard seen.insert(name).inserted else { throw fail("the parameter '\(name)' is listed twice.") }
            switch model.symbol(named: name) {
            case .species?:
                throw fail(
                    "'\(name)' is a species of the model; the parameter table lists parameters and compartments.")
            case .observable?:
                throw fail(
                    "'\(name)' is computed by an assignment rule of the model; the parameter table lists parameters "
                        + "and compartments.")
            default: break
            }
            let scaleText = table.field(row, scale)
            guard let s = Scale(rawValue: scaleText.isEmpty ? "lin" : scaleText) else {
                throw fail("parameterScale '\(scaleText)' of '\(name)' is not lin, log or log10.")
            }
            let estimated: Bool
            switch table.field(row, estimate) {
            case "1": estimated = true
            case "0": estimated = false
            case let other: throw fail("estimate of '\(name)' is '\(other)'; it must be 0 or 1.")
            }
            guard let value = petabNumber(table.field(row, nominal)), value.isFinite else {
                throw fail("nominalValue of '\(name)' is '\(table.field(row, nominal))'; it must be a finite number.")
            }
            let lo = petabNumber(table.field(row, lower)) ?? .nan
            let hi = petabNumber(table.field(row, upper)) ?? .nan
            if estimated {
                guard !lo.isNaN, !hi.isNaN, lo <= hi else {
                    throw fail(
                        "the bounds of the estimated parameter '\(name)' must be numbers with lowerBound ≤ upperBound.")
                }
                if s != .lin, lo <= 0 {
                    throw fail(
                        "the bounds of '\(name)' must be positive on the \(s.rawValue) scale (lowerBound is \(lo)).")
                }
            }
            if s != .lin, value <= 0 {
                throw fail("nominalValue of '\(name)' must be positive on the \(s.rawValue) scale (it is \(value)).")
            }
            if let legacyPrior, !table.field(row, legacyPrior).isEmpty {
                throw fail(
                    "priorType '\(table.field(row, legacyPrior))' of '\(name)': the column priorType (before PEtab v1) "
                        + "is not read; give objectivePriorType and objectivePriorParameters.")
            }
            var prior: Prior? = nil
            let kindText = table.field(row, priorType)
            if !kindText.isEmpty {
                guard let kind = Prior.Kind(rawValue: kindText) else {
                    throw fail(
                        "objectivePriorType '\(kindText)' of '\(name)' is not a PEtab v1 prior ("
                            + Prior.Kind.allCases.map(\.rawValue).joined(separator: ", ") + ").")
                }
                let numbers = table.field(row, priorParameters).split(separator: ";").map {
                    Double($0.trimmingCharacters(in: .whitespaces))
                }
                guard numbers.count == 2, let a = numbers[0], let b = numbers[1], a.isFinite, b.isFinite else {
                    throw fail(
                        "objectivePriorParameters of '\(name)' must be two numbers 'a;b' for \(kindText), not "
                            + "'\(table.field(row, priorParameters))'.")
                }
                if kind.isUniform ? !(a < b) : !(b > 0) {
                    throw fail(
                        "objectivePriorParameters '\(a);\(b)' of '\(name)': "
                            + (kind.isUniform
                                ? "the lower bound must be below the upper." : "the scale must be positive."))
                }
                if estimated { prior = Prior(kind: kind, parameters: [a, b]) }
            }
            parameters.append(
                Parameter(
                    id: name, scale: s, lowerBound: lo, upperBound: hi, nominalValue: value, estimate: estimated,
                    prior: prior, line: row.line))
        }
    }

    /// The condition table: one row per condition, one column per model parameter, species or
    /// compartment it sets.
    mutating func readConditions(_ table: TSVTable) throws {
        let id = try table.requiredColumn("conditionId")
        var targets: [(column: Int, name: String)] = []
        for (c, name) in table.header.enumerated() where c != id && name != "conditionName" {
            switch model.symbol(named: name) {
            case .parameter?, .species?, .compartment?:
                if case .species(let i)? = model.symbol(named: name), model.species[i].isParameter {
                    throw PEtabError(
                        "the column '\(name)' sets a parameter that a rate rule changes; conditions on it are not "
                            + "supported.", file: table.file, line: 1)
                }
                targets.append((c, name))
            case .observable?:
                throw PEtabError(
                    "the column '\(name)' names a quantity an assignment rule computes; a condition cannot set it.",
                    file: table.file, line: 1)
            default:
                throw PEtabError(
                    "the column '\(name)' is not a parameter, species or compartment of the model "
                        + "\(modelFile)\(didYouMean(name, among: model.parameters.map(\.name) + model.species.map(\.name))).",
                    file: table.file, line: 1)
            }
            if parameter(name) != nil {
                throw PEtabError(
                    "the column '\(name)' is also a row of the parameter table \(parameterFile); a quantity is set by "
                        + "one or the other.", file: table.file, line: 1)
            }
        }
        var seen: Set<String> = []
        for row in table.rows {
            let name = table.field(row, id)
            guard isIdentifier(name) else {
                throw PEtabError("conditionId '\(name)' is not a valid identifier.", file: table.file, line: row.line)
            }
            guard seen.insert(name).inserted else {
                throw PEtabError("the condition '\(name)' is listed twice.", file: table.file, line: row.line)
            }
            let overrides = try targets.map { target -> (target: String, value: Value) in
                let text = table.field(row, target.column)
                return (
                    target.name,
                    try value(text, what: "the value of '\(target.name)'", file: table.file, line: row.line)
                )
            }
            conditions.append(Condition(id: name, overrides: overrides, line: row.line))
        }
    }

    /// A cell holding a number (NaN allowed) or a parameter of the parameter table.
    func value(_ text: String, what: String, file: String, line: Int) throws -> Value {
        if let x = petabNumber(text) {
            guard !x.isInfinite else {
                throw PEtabError("\(what) is \(text); it must be finite.", file: file, line: line)
            }
            return .number(x)
        }
        guard !text.isEmpty else {
            throw PEtabError("\(what) is empty; give a number, NaN or a parameter id.", file: file, line: line)
        }
        guard parameter(text) != nil else {
            throw PEtabError(
                "\(what) is '\(text)', which is neither a number nor a parameter of \(parameterFile)"
                    + "\(didYouMean(text, among: parameters.map(\.id))).", file: file, line: line)
        }
        return .parameter(text)
    }

    /// The observable table: formulas of the observables and of their noise, over the model's
    /// names, the parameter table and the placeholders each measurement binds.
    mutating func readObservables(_ table: TSVTable) throws {
        let id = try table.requiredColumn("observableId")
        let formula = try table.requiredColumn("observableFormula")
        let noise = try table.requiredColumn("noiseFormula")
        let transformation = table.column("observableTransformation")
        let distribution = table.column("noiseDistribution")
        var seen: Set<String> = []
        for row in table.rows {
            func fail(_ message: String) -> PEtabError { PEtabError(message, file: table.file, line: row.line) }
            let name = table.field(row, id)
            guard isIdentifier(name) else { throw fail("observableId '\(name)' is not a valid identifier.") }
            guard seen.insert(name).inserted else { throw fail("the observable '\(name)' is listed twice.") }
            let tText = table.field(row, transformation)
            guard let t = Transformation(rawValue: tText.isEmpty ? "lin" : tText) else {
                throw fail("observableTransformation '\(tText)' of '\(name)' is not lin, log or log10.")
            }
            let dText = table.field(row, distribution)
            guard let d = Distribution(rawValue: dText.isEmpty ? "normal" : dText) else {
                throw fail("noiseDistribution '\(dText)' of '\(name)' is not normal or laplace.")
            }
            var counts = (observable: 0, noise: 0)
            func parse(_ text: String, _ column: String) throws -> Expr {
                let e: Expr
                do { e = try ExpressionParser.parse(text) } catch let error as ExpressionSyntaxError {
                    throw fail(
                        "\(column) of '\(name)' \"\(text)\": \(error.message) (at character \(error.offset + 1)).")
                }
                for n in e.names {
                    if let k = placeholder(n, "observableParameter", name) {
                        counts.observable = max(counts.observable, k)
                        continue
                    }
                    if let k = placeholder(n, "noiseParameter", name) {
                        counts.noise = max(counts.noise, k)
                        continue
                    }
                    if n == "time" || model.symbol(named: n) != nil || parameter(n) != nil { continue }
                    let known = model.species.map(\.name) + model.parameters.map(\.name) + parameters.map(\.id)
                    throw fail(
                        "\(column) of '\(name)' uses '\(n)', which is not a model quantity, a parameter of "
                            + "\(parameterFile) or a placeholder of this observable\(didYouMean(n, among: known)).")
                }
                return e
            }
            let f = try parse(table.field(row, formula), "observableFormula")
            let sigma = try parse(table.field(row, noise), "noiseFormula")
            observables.append(
                Observable(
                    id: name, formula: f, noiseFormula: sigma, transformation: t, distribution: d,
                    observableParameterCount: counts.observable, noiseParameterCount: counts.noise, line: row.line))
        }
    }

    /// The measurement table: one datum per row, with the conditions and the placeholder values.
    mutating func readMeasurements(_ table: TSVTable) throws {
        let observable = try table.requiredColumn("observableId")
        let simulation = try table.requiredColumn("simulationConditionId")
        let measurement = try table.requiredColumn("measurement")
        let time = try table.requiredColumn("time")
        let preequilibration = table.column("preequilibrationConditionId")
        let observableParameters = table.column("observableParameters")
        let noiseParameters = table.column("noiseParameters")
        let byId = Dictionary(observables.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let conditionIds = Set(conditions.map(\.id))
        for row in table.rows {
            func fail(_ message: String) -> PEtabError { PEtabError(message, file: table.file, line: row.line) }
            let obsId = table.field(row, observable)
            guard let obs = byId[obsId] else {
                throw fail(
                    "observableId '\(obsId)' is not in \(observableFile)\(didYouMean(obsId, among: observables.map(\.id)))."
                )
            }
            func condition(_ c: Int?, _ column: String) throws -> String? {
                let name = table.field(row, c)
                if name.isEmpty { return nil }
                guard conditionIds.contains(name) else {
                    throw fail(
                        "\(column) '\(name)' is not in \(conditionFile)"
                            + "\(didYouMean(name, among: conditions.map(\.id))).")
                }
                return name
            }
            guard let sim = try condition(simulation, "simulationConditionId") else {
                throw fail("simulationConditionId is empty.")
            }
            let pre = try condition(preequilibration, "preequilibrationConditionId")
            guard let y = petabNumber(table.field(row, measurement)), y.isFinite else {
                throw fail("measurement '\(table.field(row, measurement))' is not a finite number.")
            }
            guard let t = petabNumber(table.field(row, time)), !t.isNaN, t >= 0 else {
                throw fail("time '\(table.field(row, time))' is not a number ≥ 0 (or inf).")
            }
            if t.isInfinite {
                // A steady-state measurement: its formulas are evaluated at the steady state, where
                // the model's assignment-rule values are not kept.
                for name in obs.formula.names + obs.noiseFormula.names {
                    if case .observable? = model.symbol(named: name) {
                        throw fail(
                            "time inf: '\(obsId)' uses '\(name)', a value the model computes by an assignment rule; a "
                                + "steady-state measurement can use species and parameters only.")
                    }
                }
            }
            if obs.transformation != .lin, y <= 0 {
                throw fail(
                    "measurement \(y) of '\(obsId)' must be positive: its transformation is \(obs.transformation).")
            }
            func values(_ c: Int?, _ column: String, _ count: Int) throws -> [Value] {
                let text = table.field(row, c)
                let parts =
                    text.isEmpty
                    ? []
                    : text.split(separator: ";", omittingEmptySubsequences: false).map {
                        $0.trimmingCharacters(in: .whitespaces)
                    }
                guard parts.count == count else {
                    throw fail(
                        "\(column) '\(text)' gives \(parts.count) value\(parts.count == 1 ? "" : "s"); the formula of "
                            + "'\(obsId)' has \(count) placeholder\(count == 1 ? "" : "s") to bind.")
                }
                return try parts.map {
                    try value($0, what: "\(column) of '\(obsId)'", file: table.file, line: row.line)
                }
            }
            let op = try values(observableParameters, "observableParameters", obs.observableParameterCount)
            let np = try values(noiseParameters, "noiseParameters", obs.noiseParameterCount)
            measurements.append(
                Measurement(
                    observableId: obsId, preequilibrationConditionId: pre, simulationConditionId: sim, measurement: y,
                    time: t, observableParameters: op, noiseParameters: np, line: row.line,
                    fields: table.header.indices.map { table.field(row, $0) }))
        }
        measurementColumns = table.header
        if measurements.isEmpty { throw PEtabError("the measurement table has no rows.", file: table.file, line: 1) }
    }
}

/// `n` when `name` is `PREFIX{n}_OBSERVABLE`.
func placeholder(_ name: String, _ prefix: String, _ observable: String) -> Int? {
    guard name.hasPrefix(prefix), name.hasSuffix("_" + observable) else { return nil }
    let middle = name.dropFirst(prefix.count).dropLast(observable.count + 1)
    guard let n = Int(middle), n >= 1 else { return nil }
    return n
}

func isIdentifier(_ s: String) -> Bool {
    guard let first = s.unicodeScalars.first, first == "_" || CharacterSet.letters.contains(first) else { return false }
    return s.unicodeScalars.allSatisfy { $0 == "_" || CharacterSet.alphanumerics.contains($0) }
}

extension PEtabProblem.Prior.Kind {
    var isUniform: Bool { self == .uniform || self == .parameterScaleUniform }
}

extension PEtabProblem {
    /// The PEtab simulation table: the measurement table with its `measurement` column renamed
    /// `simulation` and holding `simulated[k]` for measurement k (shortest round-trip numbers).
    public func simulationTable(_ simulated: [Double]) -> String {
        let column = measurementColumns.firstIndex(of: "measurement")
        var lines = [measurementColumns.map { $0 == "measurement" ? "simulation" : $0 }.joined(separator: "\t")]
        for (k, m) in measurements.enumerated() {
            var fields = m.fields
            if let column { fields[column] = simulated[k].exactText }
            lines.append(fields.joined(separator: "\t"))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
