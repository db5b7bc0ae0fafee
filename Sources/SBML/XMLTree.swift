import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A minimal element tree read with Foundation's XMLParser (namespaces processed: names are local).
final class XMLNode {
    let name: String
    let attributes: [String: String]
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
        func visit(_ n: XMLNode) {
            let own = n.text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            if n.name == "p" || n.children.isEmpty {
                if !own.isEmpty { parts.append(own) }
            }
            n.children.forEach(visit)
        }
        visit(self)
        return parts.joined(separator: "\n\n")
    }

    static func parse(_ xml: String) throws -> XMLNode {
        let builder = Builder()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.shouldProcessNamespaces = true
        parser.delegate = builder
        let ok = parser.parse()
        guard ok, builder.error == nil, let root = builder.root else {
            let reason = (builder.error ?? parser.parserError).map { "\($0.localizedDescription)" } ?? "no root element"
            throw SBMLImportError("the file is not well-formed XML (line \(parser.lineNumber): \(reason)).")
        }
        return root
    }

    private final class Builder: NSObject, XMLParserDelegate {
        var root: XMLNode?
        var stack: [XMLNode] = []
        var error: Error?

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
            // Attributes may arrive prefixed when namespaces are processed; keep local names.
            var attributes: [String: String] = [:]
            for (k, v) in attributeDict {
                let local = k.split(separator: ":").last.map(String.init) ?? k
                attributes[local] = v
            }
            let node = XMLNode(name: elementName, attributes: attributes)
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

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
            stack.removeLast()
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            stack.last?.text += string
        }

        func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) { error = parseError }
    }
}

/// Why an SBML file cannot be imported: a sentence naming the element and id.
public struct SBMLImportError: Error, CustomStringConvertible, Equatable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
