/// A partition of a topic: the unit a consumer group assigns and a shard owns.
public struct TopicPartition: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The topic's name.
    public var topic: String
    /// The partition's index within the topic, from zero.
    public var partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)-\(partition)" }

    public static func < (lhs: TopicPartition, rhs: TopicPartition) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }
}

/// Where a consumer starts reading a newly assigned partition.
public enum KafkaStartOffset: Sendable, Hashable {
    /// This exact offset: the next record to read. The runtime passes the
    /// offset after the last one its own store applied.
    case offset(Int64)
    /// The oldest record the broker still holds.
    case beginning
    /// Only records produced from now on.
    case end
    /// The group's committed offset, or the configured reset policy when
    /// the group has committed none.
    case committed
}
