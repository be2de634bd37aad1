import CompressNIO
import NIOCore

/// `Content-Encoding: gzip` request bodies (compress-nio over zlib).
enum Gzip {
    /// The inflated bytes, or `nil` if the data is not gzip or inflates beyond `limit`.
    static func decompress(_ bytes: [UInt8], limit: Int) -> [UInt8]? {
        var buffer = ByteBuffer(bytes: bytes)
        guard let inflated = try? buffer.decompress(with: .gzip(), maxSize: limit) else { return nil }
        return Array(inflated.readableBytesView)
    }
}
