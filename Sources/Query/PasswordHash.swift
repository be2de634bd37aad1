import Crypto
import Foundation
import Synchronization
import _CryptoExtras

/// How a user's password is kept in the meta store, versioned by its prefix:
/// `pbkdf2-sha256$<rounds>$<salt, base64>$<key, base64>` — PBKDF2 with HMAC-SHA-256, a random 16-byte salt and a
/// 32-byte key. Stores made before it hold the legacy form, 64 hex digits of SHA-256 of `user:password`; those
/// still verify, and `CREATE USER` writes the new form.
public enum PasswordHash {
    static let scheme = "pbkdf2-sha256"
    /// OWASP's floor for PBKDF2-HMAC-SHA-256 in swift-crypto's checked API.
    static let rounds = 210_000

    /// A new stored form of `password`, with a fresh random salt.
    public static func make(_ password: String) -> String {
        let salt = (0..<16).map { _ in UInt8.random(in: .min ... .max) }
        return
            "\(scheme)$\(rounds)$\(Data(salt).base64EncodedString())$\(derive(password, salt: salt, rounds: rounds).base64EncodedString())"
    }

    /// True if `password` is the one `stored` was made from (either form).
    public static func verify(_ password: String, user: String, stored: String) -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        if parts.count == 4, parts[0] == scheme, let rounds = Int(parts[1]), rounds >= 1,
            let salt = Data(base64Encoded: String(parts[2])), let key = Data(base64Encoded: String(parts[3]))
        {
            return constantTimeEqual(Array(derive(password, salt: Array(salt), rounds: rounds)), Array(key))
        }
        let legacy = SHA256.hash(data: Array((user + ":" + password).utf8)).map { String(format: "%02x", $0) }.joined()
        return constantTimeEqual(Array(legacy.utf8), Array(stored.utf8))
    }

    private static func derive(_ password: String, salt: [UInt8], rounds: Int) -> Data {
        let key = try? KDF.Insecure.PBKDF2.deriveKey(
            from: Array(password.utf8), salt: salt, using: .sha256, outputByteCount: 32, unsafeUncheckedRounds: rounds)
        return key?.withUnsafeBytes { Data($0) } ?? Data()
    }

    static func constantTimeEqual(_ x: [UInt8], _ y: [UInt8]) -> Bool {
        var difference = x.count ^ y.count
        for i in 0..<min(x.count, y.count) { difference |= Int(x[i] ^ y[i]) }
        return difference == 0
    }
}

/// Credentials already checked against a stored hash, so that a request does not pay PBKDF2's cost (tens of
/// milliseconds, by design) every time: keyed by SHA-256 of the stored hash and the password, so a changed
/// password or user misses. Bounded: emptied when it holds 10,000 entries.
public final class VerifiedCredentials: Sendable {
    private let verified = Mutex<Set<Data>>([])

    public init() {}

    public func check(_ password: String, user: String, stored: String) -> Bool {
        let key = Data(SHA256.hash(data: Array((stored + "\u{0}" + password).utf8)))
        if verified.withLock({ $0.contains(key) }) { return true }
        guard PasswordHash.verify(password, user: user, stored: stored) else { return false }
        verified.withLock { set in
            if set.count >= 10_000 { set.removeAll() }
            set.insert(key)
        }
        return true
    }
}
