extension Set where Element == String {
    /// A name not in the set, now added to it: `base`, else the first free of `base_2`, `base_3`, …
    mutating func insertUnused(_ base: String) -> String {
        var name = base
        var k = 1
        while contains(name) {
            k += 1
            name = "\(base)_\(k)"
        }
        insert(name)
        return name
    }
}

extension String {
    /// The text with each Unicode scalar for which `replacement` gives a string replaced by it.
    func replacingScalars(_ replacement: (Unicode.Scalar) -> String?) -> String {
        var out = ""
        out.reserveCapacity(utf8.count)
        for c in unicodeScalars {
            if let r = replacement(c) { out += r } else { out.unicodeScalars.append(c) }
        }
        return out
    }
}
