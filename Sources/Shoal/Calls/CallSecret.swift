import Crypto
import Foundation
import Synchronization

/// The secret every node and client of a group shares: each call proves
/// its sender knows it, and each reply proves its node does, so a peer
/// without it can neither call an entity nor pose as a node.
///
/// The proofs travel in the clear and show nothing of the secret; the
/// calls' contents are not encrypted.
public struct CallSecret: Sendable {
    let key: SymmetricKey

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
        key = SymmetricKey(data: Array(bytes))
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

    func authenticationCode(_ label: String, _ bytes: [UInt8]) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: key)
        hmac.update(data: Array(label.utf8))
        hmac.update(data: bytes)
        return Array(hmac.finalize())
    }

    /// Compared in constant time (swift-crypto's check).
    func isValid(_ code: [UInt8], for label: String, _ bytes: [UInt8]) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: Array(label.utf8) + bytes, using: key)
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
struct CallProof: Sendable, Hashable {
    static let requestKey = "shoal-call-proof"
    static let replyKey = "shoal-call-reply-proof"
    /// How far a proof's time may be from the receiver's clock.
    static let clockTolerance: Int64 = 120_000

    var nonce: String
    var millis: Int64
    var code: [UInt8]

    init(secret: CallSecret, request: [UInt8], now: Date = Date()) {
        nonce = Self.nonces.next()
        millis = Int64(now.timeIntervalSince1970 * 1000)
        code = secret.authenticationCode(Self.requestParts(nonce, millis), request)
    }

    /// Parses the `nonce.millis.hex` form; nil if malformed.
    init?(header: String) {
        let parts = header.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count <= 64, let millis = Int64(parts[1]), let code = [UInt8](hex: parts[2]) else { return nil }
        self.nonce = String(parts[0])
        self.millis = millis
        self.code = code
    }

    var header: String { "\(nonce).\(millis).\(code.hex)" }

    /// Nil when `header` proves `request` under `secret`; else why not.
    static func problem(with header: String?, request: [UInt8], secret: CallSecret, now: Date = Date()) -> String? {
        guard let header else { return "the call carries no proof of the shared secret" }
        guard let proof = CallProof(header: header) else { return "the call's proof is malformed" }
        // A hostile time must not overflow the subtraction.
        let (difference, overflow) = Int64(now.timeIntervalSince1970 * 1000).subtractingReportingOverflow(proof.millis)
        guard !overflow, difference.magnitude <= UInt64(clockTolerance) else {
            return "the call's proof is dated too far from this node's clock"
        }
        guard secret.isValid(proof.code, for: requestParts(proof.nonce, proof.millis), request) else {
            return "the call's proof does not match the shared secret"
        }
        return nil
    }

    func replyCode(_ secret: CallSecret, reply: [UInt8]) -> [UInt8] {
        secret.authenticationCode("reply|\(nonce)|", reply)
    }

    /// Nonces only need to differ: a random prefix per process and a
    /// counter, cheaper on every call than a fresh UUID.
    private static let nonces = NonceSource()

    private static func requestParts(_ nonce: String, _ millis: Int64) -> String {
        "request|\(nonce)|\(millis)|"
    }
}

/// Unique nonces for this process's proofs.
final class NonceSource: Sendable {
    private let prefix = [UInt8]((0..<8).map { _ in UInt8.random(in: 0...255) }).hex
    private let counter = Atomic<UInt64>(0)

    func next() -> String {
        prefix + String(counter.add(1, ordering: .relaxed).newValue, radix: 16)
    }
}

extension [UInt8] {
    /// Bytes from lowercase or uppercase hex digits; nil when `hex` has an
    /// odd length, more than 256 digits, or anything but digits.
    init?(hex: some StringProtocol) {
        let digits = hex.utf8
        guard digits.count % 2 == 0, digits.count <= 256 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var high: UInt8?
        for digit in digits {
            guard let value = Self.nibble(digit) else { return nil }
            if let first = high {
                bytes.append(first << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        self = bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Lowercase hex digits, two per byte.
    var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: count * 2) { out in
            for (index, byte) in enumerated() {
                out[2 * index] = digits[Int(byte >> 4)]
                out[2 * index + 1] = digits[Int(byte & 0x0f)]
            }
            return count * 2
        }
    }
}
