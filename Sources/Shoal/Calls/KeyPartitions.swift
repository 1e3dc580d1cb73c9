import ShoalKafka
import Synchronization

/// Where a call finds its key's partition, as a node and a client both do:
/// the entity type's lead topic, by that topic's partitioner, with the
/// topic's partition count (asked of the cluster once, then kept).
final class KeyPartitions: Sendable {
    let topology: Topology
    /// The code of the error when the lead topic is not in the cluster's
    /// metadata: `notOwned` (tried again) on a node, `configuration` on a client.
    let missingTopic: ShoalError.Code
    let metadata: @Sendable () async throws -> [String: Int]
    private let counts = Mutex<[String: Int32]>([:])

    init(topology: Topology, missingTopic: ShoalError.Code, metadata: @escaping @Sendable () async throws -> [String: Int]) {
        self.topology = topology
        self.missingTopic = missingTopic
        self.metadata = metadata
    }

    func partition(of id: EntityID) async throws -> TopicPartition {
        guard let route = topology.route(toEntity: id.type) else {
            throw ShoalError(code: .invocation, reason: "no route leads to entity type \(id.type)")
        }
        var count = counts.withLock { $0[route.topic] }
        if count == nil {
            let known = try await metadata().mapValues { Int32($0) }
            counts.withLock { $0.merge(known) { $1 } }
            count = known[route.topic]
        }
        guard let count else {
            throw ShoalError(code: missingTopic, reason: "the topic \(route.topic) of entity type \(id.type) is unknown to the cluster")
        }
        let partitioner = topology.placement(of: route.topic).partitioner
        return TopicPartition(route.topic, partitioner.partition(for: id.key, partitionCount: count))
    }
}
