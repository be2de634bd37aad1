/// Durations in database options and intervals: `'30d'`, `'1h'`, `'10s'`, `'500ms'`, `'1y'` (365.25 days),
/// `'1 minute'`, `'2 hours'`; `'inf'` is no limit (`nil` from `parseTTL`).
public enum DurationLiteral {
    static let units: [(String, Int64)] = [
        ("ns", 1), ("nanosecond", 1), ("us", 1_000), ("microsecond", 1_000), ("ms", 1_000_000),
        ("millisecond", 1_000_000), ("s", 1_000_000_000), ("sec", 1_000_000_000), ("second", 1_000_000_000),
        ("m", 60_000_000_000), ("min", 60_000_000_000), ("minute", 60_000_000_000), ("h", 3_600_000_000_000),
        ("hour", 3_600_000_000_000), ("d", 86_400_000_000_000), ("day", 86_400_000_000_000),
        ("w", 604_800_000_000_000), ("week", 604_800_000_000_000), ("y", 31_557_600_000_000_000),
        ("year", 31_557_600_000_000_000),
    ]

    /// Nanoseconds, or `nil` if the text is not a duration.
    public static func parse(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard let split = trimmed.firstIndex(where: { !$0.isNumber }) else { return nil }
        guard let amount = Int64(trimmed[..<split]) else { return nil }
        var unit = trimmed[split...].trimmingCharacters(in: .whitespaces)
        if unit.count > 3 && unit.hasSuffix("s") { unit.removeLast() }
        guard let factor = units.first(where: { $0.0 == unit })?.1 else { return nil }
        let (value, overflow) = amount.multipliedReportingOverflow(by: factor)
        return overflow ? nil : value
    }

    /// The largest whole unit of days, hours, minutes, seconds, milliseconds, microseconds or nanoseconds that
    /// states `nanoseconds` exactly, as CnosDB prints a duration: `365d`, `90m`, `1500ms`.
    public static func format(_ nanoseconds: Int64) -> String {
        let steps: [(String, Int64)] = [
            ("d", 86_400_000_000_000), ("h", 3_600_000_000_000), ("m", 60_000_000_000), ("s", 1_000_000_000),
            ("ms", 1_000_000), ("us", 1_000),
        ]
        for (unit, size) in steps where nanoseconds != 0 && nanoseconds % size == 0 {
            return "\(nanoseconds / size)\(unit)"
        }
        return "\(nanoseconds)ns"
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: CharacterSetLike) -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: CharacterSetLike) -> String { String(self).trimmingCharacters(in: set) }
}

/// Stands in for Foundation's CharacterSet, so this target needs only the standard library.
enum CharacterSetLike { case whitespaces }
