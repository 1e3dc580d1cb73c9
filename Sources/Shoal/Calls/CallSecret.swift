import Foundation
import Synchronization

/// The secret every node and client of a group shares: each call proves
/// its sender knows it, and each reply proves its node does, so a peer
/// without it can neither call an entity nor pose as a node.
///
/// The proofs travel in the clear and show nothing of the secret; the
/// calls' contents are not encrypted.
public struct CallSecret: Sendable {
    private let mac: SecretMAC

    /// The environment variable ``fromEnvironment()`` reads.
    public static let environmentVariable = "SHOAL_CALL_SECRET"
    /// Secrets shorter than this are refused: they could be guessed.
    public static let minimumLength = 16

    /// A secret from its bytes, at least ``minimumLength`` of them.
    public init(_ bytes: some Collection<UInt8>) throws {
        guard bytes.count >= Self.minimumLength else {
            throw ShoalError(
                code: .configuration,
                reason: "the call secret has \(bytes.count) bytes; it needs at least \(Self.minimumLength)"
            )
        }
        mac = SecretMAC(key: Array(bytes))
    }

    /// The secret in the file at `path`, without a trailing newline.
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ShoalError(code: .configuration, reason: "--call-secret-file \(path): cannot read the file")
        }
        var bytes = Array(data)
        while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes.removeLast() }
        do {
            try self.init(bytes)
        } catch let error as ShoalError {
            throw ShoalError(code: .configuration, reason: "--call-secret-file \(path): \(error.reason)")
        }
    }

    /// The secret in ``environmentVariable``, nil when it is not set.
    public static func fromEnvironment() throws -> CallSecret? {
        guard let value = ProcessInfo.processInfo.environment[environmentVariable], !value.isEmpty else { return nil }
        do {
            return try CallSecret(Array(value.utf8))
        } catch let error as ShoalError {
            throw ShoalError(code: .configuration, reason: "\(environmentVariable): \(error.reason)")
        }
    }

    /// The HMAC-SHA256 under the secret of the concatenation of `parts`.
    func authenticationCode(_ parts: [UInt8]...) -> [UInt8] {
        mac.code(parts)
    }

    /// Compared in constant time.
    func isValid(_ code: [UInt8], for parts: [UInt8]...) -> Bool {
        mac.isValid(code, for: parts)
    }
}

/// The proof a caller sends with each call: a fresh nonce, the time, and
/// an HMAC under the secret of both and the call's bytes. The node answers
/// with an HMAC of the nonce and the reply's bytes, so the caller knows the
/// reply came from a holder of the secret and was not altered.
///
/// A proof recorded off the wire could be played again within the clock
/// tolerance, but only with the same call's bytes, call id included: a
/// state-changing call played again is answered from its first execution.
///
/// On the wire: nonce (16 bytes), time (ms since the epoch, 8 bytes
/// big-endian), code (32 bytes): fixed places, read without parsing text.
struct CallProof: Sendable, Hashable {
    /// How far a proof's time may be from the receiver's clock.
    static let clockTolerance: Int64 = 120_000
    static let byteCount = 56

    var nonce: [UInt8]
    var millis: Int64
    var code: [UInt8]

    init(secret: CallSecret, request: [UInt8], now: Date = Date()) {
        nonce = Self.nonces.next()
        millis = Int64(now.timeIntervalSince1970 * 1000)
        code = secret.authenticationCode(Self.requestLabel, nonce, Self.bytes(of: millis), request)
    }

    /// Reads the wire form; nil if it is not one.
    init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        nonce = Array(bytes[0..<16])
        millis = bytes[16..<24].reduce(Int64(0)) { $0 << 8 | Int64($1) }
        code = Array(bytes[24...])
    }

    var bytes: [UInt8] { nonce + Self.bytes(of: millis) + code }

    /// Nil when `proof` proves `request` under `secret`; else why not.
    static func problem(with proof: [UInt8]?, request: [UInt8], secret: CallSecret, now: Date = Date()) -> String? {
        guard let proof else { return "the call carries no proof of the shared secret" }
        guard let parsed = CallProof(bytes: proof) else { return "the call's proof is malformed" }
        // A hostile time must not overflow the subtraction.
        let (difference, overflow) = Int64(now.timeIntervalSince1970 * 1000).subtractingReportingOverflow(parsed.millis)
        guard !overflow, difference.magnitude <= UInt64(clockTolerance) else {
            return "the call's proof is dated too far from this node's clock"
        }
        guard secret.isValid(parsed.code, for: requestLabel, parsed.nonce, bytes(of: parsed.millis), request) else {
            return "the call's proof does not match the shared secret"
        }
        return nil
    }

    func replyCode(_ secret: CallSecret, reply: [UInt8]) -> [UInt8] {
        secret.authenticationCode(Self.replyLabel, nonce, reply)
    }

    func isValidReply(_ code: [UInt8], _ reply: [UInt8], secret: CallSecret) -> Bool {
        secret.isValid(code, for: Self.replyLabel, nonce, reply)
    }

    private static let requestLabel = Array("shoal call request|".utf8)
    private static let replyLabel = Array("shoal call reply|".utf8)

    private static func bytes(of millis: Int64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: millis >> (56 - 8 * $0)) }
    }

    /// Nonces only need to differ: a random prefix per process and a
    /// counter, cheaper on every call than fresh random bytes.
    private static let nonces = UniqueNumbers()
}

/// Numbers unique to this process and, with 64 random bits per process,
/// across processes: a random prefix and a counter.
final class UniqueNumbers: Sendable {
    let prefix = UInt64.random(in: .min ... .max)
    private let counter = Atomic<UInt64>(0)

    /// The prefix and the next count, as text: `prefix-count` in hex.
    func nextText() -> String {
        String(prefix, radix: 16) + "-" + String(counter.add(1, ordering: .relaxed).newValue, radix: 16)
    }

    /// 16 bytes: the prefix and the next count.
    func next() -> [UInt8] {
        let count = counter.add(1, ordering: .relaxed).newValue
        return (0..<16).map { UInt8(truncatingIfNeeded: ($0 < 8 ? prefix : count) >> (56 - 8 * ($0 % 8))) }
    }
}
