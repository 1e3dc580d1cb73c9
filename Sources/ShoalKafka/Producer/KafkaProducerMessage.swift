/// A record to produce.
public struct KafkaProducerMessage: Sendable, Hashable {
    /// The topic to write to.
    public var topic: String
    /// An explicit partition; `nil` lets the Java-compatible key partitioner choose.
    public var partition: Int32?
    /// The record key.
    public var key: [UInt8]?
    /// The record value; `nil` produces a tombstone.
    public var value: [UInt8]?
    /// Headers, in order.
    public var headers: [KafkaHeader]
    /// The create time; `nil` uses the time of sending.
    public var timestamp: Int64?

    public init(
        topic: String, partition: Int32? = nil,
        key: [UInt8]?, value: [UInt8]?,
        headers: [KafkaHeader] = [], timestamp: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }

    /// A record with a UTF-8 string key and value.
    public init(
        topic: String, key: String?, value: String?,
        headers: [KafkaHeader] = [], timestamp: Int64? = nil
    ) {
        self.init(
            topic: topic, key: key.map { Array($0.utf8) }, value: value.map { Array($0.utf8) },
            headers: headers, timestamp: timestamp
        )
    }
}

/// Where a produced record landed.
public struct KafkaDeliveryReport: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
}
