import Foundation

/// One record of an application's seeded load generator (`APP produce`,
/// `APP demo`): a JSON value under a string key, on one of its topics.
public struct LoadRecord: Sendable, Hashable {
    /// The topic to write to.
    public var topic: String
    /// The record key (the producer's partitioner places it, as any client would).
    public var key: String
    /// The value, JSON text.
    public var value: String

    /// A record with a value that is already JSON text.
    public init(topic: String, key: String, value: String) {
        self.topic = topic
        self.key = key
        self.value = value
    }

    /// A record with `value` encoded as JSON, keys sorted, so that the same
    /// value is always the same bytes.
    public init(topic: String, key: String, json value: some Encodable) throws {
        let data = try CanonicalJSON.encode(value)
        self.init(topic: topic, key: key, value: String(decoding: data, as: UTF8.self))
    }
}
