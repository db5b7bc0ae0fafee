/// The right-hand side's derivatives by the model's own quantities, for forward sensitivities:
/// the solver integrates ṡ = J s + ∂f/∂p, and `parameterDerivative` supplies ∂f/∂p symbolically,
/// as `jacobian` supplies J.
///
/// The system's parameters are every model parameter, then every compartment size, then every
/// species' initial value (`SensitivityParameter`). An initial value does not appear in f: its
/// ∂f/∂p is zero and its sensitivity starts at s(0) = e_i. A compartment size enters twice: by
/// name in rate laws, and in the volume ratio V_reaction / V_species of every reaction that
/// moves matter between compartments.
extension ReactionNetwork {
    /// A quantity sensitivities can be taken by.
    public enum SensitivityParameter: Equatable, Sendable {
        case parameter(Int)
        case compartment(Int)
        /// The initial concentration of a species (or the initial value of a parameter with a
        /// rate rule, which is a state variable).
        case initial(Int)
    }

    public var parameterCount: Int { definition.parameters.count + definition.compartments.count + speciesCount }

    /// What system parameter `k` (of `0..<parameterCount`) is.
    public func sensitivityParameter(_ k: Int) -> SensitivityParameter {
        let nP = definition.parameters.count
        let nC = definition.compartments.count
        if k < nP { return .parameter(k) }
        if k < nP + nC { return .compartment(k - nP) }
        return .initial(k - nP - nC)
    }

    /// The system parameter of `quantity`.
    public func sensitivityIndex(of quantity: SensitivityParameter) -> Int {
        let nP = definition.parameters.count
        switch quantity {
        case .parameter(let i): return i
        case .compartment(let i): return nP + i
        case .initial(let i): return nP + definition.compartments.count + i
        }
    }

    /// The system parameter a name stands for: a parameter, a compartment (its size) or a species
    /// (its initial value); nil for observables, time and unknown names.
    public func sensitivityIndex(named name: String) -> Int? {
        switch symbols[name] {
        case .parameter(let i)?: return sensitivityIndex(of: .parameter(i))
        case .compartment(let i)?: return sensitivityIndex(of: .compartment(i))
        case .species(let i)?: return sensitivityIndex(of: .initial(i))
        default: return nil
        }
    }

    /// The name of system parameter `k` (the model's name of the parameter, compartment or species).
    public func sensitivityParameterName(_ k: Int) -> String {
        switch sensitivityParameter(k) {
        case .parameter(let i): return definition.parameters[i].name
        case .compartment(let i): return definition.compartments[i].name
        case .initial(let i): return definition.species[i].name
        }
    }

    /// The value in force of system parameter `k`; for an initial value, `initial[i]`.
    public func sensitivityParameterValue(_ k: Int, initial: [Double]) -> Double {
        switch sensitivityParameter(k) {
        case .parameter(let i): return parameterValue(i)
        case .compartment(let i): return compartmentSize(i)
        case .initial(let i): return initial[i]
        }
    }

    /// Writes ∂f_i/∂p_k into `derivative` (zeroed by the solver). Allocates nothing after the
    /// first call, which compiles the derivative programs.
    public func parameterDerivative(
        t: Double, y: UnsafePointer<Double>, dydt: UnsafePointer<Double>, parameter k: Int,
        derivative: UnsafeMutablePointer<Double>
    ) {
        let terms = parameterTerms
        let byName = terms.parameterCount
        guard k < byName else { return }  // an initial value: ∂f/∂p = 0
        let slots = self.slots
        let changes = self.changes
        // Derivative programs have observables substituted: species, parameters, sizes and t only.
        slots.update(from: y, count: speciesCount)
        slots[timeSlot] = t
        var e = terms.rates.start[k]
        let end = terms.rates.start[k &+ 1]
        while e < end {
            let value = terms.tape.evaluate(terms.rates.entries[e].program, slots)
            if value != 0 { changes.add(value, row: terms.rates.entries[e].index, to: derivative) }
            e &+= 1
        }
        let nP = definition.parameters.count
        guard k >= nP else { return }
        // A compartment size: ν · ∂(V_r/V_s)/∂V · rate for the changes across compartments.
        let compartment = k &- nP
        var v = terms.volumes.start[compartment]
        let volumeEnd = terms.volumes.start[compartment &+ 1]
        if v == volumeEnd { return }
        for j in 0..<rateObservableCount {
            let i = rateObservableOrder[j]
            slots[observableBase &+ i] = tape.evaluate(observablePrograms[i], slots)
        }
        while v < volumeEnd {
            let (c, r) = terms.volumes.entries[v]
            let reactionVolume = slots[compartmentBase &+ reactionCompartment[r]]
            let change = changes.entries[c]
            let speciesCompartment = definition.species[change.species].compartment
            let speciesVolume = slots[compartmentBase &+ speciesCompartment]
            var ratio = 0.0
            if reactionCompartment[r] == compartment { ratio += 1 / speciesVolume }
            if speciesCompartment == compartment { ratio -= reactionVolume / (speciesVolume * speciesVolume) }
            let rate = fastKind[r] == 1 ? massActionRate(r, slots) : tape.evaluate(ratePrograms[r], slots)
            derivative[change.species] += change.stoichiometry * ratio * rate
            v &+= 1
        }
    }

    /// Sensitivities of the observables by the chain rule, dO/dp_k = Σ_j ∂O/∂y_j s_kj + ∂O/∂p_k:
    /// for each system parameter `parameters[m]`, with its state sensitivity in
    /// `s[m*n ..< (m+1)*n]`, writes dO_o/dp into `output[m*nO + o]`. Allocates nothing after the
    /// first call.
    public func observableSensitivities(
        t: Double, y: UnsafePointer<Double>, sensitivities s: UnsafePointer<Double>, parameters: [Int],
        into output: UnsafeMutablePointer<Double>
    ) {
        let terms = observableTerms
        let n = speciesCount
        let nO = definition.observables.count
        slots.update(from: y, count: n)
        slots[timeSlot] = t
        for o in 0..<nO {
            for m in parameters.indices { output[m &* nO &+ o] = 0 }
            for e in terms.species.start[o]..<terms.species.start[o &+ 1] {
                let value = terms.tape.evaluate(terms.species.entries[e].program, slots)
                if value == 0 { continue }
                let j = terms.species.entries[e].index
                for m in parameters.indices { output[m &* nO &+ o] += value * s[m &* n &+ j] }
            }
            for e in terms.parameters.start[o]..<terms.parameters.start[o &+ 1] {
                let k = terms.parameters.entries[e].index
                for (m, p) in parameters.enumerated() where p == k {
                    output[m &* nO &+ o] += terms.tape.evaluate(terms.parameters.entries[e].program, slots)
                }
            }
        }
    }

    /// The observables' derivatives along a direction of the state, Σ_j ∂O/∂y_j v_j, into
    /// `output` (length nO): with v = f(t, y), their rates of change (for observables that do not
    /// name t). Allocates nothing after the first call.
    public func observableDerivatives(
        t: Double, y: UnsafePointer<Double>, along v: UnsafePointer<Double>, into output: UnsafeMutablePointer<Double>
    ) {
        let terms = observableTerms
        slots.update(from: y, count: speciesCount)
        slots[timeSlot] = t
        for o in 0..<definition.observables.count {
            var sum = 0.0
            for e in terms.species.start[o]..<terms.species.start[o &+ 1] {
                sum += terms.tape.evaluate(terms.species.entries[e].program, slots) * v[terms.species.entries[e].index]
            }
            output[o] = sum
        }
    }

    /// `e` with every observable replaced by its definition (recursively): an expression in
    /// species, parameters, compartments and t, ready to differentiate.
    public func inliningObservables(_ e: Expression) -> Expression {
        e.substituting { inlinedObservables[$0] }
    }

    /// Every observable's definition in species, parameters, compartments and t.
    func buildInlinedObservables() -> [String: Expression] {
        var inlined: [String: Expression] = [:]
        for i in observableOrder {
            let o = definition.observables[i]
            inlined[o.name] = o.expression.substituting { inlined[$0] }
        }
        return inlined
    }

    /// Whether `name` is a parameter or a compartment: the quantities f names.
    func isParameterOrCompartment(_ name: String) -> Bool {
        switch symbols[name] {
        case .parameter?, .compartment?: return true
        default: return false
        }
    }

    /// ∂rate_r/∂q for every reaction r and every parameter or compartment q its rate law names
    /// (observables inlined), grouped by q; and the changes whose volume ratio depends on each
    /// compartment.
    func buildParameterTerms() -> ParameterDerivativeTerms {
        let nP = definition.parameters.count
        let nC = definition.compartments.count
        let ruleSpecies = definition.species.indices.filter { definition.species[$0].rateRule != nil }
        let rateExpressions =
            definition.reactions.map { ReactionNetwork.ratePerVolume($0, in: definition) }
            + ruleSpecies.map { definition.species[$0].rateRule! }
        var builder = switchingBuilder()
        var byQuantity = [[(index: Int, program: ProgramRange)]](repeating: [], count: nP + nC)
        for (r, rate) in rateExpressions.enumerated() where changes.start[r + 1] > changes.start[r] {
            let full = inliningObservables(rate)
            let derivatives = full.derivatives(where: isParameterOrCompartment)
            for name in full.names {
                guard let derivative = derivatives[name], let k = sensitivityIndex(named: name) else { continue }
                byQuantity[k].append((r, builder.compile(derivative, slot: slot(of:))))
            }
        }
        var volumes = [[(change: Int, reaction: Int)]](repeating: [], count: nC)
        for r in 0..<reactionCount {
            for c in changes.start[r]..<changes.start[r + 1] {
                let speciesCompartment = definition.species[changes.entries[c].species].compartment
                if speciesCompartment == reactionCompartment[r] { continue }
                volumes[reactionCompartment[r]].append((c, r))
                volumes[speciesCompartment].append((c, r))
            }
        }
        return ParameterDerivativeTerms(
            builder: builder, byQuantity: byQuantity, volumes: volumes)
    }

    /// ∂O/∂y_j and ∂O/∂q for every observable O (inlined) and every species and parameter or
    /// compartment it names.
    func buildObservableTerms() -> ObservableDerivativeTerms {
        var builder = switchingBuilder()
        var bySpecies: [[(index: Int, program: ProgramRange)]] = []
        var byQuantity: [[(index: Int, program: ProgramRange)]] = []
        for o in definition.observables {
            let full = inliningObservables(o.expression)
            let derivatives = full.derivatives { symbols[$0] != .time }
            var species: [(index: Int, program: ProgramRange)] = []
            var quantities: [(index: Int, program: ProgramRange)] = []
            for name in full.names {
                guard let derivative = derivatives[name] else { continue }
                let program = builder.compile(derivative, slot: slot(of:))
                switch symbols[name] {
                case .species(let j)?: species.append((j, program))
                case .parameter?, .compartment?: quantities.append((sensitivityIndex(named: name)!, program))
                default: break
                }
            }
            bySpecies.append(species)
            byQuantity.append(quantities)
        }
        return ObservableDerivativeTerms(builder: builder, bySpecies: bySpecies, byQuantity: byQuantity)
    }
}

/// Compiled ∂rate/∂q by parameter or compartment q (each entry's index: the reaction), with
/// their own tape; and, per compartment, the changes whose volume ratio it enters.
final class ParameterDerivativeTerms {
    let tape: ProgramTape
    let parameterCount: Int
    let rates: ProgramRows
    let volumes: CompressedRows<(change: Int, reaction: Int)>

    init(
        builder: ProgramBuilder, byQuantity: [[(index: Int, program: ProgramRange)]],
        volumes: [[(change: Int, reaction: Int)]]
    ) {
        tape = ProgramTape(builder)
        parameterCount = byQuantity.count
        rates = ProgramRows(byQuantity)
        self.volumes = CompressedRows(volumes)
    }
}

/// Compiled ∂O/∂y_j (index: the species) and ∂O/∂q (index: the system parameter) of every
/// observable, with their own tape.
final class ObservableDerivativeTerms {
    let tape: ProgramTape
    let species: ProgramRows
    let parameters: ProgramRows

    init(
        builder: ProgramBuilder, bySpecies: [[(index: Int, program: ProgramRange)]],
        byQuantity: [[(index: Int, program: ProgramRange)]]
    ) {
        tape = ProgramTape(builder)
        species = ProgramRows(bySpecies)
        parameters = ProgramRows(byQuantity)
    }
}
