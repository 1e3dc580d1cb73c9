import ShoalKafka

/// What a shard applied since its last commit: the journal rows, outputs
/// and latest snapshots its next commit writes, in one transaction.
struct PendingCheckpoint: Sendable {
    var journal: [JournalEntry] = []
    /// State-changing calls, in the order they ran.
    var calls: [JournaledCall] = []
    var outputs: [OutboxEntry] = []
    var snapshots: [EntityID: Snapshot] = [:]
    /// Entities whose timers changed, with all their pending timers.
    var timers: [EntityID: [EntityTimer]] = [:]
    /// The partition clock at the commit's next offset (set when taken).
    var maxEventTime: EventTime?
    /// Entities whose state expired (their snapshot rows go), with the
    /// offset of their last record.
    var expired: [EntityID: Int64] = [:]
    /// In a shard fed by several topics, each topic's next offset at the
    /// commit's position (set when taken).
    var topicOffsets: [String: Int64] = [:]

    /// Entities erased since the last commit, in the order erased.
    var erased: [Erasure] = []
    /// An entity scrubbed a reference to an erased one: the commit purges
    /// the file and writes a changelog image after it, as an erase does.
    var purge = false

    var isEmpty: Bool {
        !hasRows && timers.isEmpty && expired.isEmpty
    }

    /// Whether it holds anything besides timers and expiries.
    private var hasRows: Bool {
        !(journal.isEmpty && calls.isEmpty && outputs.isEmpty && snapshots.isEmpty && erased.isEmpty) || purge
    }

    /// Whether a commit whose next offset is `nextOffset` must leave the
    /// expiry of an entity whose last record is at `offset` to a later one.
    private static func defers(_ offset: Int64, before nextOffset: Int64?) -> Bool {
        nextOffset.map { offset >= $0 } ?? true
    }

    /// Whether a commit whose next offset is `nextOffset` would write
    /// anything: the expiries it must defer (see ``deferExpiries(before:)``)
    /// and the timers that go with them count for nothing, so an idle
    /// shard holding one does not commit on every tick.
    func hasWork(before nextOffset: Int64?) -> Bool {
        guard !expired.isEmpty else { return !isEmpty }
        if hasRows { return true }
        // Checked in place, without a copy: this runs under the shard's lock on every tick.
        let committable = { !Self.defers($0, before: nextOffset) }
        return expired.values.contains(where: committable) || timers.keys.contains { expired[$0].map(committable) ?? true }
    }

    /// Adds one applied record: its journal row, its outputs in order, and
    /// its entity's state after it (nil for a held record: the entity's
    /// next record, added in the same lock, brings the state after both).
    mutating func add(
        _ record: KafkaRecord, to id: EntityID, outputs emitted: [KafkaProducerMessage], snapshot: Snapshot?, source: SourceOffset? = nil,
        reads: [TableRead] = []
    ) {
        journal.append(JournalEntry(
            offset: record.offset, entity: id.type, key: id.key,
            event: record.value?.array, eventTime: record.timestamp?.milliseconds, source: source, reads: reads
        ))
        for (position, output) in emitted.enumerated() {
            outputs.append(OutboxEntry(
                sourceOffset: record.offset, position: Int64(position), topic: output.topic,
                key: output.key, value: output.value, headers: output.headers.isEmpty ? nil : OutboxEntry.encode(headers: output.headers),
                timestamp: record.timestamp?.milliseconds, entity: id
            ))
        }
        if let snapshot { snapshots[id] = snapshot }
        if !expired.isEmpty { expired[id] = nil }  // hashed only when something expired
    }

    /// The entity's state expired after its record at `offset`: no
    /// snapshot of it, nor timers, remain.
    mutating func expire(_ id: EntityID, after offset: Int64) {
        snapshots[id] = nil
        timers[id] = []
        expired[id] = offset
    }

    /// Erases the entity: what it applied since the last commit is dropped
    /// (its outputs were never published), its state and timers go, and
    /// the commit deletes its rows from the file. The caller has waited
    /// until a commit may cover the entity's records (see `Shard.erase`),
    /// so the erasure is never deferred like an expiry.
    mutating func erase(_ erasure: Erasure, after offset: Int64) {
        let id = erasure.entity
        journal.removeAll { $0.entity == id.type && $0.key == id.key }
        calls.removeAll { $0.entity == id.type && $0.key == id.key }
        outputs.removeAll { $0.entity == id }
        expire(id, after: offset)
        erased.append(erasure)
    }

    /// Takes out the expiries that must wait: an entity's snapshot is what
    /// makes a redo skip its records, so it is deleted only by a commit
    /// whose next offset is past the entity's last record.
    mutating func deferExpiries(before nextOffset: Int64?) -> PendingCheckpoint {
        var waiting = PendingCheckpoint()
        for (id, offset) in expired where Self.defers(offset, before: nextOffset) {
            waiting.expired[id] = offset
            waiting.timers[id] = timers.removeValue(forKey: id)
            expired[id] = nil
        }
        return waiting
    }

    /// Adds one timer firing: its outputs (numbered after the entity's last
    /// record, see ``EntityDispatch/timerOutputPosition(firing:index:)``,
    /// stamped with the time `timer` was due, as a replay stamps them) and
    /// the entity's state after it.
    mutating func addFiring(of timer: EntityTimer, outputs emitted: [KafkaProducerMessage], snapshot: Snapshot, to id: EntityID) {
        addTurn(outputs: emitted, snapshot: snapshot, to: id, timestamp: timer.due.milliseconds)
    }

    /// Adds a journaled call: its outputs, numbered at the place the journal
    /// gives the call (see ``EntityDispatch/callOutputPosition(callID:index:)``),
    /// and the state after it.
    mutating func addCall(_ callID: String, after place: Int64, outputs emitted: [KafkaProducerMessage], snapshot: Snapshot, to id: EntityID) {
        for (index, output) in emitted.enumerated() {
            outputs.append(OutboxEntry(
                sourceOffset: place, position: EntityDispatch.callOutputPosition(callID: callID, index: index),
                topic: output.topic, key: output.key, value: output.value,
                headers: output.headers.isEmpty ? nil : OutboxEntry.encode(headers: output.headers), timestamp: nil, entity: id
            ))
        }
        snapshots[id] = snapshot
        expired[id] = nil
    }

    /// Adds a timer firing: its outputs, after the entity's last record, and the state.
    private mutating func addTurn(outputs emitted: [KafkaProducerMessage], snapshot: Snapshot, to id: EntityID, timestamp: Int64?) {
        for (index, output) in emitted.enumerated() {
            outputs.append(OutboxEntry(
                sourceOffset: snapshot.offset, position: EntityDispatch.timerOutputPosition(firing: snapshot.firings, index: index),
                topic: output.topic, key: output.key, value: output.value,
                headers: output.headers.isEmpty ? nil : OutboxEntry.encode(headers: output.headers), timestamp: timestamp, entity: id
            ))
        }
        snapshots[id] = snapshot
        expired[id] = nil
    }

    /// Puts back a commit that failed, ahead of what was applied since.
    mutating func restore(_ failed: PendingCheckpoint) {
        journal = failed.journal + journal
        calls = failed.calls + calls
        outputs = failed.outputs + outputs
        snapshots = failed.snapshots.merging(snapshots) { _, newer in newer }
        timers = failed.timers.merging(timers) { _, newer in newer }
        expired = failed.expired.filter { snapshots[$0.key] == nil }.merging(expired) { _, newer in newer }
        erased = failed.erased + erased
        purge = failed.purge || purge
    }
}
