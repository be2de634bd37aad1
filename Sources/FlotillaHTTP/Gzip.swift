import CompressNIO
import NIOCore

/// `Content-Encoding: gzip` request bodies and answers (compress-nio over zlib).
enum Gzip {
    /// `bytes` gzipped, or `nil` if compression failed.
    static func compress(_ bytes: [UInt8]) -> [UInt8]? {
        var buffer = ByteBuffer(bytes: bytes)
        guard let deflated = try? buffer.compress(with: .gzip()) else { return nil }
        return Array(deflated.readableBytesView)
    }

    /// The inflated bytes, or `nil` if the data is not gzip or inflates beyond `limit`.
    static func decompress(_ bytes: [UInt8], limit: Int) -> [UInt8]? {
        var buffer = ByteBuffer(bytes: bytes)
        guard let inflated = try? buffer.decompress(with: .gzip(), maxSize: limit) else { return nil }
        return Array(inflated.readableBytesView)
    }
}
