/// The runtime's hooks into a consumer group rebalance.
///
/// They run on the consumer's poll thread's behalf *before* librdkafka gives
/// partitions up or starts fetching new ones: the consumer waits for each
/// hook, at most ``KafkaConsumerConfiguration/rebalanceHookTimeout``.
public protocol KafkaRebalanceListener: Sendable {
    /// Partitions were assigned to this member. Return where each starts;
    /// partitions left out start at the group's committed offset.
    func partitionsAssigned(_ partitions: [TopicPartition]) async -> [TopicPartition: KafkaStartOffset]

    /// Partitions are about to be revoked: flush and checkpoint them now.
    /// No other member reads them before this returns (or times out).
    /// Records of these partitions not yet handed out are discarded.
    func partitionsRevoked(_ partitions: [TopicPartition]) async

    /// Partitions were lost (this member was evicted): another member may
    /// already own them, so do not commit for them.
    func partitionsLost(_ partitions: [TopicPartition]) async
}

extension KafkaRebalanceListener {
    public func partitionsAssigned(_ partitions: [TopicPartition]) async -> [TopicPartition: KafkaStartOffset] {
        [:]
    }

    public func partitionsRevoked(_ partitions: [TopicPartition]) async {}

    public func partitionsLost(_ partitions: [TopicPartition]) async {
        await partitionsRevoked(partitions)
    }
}

/// A listener that does nothing: partitions start at committed offsets.
public struct NoRebalanceHooks: KafkaRebalanceListener {
    public init() {}
}
