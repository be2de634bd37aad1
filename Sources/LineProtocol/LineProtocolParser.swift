/// Parses InfluxDB line protocol: `measurement[,tag=value...] field=value[,field=value...] [timestamp]`.
///
/// Complete: backslash escapes (`,` ` ` `=` in names, `"` `\\` in strings), float, integer (`1i`), unsigned
/// (`1u`), string and boolean fields, every precision, `#` comment lines, blank lines, CRLF. Works on bytes:
/// names and strings are built once per token, never per character. The first bad line stops the parse with its
/// line and column; nothing of a bad request is returned.
public struct LineProtocolParser {
    public var precision: Precision
    /// The timestamp of points written without one (nanoseconds).
    public var defaultTimestamp: Int64

    public init(precision: Precision = .nanoseconds, defaultTimestamp: Int64) {
        self.precision = precision
        self.defaultTimestamp = defaultTimestamp
    }

    /// Parses a whole request body.
    public func parse(_ bytes: [UInt8]) throws(LineProtocolError) -> [Point] {
        var points: [Point] = []
        var lineStart = 0
        var lineNumber = 0
        while lineStart < bytes.count {
            lineNumber += 1
            var lineEnd = lineStart
            while lineEnd < bytes.count && bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            var contentEnd = lineEnd
            if contentEnd > lineStart && bytes[contentEnd - 1] == UInt8(ascii: "\r") { contentEnd -= 1 }
            var cursor = LineCursor(
                bytes: bytes, position: lineStart, end: contentEnd, line: lineNumber, lineStart: lineStart)
            cursor.skipSpaces()
            if !cursor.atEnd && cursor.peek != UInt8(ascii: "#") {
                points.append(try parseLine(&cursor))
            }
            lineStart = lineEnd + 1
        }
        return points
    }

    /// The line number (from 1) of the `index`-th point of `bytes` (blank and comment lines hold none), for error
    /// messages about a point after parsing; nil if there are fewer points.
    public static func lineNumber(ofPoint index: Int, in bytes: [UInt8]) -> Int? {
        var points = 0
        var line = 0
        var start = 0
        while start < bytes.count {
            line += 1
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
            var first = start
            while first < end && (bytes[first] == UInt8(ascii: " ") || bytes[first] == UInt8(ascii: "\t")) { first += 1 }
            if first < end && bytes[first] != UInt8(ascii: "#") && bytes[first] != UInt8(ascii: "\r") {
                if points == index { return line }
                points += 1
            }
            start = end + 1
        }
        return nil
    }

    private func parseLine(_ c: inout LineCursor) throws(LineProtocolError) -> Point {
        let measurement = try c.name(stopAt: [UInt8(ascii: ","), UInt8(ascii: " ")], what: "measurement")
        var tags: [Tag] = []
        while !c.atEnd && c.peek == UInt8(ascii: ",") {
            c.advance()
            let key = try c.name(stopAt: [UInt8(ascii: "=")], what: "tag key")
            try c.expect(UInt8(ascii: "="), "'=' after tag key '\(key)'")
            let value = try c.name(stopAt: [UInt8(ascii: ","), UInt8(ascii: " ")], what: "tag value")
            if let existing = tags.firstIndex(where: { $0.key == key }) {
                tags[existing].value = value
            } else {
                tags.append(Tag(key, value))
            }
        }
        guard !c.atEnd, c.peek == UInt8(ascii: " ") else {
            throw c.error("expected a space and fields after the series")
        }
        c.skipSpaces()
        var fields: [Field] = []
        repeat {
            if !fields.isEmpty { c.advance() }  // the comma
            let key = try c.name(stopAt: [UInt8(ascii: "=")], what: "field key")
            try c.expect(UInt8(ascii: "="), "'=' after field key '\(key)'")
            let value = try c.fieldValue(key: key)
            if let existing = fields.firstIndex(where: { $0.key == key }) {
                fields[existing].value = value
            } else {
                fields.append(Field(key, value))
            }
        } while !c.atEnd && c.peek == UInt8(ascii: ",")
        var timestamp = defaultTimestamp
        if !c.atEnd {
            guard c.peek == UInt8(ascii: " ") else {
                throw c.error("expected a space or the end of the line after fields")
            }
            c.skipSpaces()
            if !c.atEnd {
                let raw = try c.integerToken(what: "timestamp")
                let (scaled, overflow) = raw.multipliedReportingOverflow(by: precision.nanoseconds)
                guard !overflow else { throw c.error("timestamp \(raw) \(precision.rawValue) is out of range") }
                timestamp = scaled
                c.skipSpaces()
                guard c.atEnd else { throw c.error("unexpected text after the timestamp") }
            }
        }
        return Point(measurement: measurement, tags: tags, fields: fields, timestamp: timestamp)
    }
}

/// A position within one line, with the helpers that read its tokens.
struct LineCursor {
    let bytes: [UInt8]
    var position: Int
    let end: Int
    let line: Int
    let lineStart: Int

    var atEnd: Bool { position >= end }
    var peek: UInt8 { bytes[position] }
    mutating func advance() { position += 1 }

    mutating func skipSpaces() {
        while position < end && (bytes[position] == UInt8(ascii: " ") || bytes[position] == UInt8(ascii: "\t")) {
            position += 1
        }
    }

    func error(_ reason: String) -> LineProtocolError {
        LineProtocolError(line: line, column: position - lineStart + 1, reason: reason)
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(LineProtocolError) {
        guard !atEnd, peek == byte else { throw error("expected \(what)") }
        advance()
    }

    /// A measurement, tag key, tag value or field key: up to an unescaped stop byte, a space or the line's end.
    mutating func name(stopAt stops: [UInt8], what: String) throws(LineProtocolError) -> String {
        let start = position
        var escaped = false
        while position < end {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\\") && position + 1 < end {
                escaped = true
                position += 2
                continue
            }
            if stops.contains(byte) || byte == UInt8(ascii: " ") { break }
            position += 1
        }
        guard position > start else { throw error("missing \(what)") }
        guard escaped else { return String(decoding: bytes[start..<position], as: UTF8.self) }
        var unescaped: [UInt8] = []
        unescaped.reserveCapacity(position - start)
        var i = start
        while i < position {
            if bytes[i] == UInt8(ascii: "\\") && i + 1 < position {
                let next = bytes[i + 1]
                if next == UInt8(ascii: ",") || next == UInt8(ascii: " ") || next == UInt8(ascii: "=")
                    || next == UInt8(ascii: "\\")
                {
                    unescaped.append(next)
                    i += 2
                    continue
                }
            }
            unescaped.append(bytes[i])
            i += 1
        }
        return String(decoding: unescaped, as: UTF8.self)
    }

    mutating func fieldValue(key: String) throws(LineProtocolError) -> FieldValue {
        guard !atEnd else { throw error("missing value of field '\(key)'") }
        if peek == UInt8(ascii: "\"") { return .string(try quotedString(key: key)) }
        let start = position
        while position < end && bytes[position] != UInt8(ascii: ",") && bytes[position] != UInt8(ascii: " ") {
            position += 1
        }
        let token = bytes[start..<position]
        guard let last = token.last else { throw error("missing value of field '\(key)'") }
        switch token.count {
        case 1:
            if last == UInt8(ascii: "t") || last == UInt8(ascii: "T") { return .boolean(true) }
            if last == UInt8(ascii: "f") || last == UInt8(ascii: "F") { return .boolean(false) }
        case 4, 5:
            switch String(decoding: token, as: UTF8.self) {
            case "true", "True", "TRUE": return .boolean(true)
            case "false", "False", "FALSE": return .boolean(false)
            default: break
            }
        default: break
        }
        if last == UInt8(ascii: "i") || last == UInt8(ascii: "u") {
            let digits = token.dropLast()
            if last == UInt8(ascii: "i"), let value = Int64(String(decoding: digits, as: UTF8.self)), isInteger(digits)
            {
                return .integer(value)
            }
            if last == UInt8(ascii: "u"), let value = UInt64(String(decoding: digits, as: UTF8.self)), isInteger(digits)
            {
                return .unsigned(value)
            }
            position = start
            throw error(
                "'\(String(decoding: token, as: UTF8.self))' is not a valid \(last == UInt8(ascii: "i") ? "integer" : "unsigned") value of field '\(key)'"
            )
        }
        if isFloat(token), let value = Double(String(decoding: token, as: UTF8.self)), value.isFinite {
            return .float(value)
        }
        position = start
        throw error(
            "'\(String(decoding: token, as: UTF8.self))' is not a valid value of field '\(key)' (number, 1i, 1u, \"string\", true/false)"
        )
    }

    private func isInteger(_ digits: ArraySlice<UInt8>) -> Bool {
        var rest = digits[...]
        if rest.first == UInt8(ascii: "-") || rest.first == UInt8(ascii: "+") { rest = rest.dropFirst() }
        return !rest.isEmpty && rest.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    private func isFloat(_ token: ArraySlice<UInt8>) -> Bool {
        token.allSatisfy {
            ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-")
                || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E")
        }
    }

    mutating func quotedString(key: String) throws(LineProtocolError) -> String {
        let opening = position
        advance()
        var value: [UInt8] = []
        while position < end {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\\") && position + 1 < end
                && (bytes[position + 1] == UInt8(ascii: "\"") || bytes[position + 1] == UInt8(ascii: "\\"))
            {
                value.append(bytes[position + 1])
                position += 2
                continue
            }
            if byte == UInt8(ascii: "\"") {
                advance()
                return String(decoding: value, as: UTF8.self)
            }
            value.append(byte)
            position += 1
        }
        position = opening
        throw error("unterminated string value of field '\(key)'")
    }

    mutating func integerToken(what: String) throws(LineProtocolError) -> Int64 {
        let start = position
        while position < end && bytes[position] != UInt8(ascii: " ") { position += 1 }
        let token = bytes[start..<position]
        guard let value = Int64(String(decoding: token, as: UTF8.self)) else {
            position = start
            throw error("'\(String(decoding: token, as: UTF8.self))' is not a valid \(what) (an integer)")
        }
        return value
    }
}
