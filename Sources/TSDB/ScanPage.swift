import LineProtocol

/// A page of a vnode scan: about `rows` rows (a row batch), after `after` (from the first series when nil), so
/// that a scan of any size moves in pieces of bounded size. Each page is its own read: a scan in pages sees every
/// write acknowledged before it began, and each page what was written before that page's read.
public struct ScanPage: Sendable, Equatable {
    public var rows: Int
    public var after: ScanCursor?

    public init(rows: Int, after: ScanCursor?) {
        self.rows = rows
        self.after = after
    }

    /// The answer's first four bytes (never a `PointCodec` count, nor a `RowBatchCodec` marker).
    static let marker: UInt32 = 0xFFFF_FFFE
    static let version: UInt8 = 1

    static func put(_ cursor: ScanCursor?, _ out: inout [UInt8]) {
        guard let cursor else {
            out.append(0)
            return
        }
        out.append(1)
        put32(UInt32(cursor.key.bytes.count), &out)
        out.append(contentsOf: cursor.key.bytes)
        if let time = cursor.time {
            out.append(1)
            put64(UInt64(bitPattern: time), &out)
        } else {
            out.append(0)
        }
    }

    static func cursor(_ reader: inout BinaryReader) throws(CodecError) -> ScanCursor? {
        guard try reader.u8() == 1 else { return nil }
        let count = Int(try reader.u32())
        try reader.need(count)
        let key = SeriesKey(bytes: Array(reader.bytes[reader.position..<(reader.position + count)]))
        reader.position += count
        let time = try reader.u8() == 1 ? Int64(bitPattern: try reader.u64()) : nil
        return ScanCursor(key: key, time: time)
    }

    /// A page's answer: the marker, the version, where the next page starts (`put`'s cursor; none when the scan
    /// is done), then the rows as a `RowBatchCodec` batch.
    static func answer(next: ScanCursor?, rows: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(rows.count + 64)
        put32(marker, &out)
        out.append(version)
        put(next, &out)
        out.append(contentsOf: rows)
        return out
    }
}

extension VnodeQuery {
    /// Decodes a scan answer that may be a page: its rows and where the next page starts (nil when the scan is
    /// done, and for a whole answer, which a node that predates pages gives).
    public static func page(from answer: [UInt8]) throws(CodecError) -> (rows: [Row], next: ScanCursor?) {
        var reader = BinaryReader(answer[...])
        guard answer.count >= 5, try reader.u32() == ScanPage.marker else { return (try rows(from: answer), nil) }
        let version = try reader.u8()
        guard version == ScanPage.version else { throw CodecError(reason: "a page of version \(version)") }
        let next = try ScanPage.cursor(&reader)
        return (try RowBatchCodec.decode(answer[reader.position...]), next)
    }
}
