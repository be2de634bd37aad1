import RaftStorage

/// Which column files make up a vnode, oldest first, and the Raft index they cover together: the one durable
/// record of a vnode engine's state. Replaced atomically (temporary file, fsync, rename, directory fsync), so a
/// crash leaves the old manifest or the new one; a file it does not list is a leftover of an interrupted flush or
/// compaction and is deleted when the engine opens.
///
/// Layout: "FLMF", version (u8), 3 zero bytes; varints: covered index, next file number, file count, each file's
/// number; in version 2 only, the tombstone count (varint) and each tombstone's length (varint) and bytes
/// (`Tombstone.bytes`); the state's length (varint) and bytes; then the CRC32C (u32, little-endian) of
/// everything before it. A manifest without tombstones is written as version 1, which builds without deletion
/// read too.
struct EngineManifest: Sendable, Equatable {
    static let fileName = "MANIFEST"
    static let magic: [UInt8] = Array("FLMF".utf8)
    static let version: UInt8 = 2

    /// The last Raft log entry whose effects the files hold.
    var coveredIndex: UInt64 = 0
    /// The number the next file gets (numbers are never reused).
    var nextFileNumber: UInt64 = 1
    /// File numbers, oldest data first (a compaction's output takes its inputs' place).
    var files: [UInt64] = []
    /// What the vnode's state machine keeps beside its points as of the covered index (its client-session
    /// table), opaque to the engine.
    var state: [UInt8] = []
    /// The deletions that hide rows of these files.
    var tombstones: [Tombstone] = []

    static func fileName(of number: UInt64) -> String { "\(number).tsf" }

    func encoded() -> [UInt8] {
        var bytes = Self.magic + [tombstones.isEmpty ? 1 : Self.version, 0, 0, 0]
        Varint.append(coveredIndex, to: &bytes)
        Varint.append(nextFileNumber, to: &bytes)
        Varint.append(UInt64(files.count), to: &bytes)
        for number in files { Varint.append(number, to: &bytes) }
        if !tombstones.isEmpty { Tombstone.append(tombstones, to: &bytes) }
        Varint.append(UInt64(state.count), to: &bytes)
        bytes += state
        var framed: [UInt8] = []
        Checksummed.append(bytes, to: &framed)
        return framed
    }

    /// The manifest in `bytes`, or why not.
    static func decode(_ bytes: [UInt8], path: String) throws(ColumnFileError) -> EngineManifest {
        guard bytes.count >= 12, Array(bytes.prefix(4)) == magic else {
            throw ColumnFileError.corrupt(path, at: 0, "not a vnode manifest")
        }
        guard bytes[4] == 1 || bytes[4] == version else {
            throw ColumnFileError(
                .unsupportedVersion, "\(path): manifest version \(bytes[4]), this build reads \(version)")
        }
        guard let checked = Checksummed.payload(bytes[...]) else {
            throw ColumnFileError.corrupt(path, at: 0, "the manifest's checksum does not match")
        }
        let body = checked.dropFirst(8)
        var position = body.startIndex
        var manifest = EngineManifest()
        guard let covered = Varint.read(body, at: &position), let next = Varint.read(body, at: &position),
            let count = Varint.read(body, at: &position), count <= UInt64(body.count)
        else { throw ColumnFileError.corrupt(path, at: 8, "the manifest does not decode") }
        manifest.coveredIndex = covered
        manifest.nextFileNumber = next
        for _ in 0..<count {
            guard let number = Varint.read(body, at: &position), number < next else {
                throw ColumnFileError.corrupt(path, at: UInt64(position), "the manifest lists a bad file number")
            }
            manifest.files.append(number)
        }
        if bytes[4] >= 2 {
            guard let tombstones = Tombstone.read(body, at: &position) else {
                throw ColumnFileError.corrupt(path, at: UInt64(position), "the manifest's tombstones do not decode")
            }
            manifest.tombstones = tombstones
        }
        guard let stateLength = Varint.read(body, at: &position), stateLength == UInt64(body.endIndex - position) else {
            throw ColumnFileError.corrupt(path, at: UInt64(position), "the manifest's state does not decode")
        }
        manifest.state = Array(body[position...])
        return manifest
    }
}
