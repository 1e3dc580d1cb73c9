import Foundation
import ShoalKafka

/// Where a route finds the entity key of a record.
public struct KeySource<Event: Sendable>: Sendable {
    /// The key of a decoded event; `recordKey` reads the record's key, only
    /// when asked (a replay holds keys as strings, a node as bytes).
    let extract: @Sendable (Event, _ recordKey: () -> String?) -> String?

    /// The record's Kafka key (the default; keys land where producers put them).
    public static var recordKey: KeySource {
        KeySource { _, recordKey in recordKey() }
    }

    /// A field of the decoded event.
    public static func field(_ path: KeyPath<Event, String> & Sendable) -> KeySource {
        KeySource { event, _ in event[keyPath: path] }
    }

    /// Any function of the decoded event.
    public static func custom(_ key: @escaping @Sendable (Event) -> String?) -> KeySource {
        KeySource { event, _ in key(event) }
    }
}

/// Turns a record value into an event.
public struct EventDecoder<Event: Sendable>: Sendable {
    private let body: @Sendable (KafkaBytes) throws -> Event

    /// A decoder that runs `decode` on each record value.
    public init(_ decode: @escaping @Sendable (KafkaBytes) throws -> Event) {
        body = decode
    }

    /// The event a record value holds; throws what the decoding throws.
    public func decode(_ bytes: KafkaBytes) throws -> Event {
        try body(bytes)
    }
}

extension EventDecoder where Event: Decodable {
    /// JSON, the default: records are plain JSON values, decoded as
    /// Foundation's `JSONDecoder` decodes them (same values, same errors),
    /// by a faster decoder that leaves every case it does not read exactly
    /// so to Foundation's.
    public static var json: EventDecoder {
        EventDecoder { bytes in
            try bytes.withUnsafeBytes { try CanonicalJSON.decode(Event.self, from: $0) }
        }
    }
}

