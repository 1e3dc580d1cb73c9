import Foundation
import ShoalKafka

/// Where a route finds the entity key of a record.
public struct KeySource<Event: Sendable>: Sendable {
    let extract: @Sendable (Event, KafkaRecord) -> String?

    /// The record's Kafka key (the default; keys land where producers put them).
    public static var recordKey: KeySource {
        KeySource { _, record in record.keyString }
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
    let decode: @Sendable (KafkaBytes) throws -> Event

    public init(_ decode: @escaping @Sendable (KafkaBytes) throws -> Event) {
        self.decode = decode
    }
}

extension EventDecoder where Event: Decodable {
    /// JSON, the default: records are plain JSON values.
    public static var json: EventDecoder {
        EventDecoder { bytes in
            try bytes.withUnsafeBytes { try CanonicalJSON.decoder.decode(Event.self, from: Data($0)) }
        }
    }
}

