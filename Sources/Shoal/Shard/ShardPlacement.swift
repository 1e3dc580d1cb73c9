import ShoalKafka

/// Where each input topic's keys belong, so that a shard can tell a record
/// in its key's partition from a misplaced one (see ``MisplacedRecords``),
/// and where it forwards the misplaced ones.
struct ShardPlacement: Sendable {
    /// One input topic's rule.
    struct Rule: Sendable {
        var partitioner: Partitioner
        var partitionCount: Int32
        var misplaced: MisplacedRecords
        /// The repartition topic of the topic's entity type, when the
        /// cluster has it.
        var repartitionTopic: String?
        /// Why the repartition topic cannot be used, naming it, when it
        /// cannot (for the reason of a dead letter).
        var repartitionProblem: String?
    }

    /// Rules by input topic (topics of unknown partition count have none:
    /// nothing is checked for them).
    let rules: [String: Rule]
    /// The repartition topics this node reads, by the lead topic they feed.
    let repartitionTopics: [String: String]
    /// Lead topic by repartition topic.
    let leadOfRepartition: [String: String]

    /// No checks (for shards built without a cluster, in tests).
    static let unchecked = ShardPlacement(rules: [:], repartitionTopics: [:])

    init(rules: [String: Rule], repartitionTopics: [String: String]) {
        self.rules = rules
        self.repartitionTopics = repartitionTopics
        leadOfRepartition = Dictionary(uniqueKeysWithValues: repartitionTopics.map { ($0.value, $0.key) })
    }

    /// The placement of `topology`'s topics in a cluster with `counts`
    /// partitions by topic, forwarding through the repartition topics of
    /// `group` that exist there.
    init(topology: Topology, group: String, counts: [String: Int]) {
        let coPartitioning = topology.coPartitioning
        var rules: [String: Rule] = [:]
        var repartitionTopics: [String: String] = [:]
        for lead in coPartitioning.subscribed {
            let topics = coPartitioning.groups[lead] ?? []
            let repartition = ShoalNodeConfiguration.repartitionTopic(group: group, lead: lead)
            let problem: String? = switch (counts[repartition], counts[lead]) {
            case (nil, let wanted): "the repartition topic \(repartition) does not exist (create it with \(wanted.map(String.init) ?? "as many") partitions)"
            case (let found?, let wanted?) where found != wanted: "the repartition topic \(repartition) has \(found) partitions, not \(wanted)"
            default: nil
            }
            // Read only where some topic forwards: a follower makes the shard number its records by position.
            let forwards = topics.contains { topology.placement(of: $0).misplaced == .repartition }
            if problem == nil, forwards { repartitionTopics[lead] = repartition }
            for topic in topics {
                guard let count = counts[topic], count > 0 else { continue }
                let placement = topology.placement(of: topic)
                rules[topic] = Rule(
                    partitioner: placement.partitioner, partitionCount: Int32(count), misplaced: placement.misplaced,
                    repartitionTopic: problem == nil ? repartition : nil, repartitionProblem: problem
                )
            }
        }
        self.init(rules: rules, repartitionTopics: repartitionTopics)
    }

    /// Why the repartition topics that `.repartition` rules need cannot be
    /// used, one line each.
    var repartitionProblems: [String] {
        Set(rules.values.filter { $0.misplaced == .repartition }.compactMap(\.repartitionProblem)).sorted()
    }
}

/// Where a forwarded record was first read: the `shoal-origin` header,
/// `topic/partition/offset`.
enum RecordOrigin {
    static let header = "shoal-origin"

    static func encode(_ record: KafkaRecord) -> String {
        "\(record.topic)/\(record.partition)/\(record.offset)"
    }

    /// The origin a forwarded record's header names, nil when it names none.
    static func decode(_ record: KafkaRecord) -> SourceOffset? {
        guard let text = record.headers.string(for: header) else { return nil }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 3, let partition = Int32(parts[parts.count - 2]), let offset = Int64(parts[parts.count - 1]) else { return nil }
        return SourceOffset(topic: parts.dropLast(2).joined(separator: "/"), offset: offset, partition: partition)
    }
}
