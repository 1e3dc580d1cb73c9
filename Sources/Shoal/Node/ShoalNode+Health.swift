import ShoalKafka

/// What a node's health check reports.
public struct NodeHealth: Sendable, Hashable, CustomStringConvertible {
    /// Whether the node runs (it joined its group and has not stopped).
    public var running: Bool
    public var ownedPartitions: [TopicPartition]
    /// Partitions whose file refuses commits.
    public var faultedPartitions: [TopicPartition]
    /// Partitions whose state could not be restored (paused, not processed).
    public var unrestorablePartitions: [TopicPartition] = []

    /// Running with no faulted or unrestorable partition.
    public var isHealthy: Bool { running && faultedPartitions.isEmpty && unrestorablePartitions.isEmpty }

    /// One JSON object.
    public var description: String {
        let owned = ownedPartitions.map { "\"\($0)\"" }.joined(separator: ",")
        let faulted = faultedPartitions.map { "\"\($0)\"" }.joined(separator: ",")
        let unrestorable = unrestorablePartitions.map { "\"\($0)\"" }.joined(separator: ",")
        return "{\"status\":\"\(isHealthy ? "ok" : "unhealthy")\",\"running\":\(running),\"ownedPartitions\":[\(owned)],\"faultedPartitions\":[\(faulted)],\"unrestorablePartitions\":[\(unrestorable)]}"
    }
}

extension ShoalNode {
    /// The node's health now.
    public var health: NodeHealth {
        NodeHealth(
            running: state.withLock { $0.running }, ownedPartitions: ownedPartitions, faultedPartitions: faultedPartitions,
            unrestorablePartitions: unrestorablePartitions.keys.sorted()
        )
    }
}
