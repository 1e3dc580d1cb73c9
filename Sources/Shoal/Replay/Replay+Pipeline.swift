import ShoalKafka

extension Replay {
    /// Replays `events`, then, as a node's next stage would read them, the
    /// outputs that went to topics with routes of their own (an entity that
    /// regroups a stream by another key), stage after stage until no such
    /// outputs remain. The result holds every stage's outputs, states,
    /// timers and failures, stage after stage.
    ///
    /// A stage's outputs become events in their order, each on the
    /// partition the producer's key partitioner gives it (topics the
    /// application does not declare have one partition), numbered from 0
    /// per partition. Each stage's entities start fresh, so a topology
    /// whose outputs lead back to an entity type of an earlier stage is
    /// refused rather than replayed differently from a node.
    /// - Throws: ``ShoalError`` (code `journal`) for such a loop, or after
    ///   `maximumStages` stages.
    public func runPipeline(
        _ events: [ReplayEvent], transitions: Bool = true, maximumStages: Int = 8,
        progress: (@Sendable (Int) -> Void)? = nil
    ) async throws -> ReplayResult {
        var result = try await run(events, transitions: transitions, progress: progress)
        let journalTypes = Set(events.compactMap { entityType(ofTopic: $0.topic) })
        var seenTypes = journalTypes
        var stage = result
        for _ in 1..<max(1, maximumStages) {
            let next = eventsFollowing(stage.outputs)
            guard !next.isEmpty else { return result }
            let types = Set(next.compactMap { entityType(ofTopic: $0.topic) })
            if let again = types.intersection(seenTypes).sorted().first {
                throw refusal(again, fedBy: stage.outputs, journalTypes: journalTypes)
            }
            seenTypes.formUnion(types)
            stage = try await run(next, transitions: transitions)
            result.append(stage)
        }
        guard eventsFollowing(stage.outputs).isEmpty else {
            throw ShoalError(code: .journal, reason: "outputs still lead to routed topics after \(maximumStages) stages")
        }
        return result
    }

    /// Why a pipeline cannot go on to entity type `again`: its own outputs
    /// (or a later stage's) lead back to it, or the journal already held
    /// the events that stage would read (a node's recording of every stage).
    private func refusal(_ again: String, fedBy outputs: [ReplayResult.Output], journalTypes: Set<String>) -> ShoalError {
        let feeding = outputs.filter { entityType(ofTopic: $0.topic) == again }
        let producers = Set(feeding.compactMap { entityType(ofTopic: $0.source.source.topic) })
        let topics = Set(feeding.map(\.topic)).sorted().joined(separator: ", ")
        guard journalTypes.contains(again), !producers.contains(again) else {
            return ShoalError(code: .journal, reason: "outputs lead back to entity type \(again) of an earlier stage; replay the stages one by one")
        }
        return ShoalError(code: .journal, reason: """
            the journal already holds events of \(topics), which the outputs of \(producers.sorted().joined(separator: ", ")) feed: \
            give the pipeline only the first stage's events, or replay the journal as it is with run(_:)
            """)
    }

    /// The outputs that go to routed topics, as the events a node would
    /// read: each with the timestamp its output carries (its source
    /// event's, or a timer's due time), as a node's outputs carry it.
    func eventsFollowing(_ outputs: [ReplayResult.Output]) -> [ReplayEvent] {
        var numbering = PartitionNumbering()
        return outputs.compactMap { output in
            guard entityType(ofTopic: output.topic) != nil, let key = output.key else { return nil }
            var event = numbering.event(topic: output.topic, key: key, value: output.value, partitions: partitionCount(of: output.topic))
            event.timestamp = output.timestamp
            return event
        }
    }

    /// A load generator's records as the events a node would read from
    /// Kafka: each on the partition the producer's key partitioner gives
    /// it, numbered from 0 per partition, in the order produced.
    public func events(of records: some Sequence<LoadRecord>) -> [ReplayEvent] {
        var numbering = PartitionNumbering()
        return records.map { record in
            numbering.event(topic: record.topic, key: record.key, value: Array(record.value.utf8), partitions: partitionCount(of: record.topic))
        }
    }
}

/// Places records on partitions as a producer would and numbers them.
private struct PartitionNumbering {
    var nextOffset: [TopicPartition: Int64] = [:]

    mutating func event(topic: String, key: String, value: [UInt8], partitions: Int32) -> ReplayEvent {
        let partition = TopicPartition(topic, Murmur2Partitioner.partition(for: key, partitionCount: partitions))
        let offset = nextOffset[partition, default: 0]
        nextOffset[partition] = offset + 1
        return ReplayEvent(topic: topic, partition: partition.partition, offset: offset, key: key, value: value)
    }
}

extension ReplayResult {
    /// Adds a later stage's result after this one's.
    mutating func append(_ stage: ReplayResult) {
        outputs += stage.outputs
        transitions += stage.transitions
        failures += stage.failures
        lateEvents += stage.lateEvents
        firedTimers += stage.firedTimers
        applied += stage.applied
        states.merge(stage.states) { _, later in later }
        pendingTimers.merge(stage.pendingTimers) { _, later in later }
    }
}
