import Crypto
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
