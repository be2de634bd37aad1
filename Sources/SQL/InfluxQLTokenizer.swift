/// Splits InfluxQL text into tokens: words, "identifiers" and 'strings' (backslash escapes), numbers and
/// duration literals, `/regex/` after a regex operator or a keyword that takes a name, operators and
/// punctuation; `--` comments to the end of the line.
func tokenizeInfluxQL(_ text: String) throws(SQLError) -> [Token] {
    let chars = Array(text.unicodeScalars)
    var tokens: [Token] = []
    var i = 0
    func digit(_ c: Unicode.Scalar) -> Bool { ("0"..."9").contains(c) }
    func letter(_ c: Unicode.Scalar) -> Bool {
        c.isASCII ? (("a"..."z").contains(c) || ("A"..."Z").contains(c)) : c.properties.isAlphabetic
    }
    /// A `/` starts a regular expression after `=~`/`!~`, and after FROM, MEASUREMENT, BY or `,` (names).
    func regexMayStart() -> Bool {
        guard let last = tokens.last else { return false }
        switch last.kind {
        case .symbol(let s): return s == "=~" || s == "!~"
        case .word(let w): return ["FROM", "BY"].contains(w.uppercased())
        default: return false
        }
    }
    while i < chars.count {
        let c = chars[i]
        if c == " " || c == "\n" || c == "\t" || c == "\r" {
            i += 1
            continue
        }
        if c == "-" && i + 1 < chars.count && chars[i + 1] == "-" {
            while i < chars.count && chars[i] != "\n" { i += 1 }
            continue
        }
        let start = i
        if letter(c) || c == "_" {
            while i < chars.count && (letter(chars[i]) || chars[i] == "_" || digit(chars[i])) { i += 1 }
            tokens.append(Token(kind: .word(String(String.UnicodeScalarView(chars[start..<i]))), position: start))
        } else if digit(c) || (c == "." && i + 1 < chars.count && digit(chars[i + 1])) {
            while i < chars.count && (digit(chars[i]) || chars[i] == ".") { i += 1 }
            if i < chars.count && (chars[i] == "e" || chars[i] == "E") && i + 1 < chars.count
                && (digit(chars[i + 1]) || chars[i + 1] == "-" || chars[i + 1] == "+")
            {
                i += 2
                while i < chars.count && digit(chars[i]) { i += 1 }
            }
            let number = String(String.UnicodeScalarView(chars[start..<i]))
            // A unit right after the digits makes a duration.
            var unitEnd = i
            while unitEnd < chars.count && (letter(chars[unitEnd]) || chars[unitEnd] == "µ") { unitEnd += 1 }
            if unitEnd > i {
                let unit = String(String.UnicodeScalarView(chars[i..<unitEnd]))
                guard let count = Int64(number), let scale = durationUnit(unit) else {
                    throw SQLError("'\(number)\(unit)' is not a duration (units ns, u, ms, s, m, h, d, w)", at: start)
                }
                let (value, overflow) = count.multipliedReportingOverflow(by: scale)
                guard !overflow else { throw SQLError("the duration '\(number)\(unit)' is too long", at: start) }
                tokens.append(Token(kind: .duration(value), position: start))
                i = unitEnd
            } else {
                tokens.append(Token(kind: .number(number), position: start))
            }
        } else if c == "'" || c == "\"" {
            var value = String.UnicodeScalarView()
            i += 1
            var closed = false
            while i < chars.count {
                if chars[i] == "\\" && i + 1 < chars.count {
                    value.append(chars[i + 1])
                    i += 2
                    continue
                }
                if chars[i] == c {
                    closed = true
                    i += 1
                    break
                }
                value.append(chars[i])
                i += 1
            }
            guard closed else { throw SQLError("unterminated \(c == "'" ? "string" : "quoted identifier")", at: start) }
            tokens.append(
                Token(kind: c == "'" ? .string(String(value)) : .quotedIdentifier(String(value)), position: start))
        } else if c == "/" && regexMayStart() {
            var value = ""
            i += 1
            var closed = false
            while i < chars.count {
                if chars[i] == "\\" && i + 1 < chars.count && chars[i + 1] == "/" {
                    value.unicodeScalars.append("/")
                    i += 2
                    continue
                }
                if chars[i] == "/" {
                    closed = true
                    i += 1
                    break
                }
                value.unicodeScalars.append(chars[i])
                i += 1
            }
            guard closed else { throw SQLError("unterminated regular expression", at: start) }
            tokens.append(Token(kind: .regex(value), position: start))
        } else {
            let two = i + 1 < chars.count ? String(String.UnicodeScalarView([c, chars[i + 1]])) : ""
            if ["<=", ">=", "!=", "<>", "=~", "!~", "::"].contains(two) {
                tokens.append(Token(kind: .symbol(two == "<>" ? "!=" : two), position: start))
                i += 2
            } else if "(),*=<>;.-+/".unicodeScalars.contains(c) {
                tokens.append(Token(kind: .symbol(String(c)), position: start))
                i += 1
            } else {
                throw SQLError("unexpected character '\(c)'", at: start)
            }
        }
    }
    tokens.append(Token(kind: .end, position: chars.count))
    return tokens
}

/// Nanoseconds in one InfluxQL duration unit.
private func durationUnit(_ unit: String) -> Int64? {
    switch unit {
    case "ns": return 1
    case "u", "µ": return 1_000
    case "ms": return 1_000_000
    case "s": return 1_000_000_000
    case "m": return 60_000_000_000
    case "h": return 3_600_000_000_000
    case "d": return 86_400_000_000_000
    case "w": return 604_800_000_000_000
    default: return nil
    }
}
