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
