import LineProtocol
import RaftStorage

/// Writes one column file to disk as it is built, so that a flush or a compaction holds at most
/// `bufferBytes` of the file's bytes (and its index) in memory however large the file grows.
///
/// Guarantees: the file appears at `path` only whole and durable (written to `path.tmp`, fsynced, renamed, the
/// directory fsynced); after a failure or a crash at any step `path` is absent or whole, and a leftover
/// `path.tmp` is garbage the engine removes when it opens.
struct ColumnFileWriter {
    let path: String
    let directory: String
    let fileSystem: any FileSystem
    let bufferBytes: Int
    private var builder: ColumnFileBuilder
    private var descriptor: Int32?

    init(
        path: String, directory: String, fileSystem: any FileSystem, blockRows: Int, bufferBytes: Int = 4 << 20
    ) throws(ColumnFileError) {
        self.path = path
        self.directory = directory
        self.fileSystem = fileSystem
        self.bufferBytes = bufferBytes
        builder = ColumnFileBuilder(blockRows: blockRows)
        do {
            descriptor = try fileSystem.open(path + ".tmp", .createTruncating)
        } catch {
            throw ColumnFileError.io("cannot write \(path)", cause: error)
        }
    }

    /// Adds one series (as `ColumnFileBuilder.append`), writing out the built bytes once they pass the buffer.
    mutating func append(
        measurement: String, tags: [Tag], timestamps: [Int64], columns: [(name: String, column: Column)]
    ) throws(ColumnFileError) {
        builder.append(measurement: measurement, tags: tags, timestamps: timestamps, columns: columns)
        if builder.bytes.count >= bufferBytes { try write(builder.drain()) }
    }

    /// Writes the rest (index, footer), syncs, renames into place and syncs the directory. `coveredIndex`: the
    /// last Raft log entry whose effects the file holds.
    mutating func finish(coveredIndex: UInt64) throws(ColumnFileError) {
        try write(builder.finished(coveredIndex: coveredIndex))
        guard let fd = descriptor else { return }
        do {
            try fileSystem.syncData(fd, path: path + ".tmp")
            fileSystem.close(fd)
            descriptor = nil
            try fileSystem.rename(path + ".tmp", to: path)
            try fileSystem.syncDirectory(directory)
        } catch {
            abandon()
            throw ColumnFileError.io("cannot write \(path)", cause: error)
        }
    }

    /// Closes and removes the temporary file (after a failure; the file never appears).
    mutating func abandon() {
        if let fd = descriptor { fileSystem.close(fd) }
        descriptor = nil
        try? fileSystem.removeFile(path + ".tmp")
    }

    private mutating func write(_ bytes: [UInt8]) throws(ColumnFileError) {
        guard let fd = descriptor, !bytes.isEmpty else { return }
        do {
            try fileSystem.write(fd, bytes, path: path + ".tmp")
        } catch {
            abandon()
            throw ColumnFileError.io("cannot write \(path)", cause: error)
        }
    }
}
