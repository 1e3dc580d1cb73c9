import ShoalKafka

/// The topics that feed one entity type, which one shard per partition
/// number reads: partition N of each of them holds the same keys (same
/// partition count, same key → same partition number), so a key's events
/// from all of them meet in one mailbox and one partition file.
///
/// The first topic declared for the entity type leads: the node subscribes
/// to it alone and takes partition N of the others with its partition N
/// (so the group's assignor cannot split them), and the shard, its file
/// and its changelog records are named after it.
struct CoPartitioning: Sendable, Hashable {
    /// Every group's topics, lead first, by lead.
    let groups: [String: [String]]
    /// The lead of each topic.
    let leads: [String: String]

    init(groups: [String: [String]]) {
        self.groups = groups
        var leads: [String: String] = [:]
        for (lead, topics) in groups {
            for topic in topics { leads[topic] = lead }
        }
        self.leads = leads
    }

    /// These groups with each lead's repartition topic (where misplaced
    /// records are forwarded to their key's shard) among its followers.
    func adding(repartitionTopics: [String: String]) -> CoPartitioning {
        var groups = self.groups
        for (lead, topic) in repartitionTopics where groups[lead] != nil {
            groups[lead]?.append(topic)
        }
        return CoPartitioning(groups: groups)
    }

    /// The topics a node subscribes to: the leads.
    var subscribed: [String] { groups.keys.sorted() }

    /// The topics assigned with each lead's partitions (for the consumer).
    var followers: [String: [String]] {
        groups.compactMapValues { topics in topics.count > 1 ? Array(topics.dropFirst()) : nil }
    }

    /// The shard's partition (its lead topic's) that `partition` feeds.
    func shard(of partition: TopicPartition) -> TopicPartition {
        TopicPartition(leads[partition.topic] ?? partition.topic, partition.partition)
    }

    /// Every partition that feeds the shard of `lead`, lead first.
    func inputs(of lead: TopicPartition) -> [TopicPartition] {
        (groups[lead.topic] ?? [lead.topic]).map { TopicPartition($0, lead.partition) }
    }

    /// Whether the shard of `lead` reads several topics.
    func isShared(_ lead: String) -> Bool { (groups[lead]?.count ?? 1) > 1 }

    /// Checks that each group's topics have one partition count.
    /// - Parameter counts: partition counts by topic, from the cluster.
    /// - Throws: ``ShoalError`` with code `configuration`, naming the
    ///   topics and their counts.
    func check(partitionCounts counts: [String: Int]) throws {
        for lead in groups.keys.sorted() {
            let topics = groups[lead] ?? []
            let found = topics.compactMap { topic in counts[topic].map { (topic, $0) } }
            guard Set(found.map(\.1)).count > 1 else { continue }
            let listed = found.map { "\($0.0) (\($0.1) partitions)" }.joined(separator: ", ")
            throw ShoalError(
                code: .configuration,
                reason: "the topics \(listed) feed one entity type and must have the same partition count (co-partitioned: the same key in the same partition number)"
            )
        }
    }
}
