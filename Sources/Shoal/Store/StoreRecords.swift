/// One applied record, as the journal keeps it.
package struct JournalEntry: Sendable, Hashable {
    package var offset: Int64
    package var entity: String
    package var key: String
    /// The record's value, as it came from Kafka.
    package var event: [UInt8]?
    /// Event time in milliseconds since the epoch, when known.
    package var eventTime: Int64?
    /// In a shard fed by several topics (see ``ShardSources``), the topic
    /// the record came from and its offset there; `offset` is then the
    /// record's position in the shard's order. Nil in a shard of one topic,
    /// where `offset` is the record's own.
    package var source: SourceOffset?

    /// The table lookups the record's handler made, with what they found.
    package var reads: [TableRead]

    package init(
        offset: Int64, entity: String, key: String, event: [UInt8]?, eventTime: Int64?, source: SourceOffset? = nil, reads: [TableRead] = []
    ) {
        self.reads = reads
        self.offset = offset
        self.source = source
        self.entity = entity
        self.key = key
        self.event = event
        self.eventTime = eventTime
    }
}

/// A distributed call that changed its entity's state (or emitted, or set
/// timers), as the journal keeps it: a replay runs it again right after
/// the record at `afterOffset` (-1: before any), in the order calls were
/// journaled.
package struct JournaledCall: Sendable, Hashable {
    /// The offset (in a shard fed by several topics, the position) of the
    /// last record the shard took in before the call; -1 when none.
    package var afterOffset: Int64
    package var entity: String
    package var key: String
    /// The call as it travels between nodes (target, arguments, call id).
    package var call: [UInt8]

    package init(afterOffset: Int64, entity: String, key: String, call: [UInt8]) {
        self.afterOffset = afterOffset
        self.entity = entity
        self.key = key
        self.call = call
    }
}

/// An entity's encoded state, with the version of its state type, the
/// offset of the last record it reflects and the timers fired since.
package struct Snapshot: Sendable, Hashable {
    package var entity: String
    package var key: String
    package var version: Int64
    package var offset: Int64
    package var state: [UInt8]
    /// Timer firings the state reflects since the record at `offset`.
    package var firings: Int64
    /// In a shard fed by several topics, the offset of the last record of
    /// each topic the state reflects: after a restart, a record read again
    /// is skipped by it (positions are not reassigned alike). Empty in a
    /// shard of one topic, where `offset` says it.
    package var sources: [String: Int64]
    /// The latest calls that changed the state, with their outcomes, oldest
    /// first: a retried call is answered from here, not applied again.
    package var calls: [RecentCall]

    package init(
        entity: String, key: String, version: Int64, offset: Int64, state: [UInt8], firings: Int64 = 0, sources: [String: Int64] = [:],
        calls: [RecentCall] = []
    ) {
        self.sources = sources
        self.calls = calls
        self.entity = entity
        self.key = key
        self.version = version
        self.offset = offset
        self.state = state
        self.firings = firings
    }
}

/// An entity's pending timers, as a commit replaces them.
package struct StoredTimers: Sendable, Hashable {
    package var entity: String
    package var key: String
    package var timers: [EntityTimer]

    package init(entity: String, key: String, timers: [EntityTimer]) {
        self.entity = entity
        self.key = key
        self.timers = timers
    }
}

/// An output a handler emitted, kept until the producer delivered it.
package struct OutboxEntry: Sendable, Hashable {
    /// The row's id, assigned by the store (nil before it is written).
    package var id: Int64?
    /// The source record's offset and the output's position among its outputs.
    package var sourceOffset: Int64
    package var position: Int64
    package var topic: String
    package var key: [UInt8]?
    package var value: [UInt8]?
    /// Headers besides the output's id, encoded by ``OutboxEntry/encode(headers:)``.
    package var headers: [UInt8]?
    /// The partition, when the output names one (nil: the producer's key
    /// partitioner chooses).
    package var partition: Int32?
    /// The source record's timestamp (ms), which the output carries as its
    /// own, as Kafka Streams does: a later stage's event time and the
    /// end-to-end latency both start at the original record. A timer's
    /// outputs carry the time it was due; nil when the source has no
    /// timestamp (the producer stamps it when it publishes).
    package var timestamp: Int64?
    /// The entity that emitted it, so that erasing the entity finds it;
    /// nil for outputs restored from a changelog, which does not carry it.
    package var entity: EntityID?

    package init(
        id: Int64? = nil, sourceOffset: Int64, position: Int64, topic: String,
        key: [UInt8]?, value: [UInt8]?, headers: [UInt8]?, timestamp: Int64? = nil, partition: Int32? = nil, entity: EntityID? = nil
    ) {
        self.entity = entity
        self.partition = partition
        self.timestamp = timestamp
        self.id = id
        self.sourceOffset = sourceOffset
        self.position = position
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
    }
}

/// What one commit writes, in one transaction: the journal rows of the
/// records applied since the last commit, the snapshots taken, the outputs
/// emitted, and the next offset to read.
package struct StoreCommit: Sendable {
    package var journal: [JournalEntry] = []
    /// The state-changing calls run since the last commit, in order.
    package var calls: [JournaledCall] = []
    package var snapshots: [Snapshot] = []
    package var outputs: [OutboxEntry] = []
    /// Entities whose pending timers changed, each with all of them now.
    package var timers: [StoredTimers] = []
    /// Entities whose state expired: their snapshots are deleted.
    package var expired: [EntityID] = []
    /// The largest event time of the records before `nextOffset` (the
    /// partition's clock), when any had one.
    package var maxEventTime: EventTime?
    /// The next offset to consume after this commit (in a shard fed by
    /// several topics, the next position in its order).
    package var nextOffset: Int64
    /// In a shard fed by several topics, each topic's next offset to
    /// consume after this commit; empty otherwise.
    package var topicOffsets: [String: Int64] = [:]
    /// Set when `snapshots` hold every entity changed before `nextOffset`:
    /// recovery then replays the journal from here only.
    package var snapshotsComplete = false
    /// How far earlier commits reached the changelog, when the owner
    /// learnt of a newer delivery (see ``StoreReplication``).
    package var replicated: ChangelogPosition?
    /// Outbox ids the broker acknowledged since the last commit: marked
    /// sent in the same transaction (one per commit, not two).
    package var delivered: [Int64] = []
    /// Entities erased (see ``Erasure``): their rows go before anything
    /// else of the commit is written.
    package var erased: [Erasure] = []
    /// Whether the commit purges the file and the changelog after it (an
    /// erase, or a scrub of an erased entity's references).
    package var purge = false

    package init(nextOffset: Int64) {
        self.nextOffset = nextOffset
    }
}

/// Where a partition stands in its file.
package struct StoreProgress: Sendable, Hashable {
    /// The next offset to consume.
    package var nextOffset: Int64
    /// Journal rows at or after this offset are not in the snapshots yet.
    package var snapshotOffset: Int64
    /// The partition clock's largest event time at `nextOffset`.
    package var maxEventTime: EventTime?
    /// In a shard fed by several topics, each topic's next offset.
    package var topicOffsets: [String: Int64] = [:]
}

/// A record's topic and offset, where a shard fed by several topics keeps
/// its own order of records apart from their offsets.
package struct SourceOffset: Sendable, Hashable {
    package var topic: String
    package var offset: Int64
    /// The partition, for a record forwarded from another partition than
    /// its shard's (see ``MisplacedRecords``); nil for the shard's own.
    package var partition: Int32?

    package init(topic: String, offset: Int64, partition: Int32? = nil) {
        self.topic = topic
        self.offset = offset
        self.partition = partition
    }

    /// What an entity's snapshot remembers the offset of: its topic, or
    /// for forwarded records their topic and partition (`topic@partition`;
    /// `@` cannot be part of a topic's name).
    package var stream: String {
        partition.map { "\(topic)@\($0)" } ?? topic
    }
}

/// A call that changed an entity's state: its id and its encoded outcome.
package struct RecentCall: Sendable, Hashable {
    package var id: String
    package var outcome: [UInt8]

    /// How many an entity keeps: a retry older than that many later calls
    /// of the same key would be applied again.
    static let kept = 64

    static func encode(_ calls: [RecentCall]) -> [UInt8]? {
        guard !calls.isEmpty else { return nil }
        var writer = ChangelogWriter()
        write(calls, to: &writer)
        return writer.bytes
    }

    static func write(_ calls: [RecentCall], to writer: inout ChangelogWriter) {
        writer.int64(Int64(calls.count))
        for call in calls {
            writer.string(call.id)
            writer.data(call.outcome)
        }
    }

    /// Nil when the bytes do not decode.
    static func decode(_ bytes: [UInt8]) -> [RecentCall]? {
        bytes.withUnsafeBytes { raw in
            var reader = ChangelogReader(raw)
            return try? read(from: &reader)
        }
    }

    static func read(from reader: inout ChangelogReader) throws(ChangelogReader.Truncated) -> [RecentCall] {
        let count = try reader.int64()
        guard (0...Int64(kept * 4)).contains(count) else { throw ChangelogReader.Truncated() }
        var calls: [RecentCall] = []
        for _ in 0..<count {
            calls.append(RecentCall(id: try reader.string(), outcome: try reader.data()))
        }
        return calls
    }
}
