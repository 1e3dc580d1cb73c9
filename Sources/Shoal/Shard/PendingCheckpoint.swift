import ShoalKafka

/// What a shard applied since its last commit: the journal rows, outputs
/// and latest snapshots its next commit writes, in one transaction.
struct PendingCheckpoint: Sendable {
    var journal: [JournalEntry] = []
    var outputs: [OutboxEntry] = []
    var snapshots: [EntityID: Snapshot] = [:]

    var isEmpty: Bool { journal.isEmpty && outputs.isEmpty && snapshots.isEmpty }

    /// Adds one applied record: its journal row, its outputs in order, and
    /// its entity's state after it.
    mutating func add(_ record: KafkaRecord, to id: EntityID, outputs emitted: [KafkaProducerMessage], snapshot: Snapshot) {
        journal.append(JournalEntry(
            offset: record.offset, entity: id.type, key: id.key,
            event: record.value?.array, eventTime: record.timestamp?.milliseconds
        ))
        for (position, output) in emitted.enumerated() {
            outputs.append(OutboxEntry(
                sourceOffset: record.offset, position: Int64(position), topic: output.topic,
                key: output.key, value: output.value, headers: nil
            ))
        }
        snapshots[id] = snapshot
    }

    /// Puts back a commit that failed, ahead of what was applied since.
    mutating func restore(_ failed: PendingCheckpoint) {
        journal = failed.journal + journal
        outputs = failed.outputs + outputs
        snapshots = failed.snapshots.merging(snapshots) { _, newer in newer }
    }
}
