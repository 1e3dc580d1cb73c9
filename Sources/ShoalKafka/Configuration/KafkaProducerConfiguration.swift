/// Configuration of a ``KafkaProducer``.
public struct KafkaProducerConfiguration: Sendable, Hashable {
    /// `acks`: which replicas must have a record before it counts as delivered.
    public enum Acks: String, Sendable, Hashable {
        case none = "0"
        case leader = "1"
        case all = "all"
    }

    /// Brokers, identity, security and raw properties.
    public var client: KafkaClientConfiguration
    /// `enable.idempotence`: no duplicates or reordering from retries. On by default.
    public var idempotent: Bool
    /// Replica acknowledgement; idempotence requires `.all`.
    public var acks: Acks
    /// `linger.ms`: how long to wait to fill a batch.
    public var linger: Duration
    /// `message.timeout.ms`: how long a record may wait for delivery, retries included.
    public var deliveryTimeout: Duration
    /// `queue.buffering.max.messages`: the local queue's capacity. A full
    /// queue suspends senders.
    public var queueCapacity: Int
    /// `batch.num.messages`.
    public var batchSize: Int
    /// `compression.type`: `none`, `gzip`, `snappy`, `lz4` or `zstd`.
    public var compression: String
    /// `partitioner`: where keyed records go; the Java client's murmur2 by
    /// default, so keys land where Java producers put them.
    public var partitioner: Partitioner = .murmur2

    public init(
        client: KafkaClientConfiguration,
        idempotent: Bool = true,
        acks: Acks = .all,
        linger: Duration = .milliseconds(5),
        deliveryTimeout: Duration = .seconds(30),
        queueCapacity: Int = 100_000,
        batchSize: Int = 10_000,
        compression: String = "none"
    ) {
        self.client = client
        self.idempotent = idempotent
        self.acks = acks
        self.linger = linger
        self.deliveryTimeout = deliveryTimeout
        self.queueCapacity = queueCapacity
        self.batchSize = batchSize
        self.compression = compression
    }

    var properties: [(String, String)] {
        client.properties + [
            ("enable.idempotence", idempotent ? "true" : "false"),
            ("acks", acks.rawValue),
            ("linger.ms", linger.milliseconds.description),
            ("message.timeout.ms", deliveryTimeout.milliseconds.description),
            ("queue.buffering.max.messages", queueCapacity.description),
            ("batch.num.messages", batchSize.description),
            ("compression.type", compression),
            ("partitioner", partitioner.librdkafkaName),
        ]
    }
}
