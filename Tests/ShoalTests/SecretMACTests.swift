import Crypto
import Foundation
import PropertyBased
import Testing
@testable import Shoal

/// The proofs' HMAC-SHA256 against swift-crypto's `HMAC<SHA256>`: keys
/// shorter than, as long as and longer than SHA-256's block, messages in
/// several parts, and a code altered in any byte refused.
@Suite("Secret MAC")
struct SecretMACTests {
    @Test func everyCodeIsSwiftCryptosHMAC() async {
        await propertyCheck(count: 500, input: Gen.int(in: 0...Int.max)) { seed in
            var random = Shoal.SeededRandom(seed: UInt64(seed))
            let key = Self.bytes(random.pick([16, 32, 63, 64, 65, 200]), &random)
            let parts = (0..<random.int(in: 0...4)).map { _ in Self.bytes(random.int(in: 0...300), &random) }
            let expected = Array(HMAC<SHA256>.authenticationCode(for: parts.flatMap { $0 }, using: SymmetricKey(data: key)))
            let mac = SecretMAC(key: key)
            #expect(mac.code(parts) == expected, "key of \(key.count) bytes, parts of \(parts.map(\.count)) bytes")
            #expect(mac.isValid(expected, for: parts))
        }
    }

    /// RFC 4231's cases 2, 6 and 7: a short key, and a key longer than the
    /// block with a message shorter and longer than it.
    @Test(arguments: [
        (Array("Jefe".utf8), "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        (
            [UInt8](repeating: 0xaa, count: 131), "Test Using Larger Than Block-Size Key - Hash Key First",
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        ),
        (
            [UInt8](repeating: 0xaa, count: 131),
            "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
        ),
    ])
    func theRFCsKnownAnswers(key: [UInt8], message: String, hex: String) {
        let code = SecretMAC(key: key).code([Array(message.utf8)])
        #expect(code.map { String(format: "%02x", $0) }.joined() == hex)
    }

    @Test func aCodeWrongInAnyByteOrLengthIsRefused() {
        let mac = SecretMAC(key: Array("sixteen-bytes-at-least".utf8))
        let parts = [Array("request|".utf8), Array("payload".utf8)]
        let code = mac.code(parts)
        for index in code.indices {
            var altered = code
            altered[index] ^= 0x01
            #expect(!mac.isValid(altered, for: parts), "byte \(index) altered")
        }
        #expect(!mac.isValid(Array(code.dropLast()), for: parts))
        #expect(!mac.isValid(code, for: [Array("request|".utf8), Array("payload!".utf8)]))
    }

    private static func bytes(_ count: Int, _ random: inout Shoal.SeededRandom) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
    }
}
