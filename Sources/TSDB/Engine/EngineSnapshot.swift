import RaftStorage

/// A vnode's state at one Raft index as what it is on disk — its column files — streamed to another replica
/// without rewriting anything: a header (magic "FLVS", version, the covered index, each file's size, in version 2
/// the tombstones that hide rows of the files (as the manifest keeps them; a stream without any is version 1),
/// the state machine's state at that index, CRC32C), then each file's bytes in frames of at most `frameBytes` (u32
/// length, bytes, CRC32C). The files are immutable and held open by the source (an open descriptor keeps a file
/// readable as a hard link would), so a compaction that deletes them meanwhile changes nothing of what is sent;
/// the source can be read any number of times (`EngineSnapshotReader`), each time the same bytes.
public struct EngineSnapshotSource: Sendable {
    static let magic: [UInt8] = Array("FLVS".utf8)
    static let version: UInt8 = 2
    static let frameBytes = 1 << 20

    public let coveredIndex: UInt64
    let state: [UInt8]
    let files: [ColumnFile]
    let tombstones: [Tombstone]

    /// The header frame: its length (which counts its checksum), the header, its CRC32C.
    var headerFrame: [UInt8] {
        var header = Self.magic + [tombstones.isEmpty ? 1 : Self.version, 0, 0, 0]
        Varint.append(coveredIndex, to: &header)
        Varint.append(UInt64(files.count), to: &header)
        for file in files { Varint.append(UInt64(file.size), to: &header) }
        if !tombstones.isEmpty { Tombstone.append(tombstones, to: &header) }
        Varint.append(UInt64(state.count), to: &header)
        header += state
        var frame: [UInt8] = []
        put32(UInt32(header.count + 4), &frame)
        Checksummed.append(header, to: &frame)
        return frame
    }

    /// The stream's length in bytes, known without reading a file: the header frame, then each file's bytes
    /// with 8 bytes of framing per `frameBytes` of them.
    public var length: UInt64 {
        let frames = files.reduce(0) { $0 + ($1.size + Self.frameBytes - 1) / Self.frameBytes }
        return UInt64(headerFrame.count + files.reduce(0) { $0 + $1.size } + 8 * frames)
    }

    /// The header, then every file's frames, in pieces handed to `emit`.
    public func write(_ emit: ([UInt8]) throws -> Void) throws {
        let reader = EngineSnapshotReader(self)
        while true {
            let piece = try reader.next(limit: Self.frameBytes + 8)
            if piece.isEmpty { return }
            try emit(piece)
        }
    }
}

/// Reads an `EngineSnapshotSource` from its first byte, in pieces of any size, a frame read from its file when
/// the piece before has used up the last. One owner uses it, on one thread at a time (a class so that it can be
/// handed from the thread that makes it to the one that reads it).
public final class EngineSnapshotReader {
    private let source: EngineSnapshotSource
    /// The frame being handed out, and how much of it has been.
    private var frame: [UInt8]
    private var handedOut = 0
    /// The file whose next frame is read next, and where in it.
    private var file = 0
    private var offset = 0

    public init(_ source: EngineSnapshotSource) {
        self.source = source
        frame = source.headerFrame
    }

    /// The next at most `limit` bytes of the stream (at least one), or none after its end.
    /// - Throws: `ColumnFileError` naming the file that cannot be read.
    public func next(limit: Int) throws(ColumnFileError) -> [UInt8] {
        precondition(limit > 0, "a piece holds at least one byte")
        var piece: [UInt8] = []
        while piece.count < limit {
            if handedOut == frame.count {
                guard let read = try nextFrame() else { break }
                (frame, handedOut) = (read, 0)
            }
            let count = min(limit - piece.count, frame.count - handedOut)
            if piece.isEmpty && handedOut == 0 && count == frame.count {
                piece = frame  // a whole frame: handed out without a copy
            } else {
                piece += frame[handedOut..<(handedOut + count)]
            }
            handedOut += count
        }
        return piece
    }

    /// The next file frame (u32 length, bytes, CRC32C), or `nil` after the last file's.
    private func nextFrame() throws(ColumnFileError) -> [UInt8]? {
        while file < source.files.count && offset >= source.files[file].size { (file, offset) = (file + 1, 0) }
        guard file < source.files.count else { return nil }
        let count = min(EngineSnapshotSource.frameBytes, source.files[file].size - offset)
        var read: [UInt8] = []
        read.reserveCapacity(count + 8)
        put32(UInt32(count), &read)
        Checksummed.append(try source.files[file].readRaw(at: offset, count: count), to: &read)
        offset += count
        return read
    }
}

extension VnodeEngine {
    /// The engine's files as a snapshot at `coveredIndex`: a snapshot is the set of files at an index, nothing
    /// else (the writes in memory are above that index; a replica that installs it gets them from the log).
    public func snapshotSource() -> EngineSnapshotSource {
        EngineSnapshotSource(coveredIndex: coveredIndex, state: coveredState, files: files, tombstones: tombstones)
    }
}

/// Takes a snapshot stream in chunks of any size and writes its files into an empty directory (each file
/// written, fsynced and renamed into place as it completes; the manifest last), then opens the engine there.
/// A frame whose checksum fails, or a stream that does not match its header, is refused with where it went wrong.
public struct EngineSnapshotReceiver {
    let directory: String
    let fileSystem: any FileSystem
    let options: VnodeEngine.Options
    private var buffer: [UInt8] = []
    private var coveredIndex: UInt64?
    private var state: [UInt8] = []
    private var sizes: [Int] = []
    private var tombstones: [Tombstone] = []
    /// The file being received, its descriptor and how much of it is written.
    private var current = 0
    private var descriptor: Int32?
    private var written = 0
    /// Bytes of the stream consumed so far (for error messages).
    private var position = 0

    public init(directory: String, fileSystem: any FileSystem, options: VnodeEngine.Options = VnodeEngine.Options()) {
        self.directory = directory
        self.fileSystem = fileSystem
        self.options = options
    }

    private func temporaryPath(_ k: Int) -> String {
        directory + "/" + EngineManifest.fileName(of: UInt64(k + 1)) + ".tmp"
    }

    private func fail(_ what: String) -> ColumnFileError {
        ColumnFileError(.corrupt, "snapshot stream for \(directory) at byte \(position): \(what)")
    }

    /// Consumes `chunk`, writing every frame now complete.
    public mutating func take(_ chunk: [UInt8]) throws(ColumnFileError) {
        buffer += chunk
        var start = 0
        while buffer.count - start >= 4 {
            var lengthReader = BinaryReader(buffer[start..<(start + 4)])
            let length = Int(try! lengthReader.u32())  // four bytes are there
            // The header's length counts its checksum; a data frame's does not.
            let needed = 4 + length + (coveredIndex == nil ? 0 : 4)
            guard buffer.count - start >= needed else { break }
            let framed = buffer[(start + 4)..<(start + needed)]
            if coveredIndex == nil {
                guard let header = Checksummed.payload(framed) else {
                    throw fail("the header's checksum does not match")
                }
                try readHeader(header)
            } else {
                guard let bytes = Checksummed.payload(framed) else { throw fail("a frame's checksum does not match") }
                try writeFrame(Array(bytes))
            }
            start += needed
            position += needed
        }
        buffer.removeFirst(start)
    }

    private mutating func readHeader(_ header: ArraySlice<UInt8>) throws(ColumnFileError) {
        guard header.count >= 8, Array(header.prefix(4)) == EngineSnapshotSource.magic else {
            throw fail("not a vnode snapshot")
        }
        let version = header[header.startIndex + 4]
        guard version == 1 || version == EngineSnapshotSource.version else {
            throw ColumnFileError(
                .unsupportedVersion, "snapshot stream for \(directory): version \(header[header.startIndex + 4])")
        }
        let body = header.dropFirst(8)
        var at = body.startIndex
        guard let covered = Varint.read(body, at: &at), let count = Varint.read(body, at: &at), count < 1 << 20 else {
            throw fail("the header does not decode")
        }
        for _ in 0..<count {
            let smallest = UInt64(ColumnFileFormat.headerSize + ColumnFileFormat.footerSize)
            guard let size = Varint.read(body, at: &at), size >= smallest, size < 1 << 48 else {
                throw fail("a file size does not decode")
            }
            sizes.append(Int(size))
        }
        if version >= 2 {
            guard let read = Tombstone.read(body, at: &at) else { throw fail("the tombstones do not decode") }
            tombstones = read
        }
        guard let stateLength = Varint.read(body, at: &at), stateLength == UInt64(body.endIndex - at) else {
            throw fail("the header's state does not decode")
        }
        state = Array(body[at...])
        do {
            try fileSystem.createDirectory(directory)
            guard try fileSystem.contentsOfDirectory(directory).isEmpty else {
                throw ColumnFileError(.io, "\(directory) is not empty: a snapshot installs into an empty directory")
            }
        } catch let error as ColumnFileError {
            throw error
        } catch {
            throw ColumnFileError.io("cannot prepare \(directory)", cause: error)
        }
        coveredIndex = covered
    }

    private mutating func writeFrame(_ bytes: [UInt8]) throws(ColumnFileError) {
        guard current < sizes.count, written + bytes.count <= sizes[current] else {
            throw fail("more bytes than the header announced")
        }
        let path = temporaryPath(current)
        do {
            if descriptor == nil { descriptor = try fileSystem.open(path, .createTruncating) }
            try fileSystem.write(descriptor!, bytes, path: path)
            written += bytes.count
            if written == sizes[current] {
                try fileSystem.syncData(descriptor!, path: path)
                fileSystem.close(descriptor!)
                descriptor = nil
                try fileSystem.rename(path, to: String(path.dropLast(4)))
                current += 1
                written = 0
            }
        } catch {
            throw ColumnFileError.io("cannot write \(path)", cause: error)
        }
    }

    /// After the last chunk: checks that every file arrived whole, writes the manifest and opens the engine
    /// (which verifies every file's index).
    public mutating func finish() throws(ColumnFileError) -> VnodeEngine {
        guard let coveredIndex else { throw fail("the stream ended before its header") }
        guard buffer.isEmpty, current == sizes.count else {
            throw fail("the stream ended early: \(current) of \(sizes.count) files complete")
        }
        let manifest = EngineManifest(
            coveredIndex: coveredIndex, nextFileNumber: UInt64(sizes.count + 1),
            files: (0..<sizes.count).map { UInt64($0 + 1) }, state: state, tombstones: tombstones)
        do {
            try fileSystem.createAtomically(
                directory + "/" + EngineManifest.fileName, content: manifest.encoded(), directory: directory, sync: true
            )
        } catch {
            throw ColumnFileError.io("cannot write the manifest in \(directory)", cause: error)
        }
        return try VnodeEngine.open(directory: directory, fileSystem: fileSystem, options: options)
    }
}
