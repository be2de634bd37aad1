/// One column's values for the rows of one block, as a chunk's payload: a flags byte (bit 0: every row has a
/// value), the presence bits unless every row has one (`BooleanCodec`), then the present values in the
/// column's codec (`IntegerCodec`, `StringCodec`, `BooleanCodec`; floats start with a `FloatForm` byte and use
/// whichever of `DecimalCodec` and `FloatCodec` is smaller for the block).
enum ColumnChunk {
    /// How a float chunk's values are coded.
    enum FloatForm: UInt8 {
        case xor = 0
        case decimal = 1
    }

    static func encode(_ column: Column, rows: Range<Int>) -> [UInt8] {
        let present = column.present[rows]
        let all = !present.contains(false)
        var bytes: [UInt8] = [all ? 1 : 0]
        if !all { bytes += BooleanCodec.encode(present) }
        let rowsWithValues = rows.lazy.filter { column.present[$0] }
        switch column.kind {
        case .float:
            let values = Array(rowsWithValues.map { column.floats[$0] })
            let xor = FloatCodec.encode(values)
            if let decimal = DecimalCodec.encode(values), decimal.count < xor.count {
                bytes += [FloatForm.decimal.rawValue] + decimal
            } else {
                bytes += [FloatForm.xor.rawValue] + xor
            }
        case .integer: bytes += IntegerCodec.encode(rowsWithValues.map { column.integers[$0] })
        case .unsigned: bytes += IntegerCodec.encode(unsigned: rowsWithValues.map { column.unsigneds[$0] })
        case .string: bytes += StringCodec.encode(Array(rowsWithValues.map { column.strings[$0] }))
        case .boolean: bytes += BooleanCodec.encode(rowsWithValues.map { column.booleans[$0] })
        }
        return bytes
    }

    /// The column of `rows` rows, `present` of them with a value, in `payload`; `nil` if it does not decode to
    /// exactly that.
    static func decode(_ payload: ArraySlice<UInt8>, kind: Column.Kind, rows: Int, present: Int) -> Column? {
        guard let flags = payload.first, flags <= 1 else { return nil }
        var position = payload.startIndex + 1
        let presence: [Bool]
        if flags == 1 {
            guard present == rows else { return nil }
            presence = Array(repeating: true, count: rows)
        } else {
            let length = (rows + 7) / 8
            guard payload.endIndex - position >= length,
                let bits = BooleanCodec.decode(payload[position..<(position + length)], count: rows),
                bits.count(where: { $0 }) == present
            else { return nil }
            presence = bits
            position += length
        }
        let values = payload[position...]
        var column = Column(kind: kind, present: presence)
        switch kind {
        case .float:
            guard let form = values.first.flatMap(FloatForm.init(rawValue:)) else { return nil }
            let codes = values.dropFirst()
            let decoded: [Double]?
            switch form {
            case .xor: decoded = FloatCodec.decode(codes, count: present)
            case .decimal: decoded = DecimalCodec.decode(codes, count: present)
            }
            guard let decoded else { return nil }
            column.floats = spread(decoded, over: presence, filler: 0)
        case .integer:
            guard let decoded = IntegerCodec.decode(values, count: present) else { return nil }
            column.integers = spread(decoded, over: presence, filler: 0)
        case .unsigned:
            guard let decoded = IntegerCodec.decodeUnsigned(values, count: present) else { return nil }
            column.unsigneds = spread(decoded, over: presence, filler: 0)
        case .string:
            guard let decoded = StringCodec.decode(values, count: present) else { return nil }
            column.strings = spread(decoded, over: presence, filler: "")
        case .boolean:
            guard let decoded = BooleanCodec.decode(values, count: present) else { return nil }
            column.booleans = spread(decoded, over: presence, filler: false)
        }
        return column
    }

    /// The present values at their rows, `filler` at the others (the in-memory column's layout).
    private static func spread<T>(_ values: [T], over presence: [Bool], filler: T) -> [T] {
        if values.count == presence.count { return values }
        var result: [T] = []
        result.reserveCapacity(presence.count)
        var next = 0
        for present in presence {
            if present {
                result.append(values[next])
                next += 1
            } else {
                result.append(filler)
            }
        }
        return result
    }
}
