import ReactionModel
import Testing

/// Every mistake a modeller can make in a file gets one paragraph naming the file, the line, the
/// place and what was expected. Each case is the valid `base` model with one mistake (the first
/// occurrence of `replace` changed to `with`); the exact message is asserted, so a change of
/// wording is a deliberate change of this file.
@Suite("Model file errors: exact messages")
struct ModelErrorTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let replace: String
        let with: String
        let message: String
        var testDescription: String { name }

        var source: String {
            let range = ModelErrorTests.base.range(of: replace)!
            return ModelErrorTests.base.replacingCharacters(in: range, with: with)
        }
    }

    static let base = """
        [model]
        name = "base"

        [species]
        A = 1.0
        B = 0.0
        C = { initial = 2.0, constant = true }

        [parameters]
        k1 = 0.5
        k2 = 0.1

        [observables]
        total = "A + B"

        [[reactions]]
        id = "conv"
        equation = "A <-> B"
        forward = "k1"
        reverse = "k2"

        [[reactions]]
        equation = "C -> A"
        rate = "k2 * C"

        [[events]]
        at = 5
        set = { A = "A + 1" }

        [simulation]
        t_end = 10
        output_interval = 1

        [[scenarios]]
        name = "fast"
        parameters = { k1 = 5 }

        """

    static let cases: [Case] = [
        Case(
            name: "syntaxError", replace: "k1 = 0.5\n", with: "k1 = = 0.5\n",
            message:
                #"model.toml:10: TOML syntax error: Error while parsing value: could not determine value type "#
                + #"(column 6)."#
        ),
        Case(
            name: "unknownTable", replace: "[simulation]\n", with: "[simulaton]\n",
            message:
                #"model.toml:30: unknown table [simulaton] (did you mean [simulation]?); a model file has the "#
                + #"tables [model], [compartments], [species], [parameters], [observables], [rate_rules], "#
                + #"[reactions], [events], [simulation], [scenarios], [sweep]."#
        ),
        Case(
            name: "unknownTopLevelKey", replace: "[model]\n", with: "title = \"x\"\n[model]\n",
            message:
                #"model.toml:1: unknown top-level key 'title'; a model file has the tables [model], [compartments], "#
                + #"[species], [parameters], [observables], [rate_rules], [reactions], [events], [simulation], "#
                + #"[scenarios], [sweep]."#
        ),
        Case(
            name: "noSpecies", replace: "[species]\nA = 1.0\nB = 0.0\nC = { initial = 2.0, constant = true }\n",
            with: "",
            message:
                #"model.toml:10: observable 'total' "A + B" uses 'A', which is not a species, parameter, "#
                + #"compartment or observable (did you mean 't'?)."#
        ),
        Case(
            name: "negativeInitial", replace: "A = 1.0\n", with: "A = -1.0\n",
            message: #"model.toml:5: the initial concentration of species 'A' must be a finite number ≥ 0, not -1 "#
                + #"(declare it with may_be_negative = true if it may be negative)."#),
        Case(
            name: "nonFiniteInitial", replace: "A = 1.0\n", with: "A = nan\n",
            message: #"model.toml:5: the initial concentration of species 'A' must be a finite number ≥ 0, not "#
                + #"nan."#),
        Case(
            name: "initialNotANumber", replace: "A = 1.0\n", with: "A = \"lots\"\n",
            message: #"model.toml:5: the initial concentration of species 'A' must be a number, not the string "lots"."#
        ),
        Case(
            name: "unknownSpeciesKey", replace: "C = { initial = 2.0, constant = true }\n",
            with: "C = { inital = 2.0, constant = true }\n",
            message:
                #"model.toml:7: [species] C has an unknown key 'inital' (did you mean 'initial'?); the keys allowed "#
                + #"here are initial, compartment, constant, unit, description, may_be_negative, atol."#
        ),
        Case(
            name: "constantNotBool", replace: "C = { initial = 2.0, constant = true }\n",
            with: "C = { initial = 2.0, constant = \"yes\" }\n",
            message: #"model.toml:7: 'constant' of species 'C' must be true or false, not the string "yes"."#),
        Case(
            name: "unknownCompartment", replace: "C = { initial = 2.0, constant = true }\n",
            with: "C = { initial = 2.0, compartment = \"cytosol\" }\n",
            message: #"model.toml:7: species 'C' is in compartment 'cytosol', which is not declared in [compartments]."#
        ),
        Case(
            name: "compartmentSizeZero", replace: "name = \"base\"\n\n",
            with: "name = \"base\"\n\n[compartments]\ncell = 0\n\n",
            message: #"model.toml:5: the size of compartment 'cell' must be > 0, not 0."#),
        Case(
            name: "compartmentMissingForSpecies", replace: "name = \"base\"\n\n",
            with: "name = \"base\"\n\n[compartments]\ncyt = 1\nnuc = 0.5\n\n",
            message: #"model.toml:9: species 'A' needs a compartment: the model has 2 (cyt, nuc)."#),
        Case(
            name: "duplicateName", replace: "k2 = 0.1\n", with: "k2 = 0.1\nA = 3\n",
            message: #"model.toml:12: 'A' is declared both as a species and as a parameter; names must be unique."#),
        Case(
            name: "badName", replace: "k2 = 0.1\n", with: "k2 = 0.1\n\"k-3\" = 1\n",
            message:
                #"model.toml:12: the parameter name 'k-3' is not usable in expressions: names start with a letter "#
                + #"or '_' and contain only ASCII letters, digits and '_'."#
        ),
        Case(
            name: "reservedName", replace: "k2 = 0.1\n", with: "k2 = 0.1\nt = 1\n",
            message: #"model.toml:12: 't' is reserved for time and cannot name a parameter."#),
        Case(
            name: "parameterInfinite", replace: "k1 = 0.5\n", with: "k1 = inf\n",
            message:
                #"model.toml:19: the forward rate constant of reaction 'conv' is the parameter 'k1', whose value "#
                + #"inf is not a finite number; rate constants must be finite and ≥ 0."#
        ),
        Case(
            name: "noEquation", replace: "equation = \"A <-> B\"\n", with: "",
            message: #"model.toml:16: reaction 'conv' has no equation (e.g. equation = "A + B -> C")."#),
        Case(
            name: "noArrow", replace: "equation = \"A <-> B\"\n", with: "equation = \"A = B\"\n",
            message:
                #"model.toml:18: reaction 'conv': the equation "A = B" has no arrow; write "A + B -> C" "#
                + #"(irreversible) or "A <-> B" (reversible)."#
        ),
        Case(
            name: "unknownSpeciesInEquation", replace: "equation = \"A <-> B\"\n", with: "equation = \"A <-> Bb\"\n",
            message:
                #"model.toml:18: reaction 'conv': the equation "A <-> Bb" names 'Bb', which is not a declared "#
                + #"species (did you mean 'B'?)."#
        ),
        Case(
            name: "coefficientWithoutSpace", replace: "equation = \"A <-> B\"\n", with: "equation = \"2A <-> B\"\n",
            message:
                #"model.toml:18: reaction 'conv': the equation "2A <-> B" has the term '2A'; separate a coefficient "#
                + #"from the species with a space ("2 A")."#
        ),
        Case(
            name: "negativeCoefficient", replace: "equation = \"A <-> B\"\n", with: "equation = \"-1 A <-> B\"\n",
            message:
                #"model.toml:18: reaction 'conv': the equation "-1 A <-> B" has the coefficient -1; stoichiometric "#
                + #"coefficients must be > 0."#
        ),
        Case(
            name: "emptyEquation", replace: "equation = \"A <-> B\"\n", with: "equation = \" -> \"\n",
            message: #"model.toml:18: reaction 'conv': the equation " -> " has no species on either side."#),
        Case(
            name: "twoArrows", replace: "equation = \"A <-> B\"\n", with: "equation = \"A -> B -> C\"\n",
            message: #"model.toml:18: reaction 'conv': the equation "A -> B -> C" has more than one arrow."#),
        Case(
            name: "rateAndForward", replace: "rate = \"k2 * C\"\n", with: "rate = \"k2 * C\"\nforward = \"k1\"\n",
            message:
                #"model.toml:24: reaction 'R2' has both a general 'rate' and mass-action 'forward'; give one or the "#
                + #"other."#
        ),
        Case(
            name: "noKinetics", replace: "rate = \"k2 * C\"\n", with: "",
            message:
                #"model.toml:22: reaction 'R2' has no kinetics: give a mass-action rate constant 'forward' (and "#
                + #"'reverse' for <->) or a general 'rate'."#
        ),
        Case(
            name: "reversibleWithoutReverse", replace: "reverse = \"k2\"\n", with: "",
            message: #"model.toml:18: reaction 'conv' is reversible (<->) but has no 'reverse' rate constant."#),
        Case(
            name: "reverseOnIrreversible", replace: "equation = \"A <-> B\"\n", with: "equation = \"A -> B\"\n",
            message:
                #"model.toml:20: reaction 'conv' has a 'reverse' rate constant but its equation is irreversible "#
                + #"(->); write <-> to make it reversible."#
        ),
        Case(
            name: "negativeRateConstant", replace: "forward = \"k1\"\n", with: "forward = -0.5\n",
            message:
                #"model.toml:19: the forward rate constant of reaction 'conv' is negative (-0.5); rate constants "#
                + #"must be ≥ 0 (write the reaction the other way round instead)."#
        ),
        Case(
            name: "negativeParameterAsRateConstant", replace: "k1 = 0.5\n", with: "k1 = -0.5\n",
            message:
                #"model.toml:19: the forward rate constant of reaction 'conv' is the parameter 'k1', whose value "#
                + #"-0.5 is negative; rate constants must be ≥ 0."#
        ),
        Case(
            name: "rateSyntaxError", replace: "rate = \"k2 * C\"\n", with: "rate = \"k2 * (C\"\n",
            message:
                #"model.toml:24: the rate law of reaction 'R2' "k2 * (C" is not a valid expression: missing ')' at "#
                + #"character 8."#
        ),
        Case(
            name: "undefinedNameInRate", replace: "rate = \"k2 * C\"\n", with: "rate = \"kk2 * C\"\n",
            message:
                #"model.toml:24: the rate law of reaction 'R2' "kk2 * C" uses 'kk2', which is not a species, "#
                + #"parameter, compartment or observable (did you mean 'k2'?)."#
        ),
        Case(
            name: "unknownFunction", replace: "rate = \"k2 * C\"\n", with: "rate = \"k2 * sinc(C)\"\n",
            message:
                #"model.toml:24: the rate law of reaction 'R2' "k2 * sinc(C)" is not a valid expression: unknown "#
                + #"function 'sinc' (known: exp, log, ln, log10, sqrt, abs, floor, ceil, factorial, sin, cos, tan, "#
                + #"asin, acos, atan, sinh, cosh, tanh, asinh, acosh, atanh, min, max, pow, hill, if_less, delay) at "#
                + #"character 6."#
        ),
        Case(
            name: "doubleStarPower", replace: "rate = \"k2 * C\"\n", with: "rate = \"k2 * C**2\"\n",
            message:
                #"model.toml:24: the rate law of reaction 'R2' "k2 * C**2" is not a valid expression: '**' is not "#
                + #"an operator; write powers as a^b at character 7."#
        ),
        Case(
            name: "duplicateReactionId", replace: "reverse = \"k2\"\n\n[[reactions]]\n",
            with: "reverse = \"k2\"\n\n[[reactions]]\nid = \"conv\"\n",
            message: #"model.toml:23: two reactions have the id 'conv'; ids must be unique."#),
        Case(
            name: "unknownReactionKey", replace: "rate = \"k2 * C\"\n", with: "rates = \"k2 * C\"\n",
            message:
                #"model.toml:24: reaction #2 has an unknown key 'rates' (did you mean 'rate'?); the keys allowed "#
                + #"here are id, equation, forward, reverse, rate, description."#
        ),
        Case(
            name: "observableCycle", replace: "total = \"A + B\"\n",
            with: "total = \"A + other\"\nother = \"2 * total\"\n",
            message: #"model.toml:14: observables refer to each other in a cycle: total → other → total."#),
        Case(
            name: "observableUndefinedName", replace: "total = \"A + B\"\n", with: "total = \"A + D\"\n",
            message:
                #"model.toml:14: observable 'total' "A + D" uses 'D', which is not a species, parameter, "#
                + #"compartment or observable (did you mean 'A'?)."#
        ),
        Case(
            name: "eventOutsideRun", replace: "at = 5\n", with: "at = 50\n",
            message: #"model.toml:27: event #1 happens at t = 50, outside the run [0, 10]."#),
        Case(
            name: "eventListOutsideRun", replace: "at = 5\n", with: "at = [2, 4, -1]\n",
            message: #"model.toml:27: event #1 happens at t = -1, outside the run [0, 10]."#),
        Case(
            name: "eventUnknownTarget", replace: "set = { A = \"A + 1\" }\n", with: "set = { AA = 1 }\n",
            message: #"model.toml:28: event #1 sets 'AA', which is not a species or parameter (did you mean 'A'?)."#),
        Case(
            name: "eventSetsObservable", replace: "set = { A = \"A + 1\" }\n", with: "set = { total = 1 }\n",
            message:
                #"model.toml:28: event #1 sets 'total', which is not a species or parameter; events can set only "#
                + #"species and parameters."#
        ),
        Case(
            name: "eventWithoutAt", replace: "at = 5\n", with: "",
            message:
                #"model.toml:26: event #1 has no time 'at' (a number or a list of numbers) and no condition 'when'."#),
        Case(
            name: "eventWithoutSet", replace: "set = { A = \"A + 1\" }\n", with: "",
            message: #"model.toml:26: event #1 has no assignments 'set' (e.g. set = { IL6 = 0 })."#),
        Case(
            name: "tEndBeforeStart", replace: "t_end = 10\n", with: "t_start = 10\nt_end = 5\n",
            message: #"model.toml:32: [simulation] t_end (5) must be later than t_start (10)."#),
        Case(
            name: "outputIntervalZero", replace: "output_interval = 1\n", with: "output_interval = 0\n",
            message: #"model.toml:32: [simulation] output_interval must be > 0, not 0."#),
        Case(
            name: "outputTimesDescending", replace: "output_interval = 1\n", with: "output_times = [0, 5, 2]\n",
            message: #"model.toml:32: [simulation] output_times must be strictly ascending; 2 follows 5."#),
        Case(
            name: "rtolNegative", replace: "output_interval = 1\n", with: "output_interval = 1\nrtol = -1e-6\n",
            message: #"model.toml:33: [simulation] rtol must be > 0, not -1e-06."#),
        Case(
            name: "unknownSimulationKey", replace: "t_end = 10\n", with: "tend = 10\n",
            message:
                #"model.toml:31: [simulation] has an unknown key 'tend' (did you mean 't_end'?); the keys allowed "#
                + #"here are t_start, t_end, output_interval, output_times, rtol, atol."#
        ),
        Case(
            name: "scenarioUnknownParameter", replace: "parameters = { k1 = 5 }\n", with: "parameters = { k3 = 5 }\n",
            message: #"model.toml:36: scenario 'fast' sets parameter 'k3', which is not declared (did you mean 'k1'?)."#
        ),
        Case(
            name: "scenarioWithoutName", replace: "name = \"fast\"\n", with: "",
            message: #"model.toml:34: scenario #1 has no name."#),
        Case(
            name: "duplicateScenario", replace: "parameters = { k1 = 5 }\n",
            with: "parameters = { k1 = 5 }\n\n[[scenarios]]\nname = \"fast\"\n",
            message: #"model.toml:39: two scenarios are named 'fast'; scenario names must be unique."#),
        Case(
            name: "scenarioNegativeInitial", replace: "parameters = { k1 = 5 }\n", with: "initial = { A = -2 }\n",
            message: #"model.toml:36: scenario 'fast' gives species 'A' the negative initial concentration -2."#),
        // Extensions for SBML: rate rules and state events.
        Case(
            name: "rateRuleOnCompartment", replace: "[observables]\n",
            with: "[rate_rules]\ncell = \"1\"\n\n[observables]\n",
            message:
                #"model.toml:14: 'cell' is a compartment; rate rules can change species and parameters only "#
                + #"(compartment sizes are fixed during a run)."#
        ),
        Case(
            name: "rateRuleOnObservable", replace: "[observables]\ntotal = \"A + B\"\n",
            with: "[observables]\ntotal = \"A + B\"\n\n[rate_rules]\ntotal = \"1\"\n",
            message:
                #"model.toml:17: 'total' is an observable, defined by its expression; a rate rule needs a species "#
                + #"or parameter."#
        ),
        Case(
            name: "rateRuleUnknownName", replace: "[observables]\n",
            with: "[rate_rules]\nk3 = \"1\"\n\n[observables]\n",
            message:
                #"model.toml:14: [rate_rules] names 'k3', which is not a declared species or parameter (did you "#
                + #"mean 'k1'?)."#
        ),
        Case(
            name: "rateRuleOnConstantSpecies", replace: "[observables]\n",
            with: "[rate_rules]\nC = \"-C\"\n\n[observables]\n",
            message:
                #"model.toml:14: species 'C' is constant but has a rate rule; drop 'constant = true' (a rate rule "#
                + #"alone decides how it changes)."#
        ),
        Case(
            name: "rateRuleOnReactingSpecies", replace: "[observables]\n",
            with: "[rate_rules]\nB = \"-B\"\n\n[observables]\n",
            message:
                #"model.toml:14: reaction 'conv' changes 'B', which has a rate rule; a rate rule alone decides how "#
                + #"a quantity changes (a reaction may still use it as a catalyst, written on both sides of its "#
                + #"equation)."#
        ),
        Case(
            name: "rateRuleBadExpression", replace: "[observables]\n",
            with: "[rate_rules]\nk2 = \"-k2 *\"\n\n[observables]\n",
            message:
                #"model.toml:14: the rate rule of 'k2' "-k2 *" is not a valid expression: the expression ends too "#
                + #"early at character 6."#
        ),
        Case(
            name: "eventAtAndWhen", replace: "at = 5\n", with: "at = 5\nwhen = \"A < 1\"\n",
            message: #"model.toml:28: event #1 has both a time 'at' and a condition 'when'; give one."#),
        Case(
            name: "eventWhenNotACondition", replace: "at = 5\n", with: "when = \"A + 1\"\n",
            message:
                #"model.toml:27: the condition 'when' of event #1 "A + 1" is not a valid condition: expected a "#
                + #"comparison (< <= > >= == !=) but found the end at character 6."#
        ),
        Case(
            name: "eventWhenUnknownName", replace: "at = 5\n", with: "when = \"AA < 1 and B > 0\"\n",
            message:
                #"model.toml:27: the condition 'when' of event #1 "AA < 1 and B > 0" uses 'AA', which is not a "#
                + #"species, parameter, compartment or observable (did you mean 'A'?)."#
        ),
        Case(
            name: "eventDelayWithoutWhen", replace: "at = 5\n", with: "at = 5\ndelay = 2\n",
            message:
                #"model.toml:28: event #1 has 'delay', which belongs to a state event; add a condition 'when' or "#
                + #"drop it."#
        ),
        Case(
            name: "eventNegativeDelay", replace: "at = 5\n", with: "when = \"A < 1\"\ndelay = -2\n",
            message: #"model.toml:28: the delay of event #1 is negative (-2); a delay must be ≥ 0."#),
        Case(
            name: "eventPersistentNotBool", replace: "at = 5\n", with: "when = \"A < 1\"\npersistent = 1\n",
            message: #"model.toml:28: 'persistent' of event #1 must be true or false, not the integer 1."#),
        Case(
            name: "reactionsNotArray",
            replace:
                "[[reactions]]\nid = \"conv\"\nequation = \"A <-> B\"\nforward = \"k1\"\nreverse = \"k2\"\n\n"
                + "[[reactions]]\nequation = \"C -> A\"\nrate = \"k2 * C\"\n\n[[events]]\nat = 5\n"
                + "set = { A = \"A + 1\" }\n\n[simulation]\nt_end = 10\noutput_interval = 1\n\n[[scenarios]]\n"
                + "name = \"fast\"\nparameters = { k1 = 5 }\n",
            with: "[reactions]\nid = \"conv\"\nequation = \"A <-> B\"\nforward = \"k1\"\nreverse = \"k2\"\n\n",
            message: #"model.toml:16: reactions must be an array of tables: write each one as [[reactions]]."#),
    ]

    @Test func theBaseModelIsValid() throws {
        let model = try ModelLoader.load(source: Self.base, file: "model.toml")
        #expect(model.species.map(\.name) == ["A", "B", "C"])
        #expect(model.reactions.map(\.id) == ["conv", "R2"])
    }

    @Test(arguments: cases)
    func mistakeGivesItsExactMessage(_ c: Case) {
        do {
            _ = try ModelLoader.load(source: c.source, file: "model.toml")
            Issue.record("\(c.name): the model loaded, but it has a mistake")
        } catch let error as ModelError {
            #expect(error.description == c.message)
        } catch {
            Issue.record("\(c.name): unexpected error type \(error)")
        }
    }

    @Test func atLeastThirtyDistinctMistakesAreCovered() {
        #expect(Set(Self.cases.map(\.message)).count >= 30)
    }
}
