import ShoalKafka

/// What a node does with a record found in a partition other than the one
/// its entity key belongs in (produced without a key, keyed by something
/// else than the entity key, or by a producer with another partitioner).
/// An entity is never split over two partitions: such a record goes to the
/// key's own shard, or to the dead-letter topic.
public enum MisplacedRecords: Sendable, Hashable {
    /// Forward it, effectively once, through the entity type's repartition
    /// topic (``ShoalNodeConfiguration/repartitionTopic(group:lead:)``) to
    /// the shard of its key's partition. The default.
    case repartition
    /// Send it to the dead-letter topic with the reason: the key, the
    /// partition it belongs in and the one it was found in.
    case deadLetter
}

/// How a topic's records are placed in its partitions, and what a node
/// does with one that is not where its entity key belongs.
public struct TopicPlacement: Sendable, Hashable {
    /// The partitioner that gives a key its partition: the one the topic's
    /// producers use.
    public var partitioner: Partitioner
    /// What happens to a record in another partition than its key's.
    public var misplaced: MisplacedRecords

    /// A topic placed by `partitioner` (murmur2 by default) whose misplaced
    /// records are `misplaced` (repartitioned by default).
    public init(partitioner: Partitioner = .murmur2, misplaced: MisplacedRecords = .repartition) {
        self.partitioner = partitioner
        self.misplaced = misplaced
    }
}

extension Topology {
    /// Declares how `topic`'s producers place its records (`partitioner`,
    /// murmur2 by default as the Java client does; `.consistentRandom` for
    /// librdkafka's default) and what a node does with a record found in
    /// another partition than its entity key's. Topics that feed one entity
    /// type must share a partitioner.
    ///
    /// ```swift
    /// topology.partitioning(of: "payments", by: .consistentRandom, misplaced: .deadLetter)
    /// ```
    public mutating func partitioning(of topic: String, by partitioner: Partitioner = .murmur2, misplaced: MisplacedRecords = .repartition) {
        placements[topic] = TopicPlacement(partitioner: partitioner, misplaced: misplaced)
    }

    /// How `topic`'s records are placed (the default when undeclared).
    public func placement(of topic: String) -> TopicPlacement {
        placements[topic] ?? TopicPlacement()
    }

    /// Checks that the topics of each entity type share a partitioner: a
    /// key has one partition number for all of them.
    /// - Throws: ``ShoalError`` with code `configuration`, naming them.
    func checkPartitioners() throws {
        if let stray = placements.keys.filter({ routes[$0] == nil }).sorted().first {
            throw ShoalError(code: .configuration, reason: "partitioning(of: \"\(stray)\") names a topic no route reads")
        }
        let coPartitioning = coPartitioning
        for lead in coPartitioning.subscribed {
            let topics = coPartitioning.groups[lead] ?? []
            guard Set(topics.map { placement(of: $0).partitioner }).count > 1 else { continue }
            let listed = topics.map { "\($0) (\(placement(of: $0).partitioner))" }.joined(separator: ", ")
            throw ShoalError(
                code: .configuration,
                reason: "the topics \(listed) feed one entity type and must share a partitioner: declare the same with partitioning(of:by:)"
            )
        }
    }
}
