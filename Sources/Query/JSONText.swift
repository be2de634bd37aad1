/// JSON written byte by byte, for answers whose key order matters (rows, InfluxDB series) and whose numbers must
/// keep their type (a float keeps its fraction).
enum JSONText {
    static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [92, 34]
            case 92: out += [92, 92]
            case 10: out += [92, UInt8(ascii: "n")]
            case 13: out += [92, UInt8(ascii: "r")]
            case 9: out += [92, UInt8(ascii: "t")]
            case 0..<32:
                let hex = Array("0123456789abcdef".utf8)
                out += [92, UInt8(ascii: "u"), 48, 48, hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension SQLValue {
    /// The value as JSON: numbers as numbers (a float with a fraction; not finite: null), times as strings in
    /// `formatTime`'s form.
    func appendJSON(to out: inout [UInt8]) {
        switch self {
        case .null: out += Array("null".utf8)
        case .integer(let v): out += Array(String(v).utf8)
        case .unsigned(let v): out += Array(String(v).utf8)
        case .boolean(let v): out += Array((v ? "true" : "false").utf8)
        case .string(let v): JSONText.appendString(v, to: &out)
        case .double(let v):
            if v.isFinite { out += Array(text.utf8) } else { out += Array("null".utf8) }
        case .time(let t):
            out.append(UInt8(ascii: "\""))
            appendTime(t, to: &out)
            out.append(UInt8(ascii: "\""))
        }
    }
}
