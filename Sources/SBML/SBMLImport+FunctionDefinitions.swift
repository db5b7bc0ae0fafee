import Foundation

extension Importer {
    /// Function definitions, by id: inlined wherever math calls them.
    mutating func readFunctionDefinitions() throws {
        for f in model.list("listOfFunctionDefinitions", "functionDefinition") {
            let id = excerpt(f.attributes["id"] ?? "?")
            // Level 3 Version 2: a function definition without math has no effect until called.
            if f.child("math") == nil {
                functionsWithoutMath.insert(f.attributes["id"] ?? "?")
                continue
            }
            guard let math = f.child("math"),
                var lambda = math.children.first(where: { $0.name != "annotation" })
            else {
                throw SBMLImportError.unsupported(
                    "SBML functionDefinition '\(id)' without a lambda is not supported yet; write its math as "
                        + "<lambda><bvar><ci> x </ci></bvar> … body … </lambda>.")
            }
            if lambda.name == "semantics", let inner = lambda.children.first { lambda = inner }
            guard lambda.name == "lambda" else {
                throw SBMLImportError.unsupported(
                    "SBML functionDefinition '\(id)' without a lambda is not supported yet; write its math as "
                        + "<lambda><bvar><ci> x </ci></bvar> … body … </lambda>.")
            }
            let parameters = lambda.children("bvar").compactMap { $0.child("ci")?.trimmedText }
            guard
                let body = lambda.children.last(where: {
                    $0.name != "bvar"
                        && $0.name != "domainofapplication"
                })
            else {
                throw SBMLImportError(
                    "SBML functionDefinition '\(id)' has no body; give its lambda an expression after the bvars.")
            }
            functions[f.attributes["id"] ?? "?"] = FunctionDefinition(parameters: parameters, body: body)
        }
        try checkFunctionDefinitions()
    }

    /// Refuses, before anything is inlined, a function definition that calls itself (directly or
    /// through others: inlining would never end) and one whose inlined body passes
    /// `ImportLimits.terms` (a body that calls another twice doubles at each level).
    func checkFunctionDefinitions() throws {
        var names: [String] = []
        var listed = Set<String>()
        for f in model.list("listOfFunctionDefinitions", "functionDefinition") {
            let id = f.attributes["id"] ?? "?"
            if functions[id] != nil, listed.insert(id).inserted { names.append(id) }
        }
        var calls: [String: [String]] = [:]
        for name in names {
            var callees: [String] = []
            functions[name]!.body.forEachDescendant { n in
                if n.name == "apply", let op = n.children.first, op.name == "ci", functions[op.trimmedText] != nil {
                    callees.append(op.trimmedText)
                }
            }
            calls[name] = callees
        }
        // Depth-first, without recursion: a call back to a definition on the path is a cycle.
        var state: [String: Bool] = [:]  // false while on the path, true when done
        var calleesFirst: [String] = []
        for root in names where state[root] == nil {
            var path: [(name: String, next: Int)] = [(root, 0)]
            state[root] = false
            while let (name, next) = path.last {
                let callees = calls[name]!
                guard next < callees.count else {
                    state[name] = true
                    calleesFirst.append(name)
                    path.removeLast()
                    continue
                }
                path[path.count - 1].next += 1
                let g = callees[next]
                switch state[g] {
                case false?:
                    let cycle = path.map(\.name)[path.lastIndex { $0.name == g }!...]
                    if cycle.count == 1 {
                        throw SBMLImportError(
                            "SBML functionDefinition '\(excerpt(g))' calls itself, which is not "
                                + "supported; SBML forbids recursion: write it without the call.")
                    }
                    throw SBMLImportError(
                        "SBML functionDefinition '\(excerpt(g))' calls itself through "
                            + "'\(excerpt(cycle.dropFirst().first!))' (a cycle of \(cycle.count) function definitions), "
                            + "which is not supported; SBML forbids recursion: break the cycle.")
                case nil:
                    state[g] = false
                    path.append((g, 0))
                case true?:
                    break
                }
            }
        }
        // The size of each body with its calls inlined, and how often each argument then occurs.
        var size: [String: Double] = [:]
        var uses: [String: [Int: Double]] = [:]
        for name in calleesFirst {
            let f = functions[name]!
            var index: [String: Int] = [:]
            for (i, p) in f.parameters.enumerated() where index[p] == nil { index[p] = i }
            let (terms, occurrences) = expansion(f.body, parameters: index, size: size, uses: uses)
            if terms > Double(ImportLimits.terms) {
                let count = terms < 1e15 ? String(Int(terms)) : String(format: "%.3g", terms)
                throw SBMLImportError.limit(
                    "SBML functionDefinition '\(excerpt(name))' expands to \(count) terms once "
                        + "the function definitions it calls are inlined (the limit is \(ImportLimits.terms)), "
                        + "which is not supported; give repeated parts their own assignment rules (parameters).")
            }
            size[name] = terms
            uses[name] = occurrences
        }
    }

    /// Terms of `node` with calls of function definitions inlined (those in `size`), and the
    /// occurrences of each parameter (by its position) in it. The recursion follows the element
    /// nesting, which `ImportLimits.elementDepth` bounds.
    func expansion(
        _ node: XMLNode, parameters: [String: Int], size: [String: Double],
        uses: [String: [Int: Double]]
    ) -> (Double, [Int: Double]) {
        switch node.name {
        case "annotation", "annotation-xml":
            return (0, [:])
        case "ci":
            return (1, parameters[node.trimmedText].map { [$0: 1] } ?? [:])
        case "apply":
            guard let op = node.children.first else { return (1, [:]) }
            let args = node.children.dropFirst().map { expansion($0, parameters: parameters, size: size, uses: uses) }
            var occurrences: [Int: Double] = [:]
            if op.name == "ci", let body = size[op.trimmedText], let used = uses[op.trimmedText] {
                // Each occurrence of an argument in the inlined body is the whole argument.
                var terms = body
                for (j, arg) in args.enumerated() {
                    guard let n = used[j] else { continue }
                    terms += n * (arg.0 - 1)
                    for (i, k) in arg.1 { occurrences[i, default: 0] += n * k }
                }
                return (terms, occurrences)
            }
            var terms = 1.0
            for arg in args {
                terms += arg.0
                for (i, k) in arg.1 { occurrences[i, default: 0] += k }
            }
            return (terms, occurrences)
        default:
            if node.children.isEmpty { return (1, [:]) }
            var terms = 0.0
            var occurrences: [Int: Double] = [:]
            for child in node.children {
                let (t, o) = expansion(child, parameters: parameters, size: size, uses: uses)
                terms += t
                for (i, k) in o { occurrences[i, default: 0] += k }
            }
            return (terms, occurrences)
        }
    }
}
