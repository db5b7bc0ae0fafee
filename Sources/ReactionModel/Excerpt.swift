/// A short, printable excerpt of an input for an error message: at most `limit` characters
/// (then "…"), control and invisible characters escaped, so that a message never carries a
/// file's content or a terminal escape sequence. Short plain text comes back unchanged.
public func excerpt(_ text: some StringProtocol, limit: Int = 40) -> String {
    var result = ""
    var count = 0
    for scalar in text.unicodeScalars {
        if count == limit { return result + "…" }
        switch scalar {
        case "\n": result += "\\n"
        case "\r": result += "\\r"
        case "\t": result += "\\t"
        default:
            if scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value)
                || scalar.properties.generalCategory == .format
            {
                result += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        count += 1
    }
    return result
}

/// `excerpt` in double quotes.
public func quoted(_ text: some StringProtocol, limit: Int = 40) -> String { "\"" + excerpt(text, limit: limit) + "\"" }
