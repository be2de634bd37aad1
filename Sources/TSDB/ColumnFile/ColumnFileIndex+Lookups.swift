import LineProtocol

extension ColumnFileIndex {
    /// What an open file keeps beside its encoded index to find series without decoding entries: per
    /// measurement its series' positions (ascending), the inverted index (a hash of each tag of each series with
    /// the series' position, sorted; a lookup verifies the series' tags, as a hash may collide), and each
    /// measurement's columns.
    struct Lookups: Sendable {
        var byMeasurement: [String: [UInt32]] = [:]
        var byTag: [TagPosition] = []
        var schemas: [String: MeasurementColumns] = [:]
    }

    struct TagPosition: Sendable, Comparable {
        let hash: UInt64
        let position: UInt32

        static func < (a: TagPosition, b: TagPosition) -> Bool { (a.hash, a.position) < (b.hash, b.position) }
    }

    /// A deterministic 64-bit FNV-1a hash of a tag (key, a zero byte, value).
    static func hash(_ tag: Tag) -> UInt64 { hash(key: tag.key.utf8, value: tag.value.utf8) }

    /// `hash(_:)` of a tag given as the UTF-8 bytes of its key and value.
    static func hash(key: some Sequence<UInt8>, value: some Sequence<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        hash = hash &* 0x100_0000_01b3
        for byte in value { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

    /// The index in `bytes` and its lookups, in one pass that checks every entry decodes (so that decoding one
    /// later cannot fail) without building it: strings are checked as UTF-8 and made only where they differ
    /// from the entry before's (a file's series of one measurement mostly share their tag keys and columns);
    /// `nil` if the bytes are not an index exactly.
    static func decodeWithLookups(_ bytes: ArraySlice<UInt8>) -> (index: ColumnFileIndex, lookups: Lookups)? {
        var pass = CheckingPass(bytes: bytes)
        guard let seriesCount = pass.count() else { return nil }
        let first = pass.position
        var starts: [UInt32] = []
        starts.reserveCapacity(seriesCount)
        for position in 0..<seriesCount {
            starts.append(UInt32(pass.position - first))
            guard pass.entry(at: UInt32(position)) else { return nil }
        }
        guard pass.position == bytes.endIndex, bytes.endIndex - first <= Int(UInt32.max) else { return nil }
        pass.finishMeasurement()
        pass.lookups.byTag.sort()
        var index = ColumnFileIndex()
        index.series = Entries(bytes: Array(bytes[first...]), starts: starts)
        return (index, pass.lookups)
    }

    /// Walks the entries as `Cursor.entry` reads them, checking the same things, collecting `Lookups`.
    private struct CheckingPass {
        let bytes: ArraySlice<UInt8>
        /// Reads varints, counts, bytes and chunk locations as the decoder does.
        private var cursor: Cursor
        var position: Int { cursor.position }
        var lookups = Lookups()
        /// The measurement of the entries being walked, its bytes, its positions and columns so far.
        private var measurement: (name: String, bytes: Range<Int>)?
        private var positions: [UInt32] = []
        private var schema = MeasurementColumns()
        /// The tag keys and columns of the entry before (byte ranges), to skip making strings already known.
        private var tagKeys: [Range<Int>] = []
        private var columns: [(name: Range<Int>, kind: Column.Kind)] = []
        private var entryTagKeys: [Range<Int>] = []
        private var entryColumns: [(name: Range<Int>, kind: Column.Kind)] = []

        init(bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            cursor = Cursor(bytes: bytes)
        }

        mutating func entry(at series: UInt32) -> Bool {
            guard let name = string() else { return false }
            if let current = measurement, bytes[current.bytes].elementsEqual(bytes[name]) {
                positions.append(series)
            } else {
                finishMeasurement()
                let text = String(decoding: bytes[name], as: UTF8.self)
                measurement = (text, name)
                positions = [series]
                schema = lookups.schemas[text] ?? MeasurementColumns()
                tagKeys = []
                columns = []
            }
            guard let tagCount = count() else { return false }
            entryTagKeys.removeAll(keepingCapacity: true)
            for _ in 0..<tagCount {
                guard let key = string(), let value = string() else { return false }
                entryTagKeys.append(key)
                lookups.byTag.append(TagPosition(hash: hash(key: bytes[key], value: bytes[value]), position: series))
            }
            if !same(entryTagKeys, tagKeys) {
                for key in entryTagKeys { schema.tags.insert(String(decoding: bytes[key], as: UTF8.self)) }
                swap(&tagKeys, &entryTagKeys)
            }
            guard let columnCount = count() else { return false }
            entryColumns.removeAll(keepingCapacity: true)
            for _ in 0..<columnCount {
                guard let name = string(), let code = byte(), let kind = Column.Kind(rawValue: code) else {
                    return false
                }
                entryColumns.append((name, kind))
            }
            if !sameColumns() {
                for (name, kind) in entryColumns {
                    let text = String(decoding: bytes[name], as: UTF8.self)
                    if schema.fields[text] == nil { schema.fields[text] = kind }
                }
                swap(&columns, &entryColumns)
            }
            guard let blockCount = count() else { return false }
            for _ in 0..<blockCount {
                guard varint() != nil, varint() != nil, let rows = count(), chunk() else { return false }
                for column in columns {
                    guard let present = count() else { return false }
                    if present == 0 { continue }
                    guard present <= rows, chunk(), stats(column.kind) else { return false }
                }
            }
            return true
        }

        /// Files the positions and columns of the measurement walked so far.
        mutating func finishMeasurement() {
            guard let current = measurement else { return }
            lookups.byMeasurement[current.name, default: []] += positions
            lookups.schemas[current.name] = schema
            measurement = nil
        }

        private func sameColumns() -> Bool {
            entryColumns.count == columns.count
                && zip(entryColumns, columns).allSatisfy {
                    $0.kind == $1.kind && bytes[$0.name].elementsEqual(bytes[$1.name])
                }
        }

        private func same(_ a: [Range<Int>], _ b: [Range<Int>]) -> Bool {
            a.count == b.count && zip(a, b).allSatisfy { bytes[$0].elementsEqual(bytes[$1]) }
        }

        mutating func varint() -> UInt64? { cursor.varint() }
        mutating func count() -> Int? { cursor.count() }
        mutating func byte() -> UInt8? { cursor.byte() }
        mutating func chunk() -> Bool { cursor.chunk() != nil }

        /// A string's bytes, checked to be UTF-8 (ASCII at once, anything else by decoding it).
        mutating func string() -> Range<Int>? {
            guard let length = count(), length <= bytes.endIndex - position else { return nil }
            let range = position..<(position + length)
            cursor.position += length
            if bytes[range].allSatisfy({ $0 < 0x80 }) { return range }
            return String(validating: bytes[range], as: UTF8.self) == nil ? nil : range
        }

        mutating func stats(_ kind: Column.Kind) -> Bool { cursor.stats(kind) != nil }
    }
}
