/// A record read from a Kafka partition.
public struct KafkaRecord: Sendable, Hashable {
    /// The topic it was read from.
    public var topic: String
    /// The partition it was read from.
    public var partition: Int32
    /// Its offset in the partition.
    public var offset: Int64
    /// The record key, `nil` when the producer set none.
    public var key: KafkaBytes?
    /// The record value, `nil` for a tombstone.
    public var value: KafkaBytes?
    /// The record's headers, in the order they were produced.
    public var headers: [KafkaHeader]
    /// The record's timestamp, when the broker reported one.
    public var timestamp: KafkaTimestamp?

    public init(
        topic: String, partition: Int32, offset: Int64,
        key: KafkaBytes?, value: KafkaBytes?,
        headers: [KafkaHeader] = [], timestamp: KafkaTimestamp? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }

    /// The partition this record came from.
    public var topicPartition: TopicPartition { TopicPartition(topic, partition) }

    /// The key decoded as UTF-8; Shoal's records use string keys.
    public var keyString: String? { key?.string }

    /// The value decoded as UTF-8.
    public var valueString: String? { value?.string }
}
