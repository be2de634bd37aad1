/// A file system that hands every call to `base` unless it implements the call itself: what a wrapper that
/// fails, holds or counts a few calls (a full disk, a stalled sync) implements, instead of passing all the others
/// on by hand.
public protocol ForwardingFileSystem: FileSystem {
    /// The file system the calls the wrapper does not implement go to.
    var base: any FileSystem { get }
}

extension ForwardingFileSystem {
    public func createDirectory(_ path: String) throws(WALError) { try base.createDirectory(path) }
    public func contentsOfDirectory(_ path: String) throws(WALError) -> [String] {
        try base.contentsOfDirectory(path)
    }
    public func open(_ path: String, _ mode: FileOpenMode) throws(WALError) -> Int32 { try base.open(path, mode) }
    public func close(_ fd: Int32) { base.close(fd) }
    public func write(_ fd: Int32, _ bytes: [UInt8], path: String) throws(WALError) {
        try base.write(fd, bytes, path: path)
    }
    public func write(_ fd: Int32, _ bytes: [UInt8], at offset: Int, path: String) throws(WALError) {
        try base.write(fd, bytes, at: offset, path: path)
    }
    public func read(_ fd: Int32, at offset: Int, count: Int, path: String) throws(WALError) -> [UInt8] {
        try base.read(fd, at: offset, count: count, path: path)
    }
    public func size(_ fd: Int32, path: String) throws(WALError) -> Int { try base.size(fd, path: path) }
    public func syncData(_ fd: Int32, path: String) throws(WALError) { try base.syncData(fd, path: path) }
    public func truncate(_ fd: Int32, to length: Int, path: String) throws(WALError) {
        try base.truncate(fd, to: length, path: path)
    }
    public func syncDirectory(_ path: String) throws(WALError) { try base.syncDirectory(path) }
    public func removeFile(_ path: String) throws(WALError) { try base.removeFile(path) }
    public func rename(_ from: String, to: String) throws(WALError) { try base.rename(from, to: to) }
    public func removeDirectory(_ path: String) throws(WALError) { try base.removeDirectory(path) }
}
