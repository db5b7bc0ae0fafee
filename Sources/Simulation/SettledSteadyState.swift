import ODESolver
import ReactionModel

extension Simulator {
    /// The steady state a run settles to, and its sensitivities by `settings.sensitivities`'
    /// parameters, without integrating the sensitivities (AMICI's preequilibration by Newton): a
    /// plain run to `settleTime`, Newton from its end, then J s* = −∂f/∂p on the independent
    /// species with the conservation laws L s* = L s(0) + (∂L/∂p)(y(0) − y*), since the conserved
    /// totals are those of the initial state. Models whose events change the state are refused
    /// (their totals are not the initial ones): integrate with sensitivities instead.
    ///
    /// Returns the state (species in definition order) and s[m·n + i] = dy*_i/dp_m (empty
    /// without a sensitivity request).
    public func settledSteadyState(settings: RunSettings, settleTime: Double) throws -> (
        state: [Double], sensitivities: [Double]
    ) {
        if definition.events.contains(where: { !$0.assignments.isEmpty }) {
            throw SimulationError(
                "the model has events that change its state, so its steady state is not found from the initial "
                    + "totals; integrate it instead.")
        }
        var plain = settings
        plain.sensitivities = nil
        plain.tEnd = settleTime
        plain.outputInterval = settleTime - definition.simulation.tStart
        plain.outputParameters = []
        let course = try run(settings: plain)
        let last = course.times.count - 1
        let final = definition.species.indices.map { course.value(row: last, column: $0) }
        guard let request = settings.sensitivities else {
            let polished = try steadyStateSensitivities(
                from: final, finalSensitivities: [], parameters: [], settings: plain, t: settleTime)
            return (polished.state, [])
        }
        var sensitive = settings
        sensitive.sensitivities = request
        sensitive.tEnd = settleTime
        sensitive.outputInterval = plain.outputInterval
        let prepared = try prepare(scenario: nil, settings: sensitive)
        let run = prepared.sensitivities!.sensitivities
        run.start()
        let steady = try steadyStateSensitivities(
            from: final, finalSensitivities: run.s, parameters: run.parameters, settings: sensitive, t: settleTime,
            totalsFrom: prepared.configured.initial)
        return (steady.state, steady.s)
    }
}
