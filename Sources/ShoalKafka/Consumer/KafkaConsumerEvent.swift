/// Something that happened to a consumer besides records arriving.
public enum KafkaConsumerEvent: Sendable, Hashable {
    /// Partitions were assigned, with the offsets they start from.
    case assigned([TopicPartition: Int64])
    /// Partitions were revoked after the runtime's hook ran.
    case revoked([TopicPartition])
    /// Partitions were lost without a clean hand-off.
    case lost([TopicPartition])
    /// A fetch offset fell off the log: the broker deleted it before it was
    /// read. `offset` is the one requested; the configured policy was applied.
    case offsetOutOfRange(TopicPartition, offset: Int64)
    /// A rebalance hook did not finish within its bounded wait.
    case rebalanceHookTimedOut([TopicPartition])
    /// librdkafka reported an error.
    case error(KafkaError)
}
