import Crypto
import Foundation
import Testing

@testable import Query

/// Stored passwords: PBKDF2-HMAC-SHA-256 with a random salt in a versioned form; the legacy form still verifies.
@Suite("Password hashes")
struct PasswordHashTests {
    @Test("a new hash is versioned, salted (two hashes of one password differ) and verifies only its password")
    func pbkdf2() {
        let first = PasswordHash.make("s3cret")
        let second = PasswordHash.make("s3cret")
        let parts = first.split(separator: "$")
        #expect(parts.count == 4 && parts[0] == "pbkdf2-sha256" && parts[1] == "\(PasswordHash.rounds)")
        #expect(Data(base64Encoded: String(parts[3]))?.count == 32)
        #expect(first != second)
        #expect(PasswordHash.verify("s3cret", user: "ann", stored: first))
        #expect(PasswordHash.verify("s3cret", user: "bob", stored: second))
        #expect(!PasswordHash.verify("s3cret!", user: "ann", stored: first))
        #expect(!PasswordHash.verify("", user: "ann", stored: first))
    }

    @Test("the legacy form (SHA-256 of user:password) verifies; a malformed stored hash verifies nothing")
    func legacy() {
        let legacy = SHA256.hash(data: Array("ann:pw".utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(PasswordHash.verify("pw", user: "ann", stored: legacy))
        #expect(!PasswordHash.verify("pw", user: "bob", stored: legacy))
        #expect(!PasswordHash.verify("pw", user: "ann", stored: "pbkdf2-sha256$x$y$z"))
        #expect(!PasswordHash.verify("pw", user: "ann", stored: ""))
    }

    @Test("checked credentials are remembered, and a wrong password is never")
    func cache() {
        let stored = PasswordHash.make("pw")
        let credentials = VerifiedCredentials()
        #expect(credentials.check("pw", user: "ann", stored: stored))
        #expect(credentials.check("pw", user: "ann", stored: stored))
        #expect(!credentials.check("wrong", user: "ann", stored: stored))
        #expect(!credentials.check("pw", user: "ann", stored: PasswordHash.make("other")))
    }
}
