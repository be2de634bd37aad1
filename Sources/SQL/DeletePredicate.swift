/// The predicate of InfluxDB 2's `/api/v2/delete`: `key="value"` or `key!="value"` comparisons joined by `AND`
/// (InfluxDB's own grammar: no OR, no regular expressions), where `_measurement` names the measurement and every
/// other key a tag. Keys may be double-quoted; values are double-quoted with `\"` and `\\` escapes.
public struct DeletePredicate: Sendable, Equatable {
    /// The measurement `_measurement="…"` names (nil: every measurement).
    public var measurement: String?
    /// The tag comparisons, as a WHERE (nil when there are none).
    public var filter: SQLExpression?

    public init(measurement: String?, filter: SQLExpression?) {
        self.measurement = measurement
        self.filter = filter
    }

    /// Parses `text` (empty: everything); throws naming the character where it stopped making sense.
    public static func parse(_ text: String) throws(SQLError) -> DeletePredicate {
        var characters = Array(text)
        characters.append("\0")
        var position = 0
        func skipSpaces() { while characters[position] == " " || characters[position] == "\t" { position += 1 } }
        func quoted() throws(SQLError) -> String {
            let start = position
            position += 1  // the opening quote
            var value = ""
            while characters[position] != "\"" {
                if characters[position] == "\0" && position == characters.count - 1 {
                    throw SQLError("unterminated string", at: start)
                }
                if characters[position] == "\\" && position + 1 < characters.count - 1 { position += 1 }
                value.append(characters[position])
                position += 1
            }
            position += 1
            return value
        }
        func key() throws(SQLError) -> String {
            skipSpaces()
            if characters[position] == "\"" { return try quoted() }
            let start = position
            while characters[position].isLetter || characters[position].isNumber || characters[position] == "_"
                || characters[position] == "-" || characters[position] == "."
            {
                position += 1
            }
            guard position > start else { throw SQLError("expected a tag key or _measurement", at: start) }
            return String(characters[start..<position])
        }
        var predicate = DeletePredicate(measurement: nil, filter: nil)
        skipSpaces()
        if characters[position] == "\0" { return predicate }
        while true {
            let name = try key()
            skipSpaces()
            let negated: Bool
            if characters[position] == "!" && characters[position + 1] == "=" {
                negated = true
                position += 2
            } else if characters[position] == "=" {
                negated = false
                position += 1
            } else {
                throw SQLError("expected = or != after \(name)", at: position)
            }
            skipSpaces()
            guard characters[position] == "\"" else { throw SQLError("expected a double-quoted value", at: position) }
            let valueStart = position
            let value = try quoted()
            if name == "_measurement" {
                guard !negated, predicate.measurement == nil else {
                    throw SQLError("_measurement takes one = comparison", at: valueStart)
                }
                predicate.measurement = value
            } else {
                let comparison = SQLExpression.comparison(
                    column: name, op: negated ? .notEqual : .equal, value: .string(value))
                predicate.filter = predicate.filter.map { .and($0, comparison) } ?? comparison
            }
            skipSpaces()
            if characters[position] == "\0" { return predicate }
            let word = String(characters[position..<min(position + 3, characters.count - 1)])
            guard word.uppercased() == "AND" else {
                throw SQLError("expected AND (the delete predicate has no OR)", at: position)
            }
            position += 3
        }
    }
}
