/// A finished `.snap` file whose header and trailer have been read and checked for structure: what the store
/// lists and what readers start from. `verify` checks the data against the trailer's checksum.
struct SnapshotFile: Sendable {
    var path: String
    var header: SnapshotHeader
    var headerBytes: [UInt8]
    /// The data length from the header and the CRC-32C from the trailer.
    var checksum: SnapshotChecksum

    /// Bytes read at a time when streaming a file through the checksum.
    static let verifyChunkSize = 1 << 20

    /// Reads the header and trailer of the open file `fd` at `path` of `fileSystem`.
    /// - Throws: `.corrupt` naming the file if the header is invalid or the lengths do not add up.
    static func inspect(
        _ fd: Int32, path: String, in fileSystem: any FileSystem
    ) throws(SnapshotError) -> SnapshotFile {
        let size = try SnapshotError.io { () throws(WALError) in try fileSystem.size(fd, path: path) }
        var prefixLength = min(size, 4096)
        while true {
            let prefix = try SnapshotError.io { () throws(WALError) in
                try fileSystem.read(fd, at: 0, count: prefixLength, path: path)
            }
            switch SnapshotHeader.decode(prefix) {
            case .invalid(let reason):
                throw corrupt(reason, path)
            case .needMoreBytes:
                guard prefixLength < size else { throw corrupt("the file ends inside its header", path) }
                prefixLength = min(size, prefixLength * 2)
            case .header(let header, let headerSize):
                let expected = UInt64(headerSize) + header.dataLength + UInt64(SnapshotHeader.trailerSize)
                guard header.dataLength <= UInt64(Int.max / 2), expected == UInt64(size) else {
                    throw corrupt(
                        "the header declares \(header.dataLength) data bytes, so the file should have \(expected) "
                            + "bytes, but it has \(size)", path)
                }
                let trailer = try SnapshotError.io { () throws(WALError) in
                    try fileSystem.read(
                        fd, at: size - SnapshotHeader.trailerSize, count: SnapshotHeader.trailerSize, path: path)
                }
                var reader = ByteReader(trailer[...])
                return SnapshotFile(
                    path: path, header: header, headerBytes: Array(prefix[..<headerSize]),
                    checksum: SnapshotChecksum(dataLength: header.dataLength, crc: reader.readU32()!))
            }
        }
    }

    /// Streams header and data through CRC-32C and compares the result with the trailer.
    /// - Throws: `.corrupt` naming the file on a mismatch; `.io` if it cannot be read.
    func verify(_ fd: Int32, in fileSystem: any FileSystem) throws(SnapshotError) {
        let end = headerBytes.count + Int(checksum.dataLength)
        var crc: UInt32 = 0
        var offset = 0
        while offset < end {
            let count = min(Self.verifyChunkSize, end - offset)
            let chunk = try SnapshotError.io { () throws(WALError) in
                try fileSystem.read(fd, at: offset, count: count, path: path)
            }
            guard !chunk.isEmpty else { throw Self.corrupt("the file is shorter than its header says", path) }
            crc = CRC32C.checksum(chunk, continuing: crc)
            offset += chunk.count
        }
        try checkTrailer(computed: crc)
    }

    /// Throws `.corrupt` unless `computed` (the CRC-32C of header and data) equals the stored trailer.
    func checkTrailer(computed: UInt32) throws(SnapshotError) {
        guard computed == checksum.crc else {
            throw Self.corrupt(
                "checksum mismatch (stored \(hex(checksum.crc)), computed \(hex(computed)))", path)
        }
    }

    static func corrupt(_ reason: String, _ path: String) -> SnapshotError {
        SnapshotError(
            .corrupt,
            "snapshot file is damaged: \(reason); delete it and let the group fetch a snapshot from its leader",
            file: path)
    }

    private func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16, uppercase: true) }
}
