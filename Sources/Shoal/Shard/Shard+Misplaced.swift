import ShoalKafka

/// A record decoded for its shard, or why it is not applied there.
enum PreparedRecord: Sendable {
    /// An event for the key's entity; `origin` is where a record forwarded
    /// through the repartition topic was first read.
    case event(Route, key: String, event: any Sendable, time: EventTime?, origin: SourceOffset?)
    /// Not applicable: to the dead-letter topic with the reason.
    case failed(String)
    /// In another partition than its key's: forwarded to `partition` of
    /// `topic`, or dead-lettered with the reason when `topic` is nil.
    case misplaced(topic: String?, partition: Int32, reason: String)
}

/// What a shard applies to one topic's records: its route and placement
/// rule, or for a repartition topic, that its records name their origin.
struct TopicIntake: Sendable {
    let topic: String
    let route: Route?
    let rule: ShardPlacement.Rule?
    let isRepartition: Bool
}

extension Shard {
    /// How the shard takes `topic`'s records.
    func intake(of topic: String) -> TopicIntake {
        let placement = services.placement
        return TopicIntake(
            topic: topic, route: services.routes[topic], rule: placement.rules[topic],
            isRepartition: placement.leadOfRepartition[topic] != nil
        )
    }

    /// Each record prepared (see ``prepare(_:as:)``); the topic's intake
    /// looked up once per run of records of one topic (a batch is usually
    /// one partition's: three lookups per record cost 5% of a node's rate).
    func prepare(_ records: [KafkaRecord]) -> [(KafkaRecord, PreparedRecord)] {
        var intake: TopicIntake?
        return records.map { record in
            if intake?.topic != record.topic { intake = self.intake(of: record.topic) }
            return (record, prepare(record, as: intake!))
        }
    }

    /// Decodes `record` with its topic's route (a forwarded record with its
    /// origin's) and checks that it is in its entity key's partition.
    func prepare(_ record: KafkaRecord, as intake: TopicIntake) -> PreparedRecord {
        var intake = intake
        var origin: SourceOffset?
        if intake.isRepartition {
            guard let found = RecordOrigin.decode(record) else {
                return .failed("a record in the repartition topic \(record.topic) without a valid \(RecordOrigin.header) header")
            }
            origin = found
            intake = self.intake(of: found.topic)
            // Only a topic of the entity type this repartition topic feeds.
            guard services.coPartitioning.shard(of: TopicPartition(found.topic, record.partition)) == partition else {
                return .failed("a record in the repartition topic \(record.topic) names \(found.topic), which does not feed \(partition.topic)'s entity type")
            }
        }
        guard let route = intake.route else {
            return .failed("no route for topic \(intake.topic)")
        }
        let decoded: Route.Decoded
        do {
            decoded = try route.decode(record.value, record.timestamp) { record.keyString }
        } catch let error as ShoalError {
            return .failed(error.reason)
        } catch {
            return .failed("\(error)")
        }
        if let rule = intake.rule {
            let belongs = rule.partitioner.partition(for: decoded.key, partitionCount: rule.partitionCount)
            if belongs != record.partition {
                return misplaced(record, key: decoded.key, topic: intake.topic, belongs: belongs, rule: rule, forwarded: origin != nil)
            }
        }
        return .event(route, key: decoded.key, event: decoded.event, time: decoded.time, origin: origin)
    }

    private func misplaced(
        _ record: KafkaRecord, key: String, topic: String, belongs: Int32, rule: ShardPlacement.Rule, forwarded: Bool
    ) -> PreparedRecord {
        let found = "the entity key \(key) belongs in partition \(belongs) of \(topic) (\(rule.partitioner) partitioner), the record was in partition \(record.partition)"
        if forwarded {
            return .failed("\(found) of the repartition topic \(record.topic) (its partitions no longer match?)")
        }
        switch (rule.misplaced, rule.repartitionTopic) {
        case (.deadLetter, _):
            return .misplaced(topic: nil, partition: belongs, reason: "misplaced: \(found)")
        case (.repartition, let repartition?):
            return .misplaced(topic: repartition, partition: belongs, reason: found)
        case (.repartition, nil):
            return .misplaced(
                topic: nil, partition: belongs,
                reason: "misplaced: \(found); it cannot be forwarded: \(rule.repartitionProblem ?? "no repartition topic") (`APP topics --group` lists it)"
            )
        }
    }

    /// The message that forwards misplaced `record` (as read) to `partition`
    /// of `topic`: the record as it was, with its origin in a header.
    static func forward(_ record: KafkaRecord, to topic: String, partition: Int32, at position: Int64) -> OutboxEntry {
        var headers = record.headers.filter { $0.key != OutputID.header && $0.key != RecordOrigin.header }
        headers.append(KafkaHeader(key: RecordOrigin.header, string: RecordOrigin.encode(record)))
        return OutboxEntry(
            sourceOffset: position, position: 0, topic: topic, key: record.key?.array, value: record.value?.array,
            headers: OutboxEntry.encode(headers: headers), timestamp: record.timestamp?.milliseconds, partition: partition
        )
    }
}
