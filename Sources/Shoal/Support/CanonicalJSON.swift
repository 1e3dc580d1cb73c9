import Foundation

/// JSON as Shoal writes it: keys sorted, so that the same value is always
/// the same bytes (snapshots, outputs, state lines, golden files).
package enum CanonicalJSON {
    /// For `Encodable` values: outputs, states, replay events.
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    /// `value` as JSON with sorted keys: the same bytes and errors as
    /// ``encoder`` (Foundation's `JSONEncoder`), several times faster on the
    /// values states and outputs hold (`ShoalBenchmarks json`). What the
    /// fast path does not write exactly as Foundation would, Foundation
    /// encodes again (see `JSONTapeWriter`).
    package static func encode(_ value: some Encodable) throws -> [UInt8] {
        do { return try tapeEncoded(value) } catch {}
        return Array(try encoder.encode(value))
    }

    /// The fast path's bytes; throws where it leaves the value to Foundation.
    package static func tapeEncoded<T: Encodable>(_ value: T) throws -> [UInt8] {
        let writer = JSONTapeWriter()
        // The encoders hold the writer unretained: it must live until they are done.
        defer { withExtendedLifetime(writer) {} }
        try JSONTapeEncoder.encode(value, into: writer.newNode(), of: writer, path: [])
        return try writer.written()
    }

    /// Foundation's decoder, which ``decode(_:from:)`` falls back to.
    static let decoder = JSONDecoder()

    /// `type` decoded from JSON `bytes`, with the same result and errors as
    /// Foundation's `JSONDecoder`, several times faster on the values events
    /// and states hold (`ShoalBenchmarks json`).
    ///
    /// A tape decoder reads the value first; where it does not decode it
    /// exactly as Foundation would (an escaped lone surrogate, `1.0` for an
    /// integer, `Data`, `URL`, `Decimal`, any error), Foundation's decoder
    /// decodes it again and its result or error is the answer.
    package static func decode<T: Decodable>(_ type: T.Type, from bytes: UnsafeRawBufferPointer) throws -> T {
        // Not through an optional: `T?` of a generic `T` looked its type
        // metadata up on every call (`perf`, `ShoalBenchmarks replay`).
        do { return try tapeDecoded(type, from: bytes) } catch {}
        return try decoder.decode(T.self, from: Data(bytes))
    }

    /// The tape decoder's value, or nil where it leaves the decision to
    /// Foundation.
    package static func tapeDecode<T: Decodable>(_ type: T.Type, from bytes: UnsafeRawBufferPointer) -> T? {
        try? tapeDecoded(type, from: bytes)
    }

    /// The tape decoder's value; throws where it leaves the decision to Foundation.
    private static func tapeDecoded<T: Decodable>(_ type: T.Type, from bytes: UnsafeRawBufferPointer) throws -> T {
        let document = try JSONTapeDocument(bytes.assumingMemoryBound(to: UInt8.self))
        // The decoders hold the document unretained: it must live until they are done.
        defer { withExtendedLifetime(document) {} }
        let value = try JSONTapeDecoder.decode(T.self, in: document, at: 0, path: [])
        guard !document.gaveUp else { throw JSONTape.Unsupported() }
        return value
    }

    /// `type` decoded from JSON `bytes` (see ``decode(_:from:)-(_,UnsafeRawBufferPointer)``).
    package static func decode<T: Decodable>(_ type: T.Type, from bytes: some ContiguousBytes) throws -> T {
        try bytes.withUnsafeBytes { try decode(type, from: $0) }
    }

    /// A parsed JSON value (any fragment) from `bytes`.
    package static func object(_ bytes: some Sequence<UInt8>) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    }

    /// A parsed JSON value written back with sorted keys and unescaped slashes.
    package static func data(_ object: Any) throws -> Data {
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
    }

    /// `object` as one line of text, or "" if it is not JSON.
    package static func line(_ object: Any) -> String {
        (try? data(object)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}
