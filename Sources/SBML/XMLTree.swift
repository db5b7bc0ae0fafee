import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// A minimal element tree read with Foundation's XMLParser (namespaces processed: names are local).
final class XMLNode {
    let name: String
    /// By local name (a prefix dropped); `Importer.renameTimeID` may change values.
    var attributes: [String: String]
    /// Packages' `prefix:required` attributes by prefix (the SBML element's declaration of which
    /// packages change the model's meaning).
    var requiredPackages: [String: String] = [:]
    var children: [XMLNode] = []
    /// Character data directly inside this element; a `<sep/>` child appends `XMLNode.separator`.
    var text = ""
    /// The element's namespace URI (annotations are told apart by it).
    var namespace: String?
    weak var parent: XMLNode?

    static let separator: Character = "\u{1}"

    init(name: String, attributes: [String: String]) {
        self.name = name
        self.attributes = attributes
    }

    func child(_ name: String) -> XMLNode? { children.first { $0.name == name } }
    func children(_ name: String) -> [XMLNode] { children.filter { $0.name == name } }
    /// The children of `<listName>`, or none.
    func list(_ listName: String, _ itemName: String) -> [XMLNode] { child(listName)?.children(itemName) ?? [] }
    var trimmedText: String { text.trimmingCharacters(in: .whitespacesAndNewlines) }

    /// All text inside, paragraphs (`<p>`) separated by blank lines: what a `<notes>` says.
    var paragraphs: String {
        var parts: [String] = []
        forEachDescendant { n in
            let own = n.text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            if n.name == "p" || n.children.isEmpty {
                if !own.isEmpty { parts.append(own) }
            }
        }
        return parts.joined(separator: "\n\n")
    }

    /// Visits this element and everything inside it in document order, without recursion.
    func forEachDescendant(_ visit: (XMLNode) throws -> Void) rethrows {
        var stack: [XMLNode] = [self]
        while let n = stack.popLast() {
            try visit(n)
            stack.append(contentsOf: n.children.reversed())
        }
    }

    /// Whether this element or one inside it matches.
    func contains(where matches: (XMLNode) -> Bool) -> Bool {
        var stack: [XMLNode] = [self]
        while let n = stack.popLast() {
            if matches(n) { return true }
            stack.append(contentsOf: n.children)
        }
        return false
    }

    static func parse(_ xml: String) throws -> XMLNode {
        if declaresDocumentType(xml) {
            throw SBMLImportError(
                "the SBML file declares a document type (<!DOCTYPE>), which SBML files do not have "
                    + "and which is not supported (no entity in it is expanded); remove the <!DOCTYPE …> "
                    + "declaration and any entity references.")
        }
        let builder = Builder()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.shouldProcessNamespaces = true
        parser.delegate = builder
        let ok = parser.parse()
        if let deep = builder.tooDeep {
            let inside = deep.owner.map { " in \($0)" } ?? ""
            throw SBMLImportError.limit(
                "SBML element <\(excerpt(deep.name))>\(inside) (line \(deep.line)) is nested "
                    + "more than \(ImportLimits.elementDepth) elements deep, which is not supported; no SBML "
                    + "model needs such depth: write deep math as assignment rules of its parts, and check the "
                    + "file's origin.")
        }
        guard ok, builder.error == nil, let root = builder.root else {
            let reason = (builder.error ?? parser.parserError).map { "\($0.localizedDescription)" } ?? "no root element"
            throw SBMLImportError("the file is not well-formed XML (line \(parser.lineNumber): \(reason)).")
        }
        return root
    }

    /// Whether the prolog (before the root element, past comments and processing instructions)
    /// has a `<!DOCTYPE`. SBML has no DTD, and Foundation's parser on Linux crashes on some
    /// declarations (an unparsed `NDATA` entity) before any delegate could refuse them.
    static func declaresDocumentType(_ xml: String) -> Bool {
        let bytes = Array(xml.utf8)
        func at(_ i: Int, _ word: String) -> Bool {
            let w = Array(word.utf8)
            return i + w.count <= bytes.count && Array(bytes[i..<(i + w.count)]) == w
        }
        func skip(past end: String, from i: Int) -> Int {
            var j = i
            while j < bytes.count && !at(j, end) { j += 1 }
            return j + end.utf8.count
        }
        var i = 0
        while i < bytes.count {
            guard bytes[i] == UInt8(ascii: "<") else {
                i += 1
                continue
            }
            if at(i, "<!--") {
                i = skip(past: "-->", from: i + 4)
                continue
            }
            if at(i, "<?") {
                i = skip(past: "?>", from: i + 2)
                continue
            }
            return at(i, "<!DOCTYPE")
        }
        return false
    }

    private final class Builder: NSObject, XMLParserDelegate {
        var root: XMLNode?
        var stack: [XMLNode] = []
        var error: Error?
        /// The first element past `ImportLimits.elementDepth`, where parsing stopped: every walk
        /// of the tree (and freeing it) then stays within that depth.
        var tooDeep: (name: String, owner: String?, line: Int)?

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
            qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
        ) {
            guard stack.count < ImportLimits.elementDepth else {
                if tooDeep == nil {
                    // Named by the innermost enclosing element with an id.
                    let owner = stack.last { $0.attributes["id"] != nil }.map {
                        "\($0.name) "
                            + "\(excerpt($0.attributes["id"]!))"
                    }
                    tooDeep = (elementName, owner, parser.lineNumber)
                    parser.abortParsing()
                }
                return
            }
            // Attributes may arrive prefixed when namespaces are processed; keep local names.
            var attributes: [String: String] = [:]
            var required: [String: String] = [:]
            for (k, v) in attributeDict {
                let parts = k.split(separator: ":")
                let local = parts.last.map(String.init) ?? k
                attributes[local] = v
                if parts.count == 2 && local == "required" { required[String(parts[0])] = v }
            }
            let node = XMLNode(name: elementName, attributes: attributes)
            node.requiredPackages = required
            node.namespace = namespaceURI
            if elementName == "sep", let top = stack.last { top.text.append(XMLNode.separator) }
            if let top = stack.last {
                node.parent = top
                top.children.append(node)
            } else {
                root = node
            }
            stack.append(node)
        }

        func parser(
            _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
            qualifiedName qName: String?
        ) {
            if tooDeep == nil { stack.removeLast() }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if tooDeep == nil { stack.last?.text += string }
        }

        func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) { error = parseError }
    }
}

/// Why an SBML file cannot be imported: a sentence naming the element and id, and its kind.
public struct SBMLImportError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: Sendable, Equatable {
        /// Not an SBML model the import can read (malformed XML, missing values, loops, …).
        case invalid
        /// SBML outside the subset the import covers ("… is not supported yet; write … instead."): a refusal,
        /// never a different model.
        case unsupported
        /// Past one of the bounds of `ImportLimits` (nesting, expression size).
        case limit
    }

    public var kind: Kind
    public var message: String
    public init(_ message: String, kind: Kind = .invalid) {
        self.message = message
        self.kind = kind
    }

    static func unsupported(_ message: String) -> SBMLImportError { SBMLImportError(message, kind: .unsupported) }
    static func limit(_ message: String) -> SBMLImportError { SBMLImportError(message, kind: .limit) }

    public var description: String { message }
}

/// `text` as an error message quotes it: control characters escaped, and at most `limit`
/// characters (then "…"), so that a huge id or a whole line of the file never fills a message.
/// Short plain text is returned unchanged.
func excerpt(_ text: String, limit: Int = 40) -> String {
    var out = ""
    var count = 0
    for c in text {
        if count == limit { return out + "…" }
        let escaped: String
        switch c {
        case "\n": escaped = "\\n"
        case "\r": escaped = "\\r"
        case "\t": escaped = "\\t"
        default:
            escaped =
                c.unicodeScalars.contains {
                    $0.properties.generalCategory == .control
                        || $0.properties.generalCategory == .format
                }
                ? c.unicodeScalars.map { "\\u{\(String($0.value, radix: 16))}" }.joined() : String(c)
        }
        out += escaped
        count += 1
    }
    return out
}
