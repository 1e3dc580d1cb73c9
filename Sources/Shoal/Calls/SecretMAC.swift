import Crypto

/// HMAC-SHA256 (RFC 2104) of the call secret, keyed once, on swift-crypto's
/// SHA-256.
///
/// Why not swift-crypto's `HMAC<SHA256>`: its only public `update` is
/// generic over `DataProtocol` and not inlinable, so every part of every
/// proof went through unspecialised generic code (the data's regions, their
/// metadata looked up at run time). A call takes four codes (its proof, the
/// node's check, the reply's code, the caller's check), and under remote
/// calls that plumbing, not the hashing, was most of the 9 % the codes took
/// of a node's time (`perf`, `ShoalBenchmarks calls`). SHA-256's own
/// `update(bufferPointer:)` is concrete; the construction around it is two
/// hashes. `SecretMACTests` checks it against `HMAC<SHA256>`; the figures
/// with and without it are in docs/benchmarks.md ("Entity calls").
struct SecretMAC: Sendable {
    private static let blockSize = 64

    /// SHA-256 having taken the key xor'ed with the inner and the outer
    /// pad: each code copies them instead of hashing the key again.
    private let inner: SHA256
    private let outer: SHA256

    init(key: [UInt8]) {
        var block = key.count > Self.blockSize ? Self.bytes(of: SHA256.hash(data: key)) : key
        block += repeatElement(0, count: Self.blockSize - block.count)
        inner = Self.hasher(absorbing: block.map { $0 ^ 0x36 })
        outer = Self.hasher(absorbing: block.map { $0 ^ 0x5c })
    }

    /// The code of the concatenation of `parts`.
    func code(_ parts: [[UInt8]]) -> [UInt8] {
        var hasher = inner
        for part in parts { part.withUnsafeBytes { hasher.update(bufferPointer: $0) } }
        let innerDigest = hasher.finalize()
        var outerHasher = outer
        innerDigest.withUnsafeBytes { outerHasher.update(bufferPointer: $0) }
        return Self.bytes(of: outerHasher.finalize())
    }

    /// Whether `code` is the code of `parts`, compared in constant time:
    /// how many leading bytes match must not show in how long it takes.
    func isValid(_ code: [UInt8], for parts: [[UInt8]]) -> Bool {
        let expected = self.code(parts)
        guard code.count == expected.count else { return false }
        var difference: UInt8 = 0
        for index in expected.indices { difference |= code[index] ^ expected[index] }
        return difference == 0
    }

    private static func hasher(absorbing block: [UInt8]) -> SHA256 {
        var hasher = SHA256()
        block.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        return hasher
    }

    private static func bytes(of digest: SHA256.Digest) -> [UInt8] {
        digest.withUnsafeBytes { Array($0) }
    }
}
