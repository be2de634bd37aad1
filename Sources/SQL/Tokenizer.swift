/// A token of the SQL subset, with its character offset for error messages.
struct Token: Equatable {
    enum Kind: Equatable {
        case word(String)  // identifier or keyword (keywords compared case-insensitively)
        case quotedIdentifier(String)
        case string(String)
        case number(String)
        case symbol(String)
        /// InfluxQL: a duration literal (`10s`, `1700000000000ms`) in nanoseconds.
        case duration(Int64)
        /// InfluxQL: `/…/` where a regular expression may stand.
        case regex(String)
        case end
    }
    var kind: Kind
    var position: Int

    /// True if this is the word `keyword` (given in upper case), in any case. Compares ASCII bytes without
    /// building an upper-cased copy: the parser asks this of most tokens several times.
    func isKeyword(_ keyword: String) -> Bool {
        guard case .word(let word) = kind, word.utf8.count == keyword.utf8.count else { return false }
        for (a, b) in zip(word.utf8, keyword.utf8) where a != b {
            guard a >= UInt8(ascii: "a"), a <= UInt8(ascii: "z"), a - 32 == b else { return false }
        }
        return true
    }
}

/// Splits a statement into tokens: words, "quoted identifiers", 'strings' ('' escapes a quote), numbers,
/// operators and punctuation; `--` comments to the end of the line.
func tokenize(_ text: String) throws(SQLError) -> [Token] {
    let chars = Array(text.unicodeScalars)
    var tokens: [Token] = []
    var i = 0
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
        if isLetter(c) || c == "_" {
            while i < chars.count && (isLetter(chars[i]) || chars[i] == "_" || ("0"..."9").contains(chars[i])) {
                i += 1
            }
            tokens.append(Token(kind: .word(String(String.UnicodeScalarView(chars[start..<i]))), position: start))
        } else if ("0"..."9").contains(c) || (c == "." && i + 1 < chars.count && ("0"..."9").contains(chars[i + 1])) {
            while i < chars.count
                && (("0"..."9").contains(chars[i]) || chars[i] == "." || chars[i] == "e" || chars[i] == "E"
                    || ((chars[i] == "-" || chars[i] == "+") && (chars[i - 1] == "e" || chars[i - 1] == "E")))
            {
                i += 1
            }
            tokens.append(Token(kind: .number(String(String.UnicodeScalarView(chars[start..<i]))), position: start))
        } else if c == "`" {
            var value = String.UnicodeScalarView()
            i += 1
            while i < chars.count && chars[i] != "`" {
                value.append(chars[i])
                i += 1
            }
            guard i < chars.count else { throw SQLError("unterminated `quoted identifier`", at: start) }
            i += 1
            tokens.append(Token(kind: .quotedIdentifier(String(value)), position: start))
        } else if c == "'" || c == "\"" {
            var value = String.UnicodeScalarView()
            i += 1
            var closed = false
            while i < chars.count {
                if chars[i] == c {
                    if i + 1 < chars.count && chars[i + 1] == c {
                        value.append(c)
                        i += 2
                        continue
                    }
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
        } else {
            let two = i + 1 < chars.count ? String(String.UnicodeScalarView([c, chars[i + 1]])) : ""
            if ["<=", ">=", "!=", "<>"].contains(two) {
                tokens.append(Token(kind: .symbol(two == "<>" ? "!=" : two), position: start))
                i += 2
            } else if "(),*=<>;.-+/%".unicodeScalars.contains(c) {
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

/// A letter: ASCII ones at once, others by their Unicode property (a lookup that costs more than the rest of the
/// tokenizer together).
private func isLetter(_ c: Unicode.Scalar) -> Bool {
    if c.isASCII { return ("a"..."z").contains(c) || ("A"..."Z").contains(c) }
    return c.properties.isAlphabetic
}
