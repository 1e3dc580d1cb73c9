extension PartitionStore {
    /// Writes journal rows, snapshots, outputs and the next offset in one
    /// transaction: all of them or none. Returns the outputs with their ids.
    /// - Throws: ``StoreError`` (`full`, `io`, ...) naming the file; nothing
    ///   of this commit is kept then.
    @discardableResult
    package func commit(_ commit: StoreCommit) throws(StoreError) -> [OutboxEntry] {
        var erased: [ErasureReport] = []
        return try self.commit(commit, erased: &erased)
    }

    /// A commit that reports, in `erased`, what each of its erasures removed.
    package func commit(_ commit: StoreCommit, erased: inout [ErasureReport]) throws(StoreError) -> [OutboxEntry] {
        try withConnection { connection throws(StoreError) in
            try connection.sqlite.transaction { () throws(StoreError) in
                erased = try commit.erased.map { erasure throws(StoreError) in try erase(erasure, connection) }
                return try write(commit, progress: true, connection)
            }
        }
    }

    /// Writes a commit's rows inside the caller's transaction; the
    /// progress row only when `progress` is set.
    func write(_ commit: StoreCommit, progress: Bool, _ connection: Connection) throws(StoreError) -> [OutboxEntry] {
        try append(commit.journal, connection)
        try append(commit.calls, connection)
        try save(commit.snapshots, connection)
        try replace(commit.timers, connection)
        try delete(commit.expired, connection)
        let outputs = try enqueue(commit.outputs, connection)
        try Self.markSent(commit.delivered, connection)
        if progress { try setProgress(commit, connection) }
        if let position = commit.replicated { try Self.setPosition(position, connection) }
        return outputs
    }

    /// Where the partition stands; nil for a file nothing was committed to.
    package func progress() throws(StoreError) -> StoreProgress? {
        try withConnection { connection throws(StoreError) in
            let query = try connection.statement("SELECT next_offset, snapshot_offset, max_event_time FROM progress WHERE id = 1")
            defer { query.reset() }
            guard try query.step() else { return nil }
            var progress = StoreProgress(
                nextOffset: query.int64(0), snapshotOffset: query.int64(1),
                maxEventTime: query.isNull(2) ? nil : EventTime(milliseconds: query.int64(2))
            )
            let topics = try connection.statement("SELECT topic, next_offset FROM topic_offsets")
            defer { topics.reset() }
            while try topics.step() { progress.topicOffsets[topics.string(0)] = topics.int64(1) }
            return progress
        }
    }

    /// The highest offset (in a shard fed by several topics, position) any
    /// row of the file is stamped with: the journal's, a snapshot's, an
    /// unpublished output's source. A shard fed by several topics numbers
    /// its next records after it, so that no position is used twice even
    /// for records applied past the committed one. Scans the snapshots:
    /// read once, when such a shard opens.
    package func highestPosition() throws(StoreError) -> Int64? {
        try withConnection { connection throws(StoreError) in
            let query = try connection.statement("""
                SELECT max(position) FROM (
                    SELECT max(offset) AS position FROM journal UNION ALL SELECT max(offset) FROM snapshots
                    UNION ALL SELECT max(source_offset) FROM outbox
                )
                """)
            defer { query.reset() }
            guard try query.step(), !query.isNull(0) else { return nil }
            return query.int64(0)
        }
    }

    private func append(_ rows: [JournalEntry], _ connection: Connection) throws(StoreError) {
        let insert = "INSERT INTO journal (offset, entity, key, event, event_time, topic, source_offset, reads) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        try write(rows, insert, connection) {
            $0.bind(1, $1.offset)
            $0.bind(2, $1.entity)
            $0.bind(3, $1.key)
            $0.bind(4, $1.event)
            $0.bind(5, $1.eventTime)
            $0.bind(6, $1.source?.topic)
            $0.bind(7, $1.source?.offset)
            $0.bind(8, TableRead.encode($1.reads))
        }
    }

    private func append(_ calls: [JournaledCall], _ connection: Connection) throws(StoreError) {
        let insert = "INSERT INTO journal_calls (after_offset, entity, key, call) VALUES (?, ?, ?, ?)"
        try write(calls, insert, connection) {
            $0.bind(1, $1.afterOffset)
            $0.bind(2, $1.entity)
            $0.bind(3, $1.key)
            $0.bind(4, $1.call)
        }
    }

    private func save(_ snapshots: [Snapshot], _ connection: Connection) throws(StoreError) {
        let upsert = """
            INSERT INTO snapshots (entity, key, version, offset, state, firings, sources, calls) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (entity, key) DO UPDATE SET version = excluded.version, offset = excluded.offset,
                state = excluded.state, firings = excluded.firings, sources = excluded.sources, calls = excluded.calls
            """
        try write(snapshots, upsert, connection) {
            $0.bind(1, $1.entity)
            $0.bind(2, $1.key)
            $0.bind(3, $1.version)
            $0.bind(4, $1.offset)
            $0.bind(5, $1.state)
            $0.bind(6, $1.firings)
            $0.bind(7, Self.encodeSources($1.sources))
            $0.bind(8, RecentCall.encode($1.calls))
        }
        noteSnapshotKeys(snapshots)
    }

    private func delete(_ expired: [EntityID], _ connection: Connection) throws(StoreError) {
        try write(expired, "DELETE FROM snapshots WHERE entity = ? AND key = ?", connection) {
            $0.bind(1, $1.type)
            $0.bind(2, $1.key)
        }
    }

    /// Replaces the pending timers of each entity listed.
    private func replace(_ timers: [StoredTimers], _ connection: Connection) throws(StoreError) {
        try write(timers, "DELETE FROM timers WHERE entity = ? AND key = ?", connection) {
            $0.bind(1, $1.entity)
            $0.bind(2, $1.key)
        }
        let rows = timers.flatMap { entry in entry.timers.map { (entry.entity, entry.key, $0) } }
        try write(rows, "INSERT INTO timers (entity, key, name, clock, due) VALUES (?, ?, ?, ?, ?)", connection) {
            $0.bind(1, $1.0)
            $0.bind(2, $1.1)
            $0.bind(3, $1.2.name)
            $0.bind(4, $1.2.clock.rawValue)
            $0.bind(5, $1.2.due.milliseconds)
        }
    }

    private func enqueue(_ outputs: [OutboxEntry], _ connection: Connection) throws(StoreError) -> [OutboxEntry] {
        var written = outputs
        let insert = """
            INSERT INTO outbox (source_offset, position, topic, key, value, headers, timestamp, partition, entity, entity_key)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
        var index = 0
        try write(outputs, insert, connection) {
            $0.bind(1, $1.sourceOffset)
            $0.bind(2, $1.position)
            $0.bind(3, $1.topic)
            $0.bind(4, $1.key)
            $0.bind(5, $1.value)
            $0.bind(6, $1.headers)
            $0.bind(7, $1.timestamp)
            $0.bind(8, $1.partition.map(Int64.init))
            $0.bind(9, $1.entity?.type)
            $0.bind(10, $1.entity?.key)
        } written: {
            written[index].id = connection.sqlite.lastInsertRowID
            index += 1
        }
        return written
    }

    /// Runs one prepared statement per row.
    private func write<Row>(
        _ rows: [Row], _ sql: String, _ connection: Connection,
        bind: (SQLiteStatement, Row) -> Void, written: () -> Void = {}
    ) throws(StoreError) {
        guard !rows.isEmpty else { return }
        let statement = try connection.statement(sql)
        for row in rows {
            try statement.run { bind($0, row) }
            written()
        }
    }

    private func setProgress(_ commit: StoreCommit, _ connection: Connection) throws(StoreError) {
        let upsert = try connection.statement("""
            INSERT INTO progress (id, next_offset, snapshot_offset, max_event_time) VALUES (1, ?1, ?2, ?4)
            ON CONFLICT (id) DO UPDATE SET next_offset = ?1,
                snapshot_offset = CASE WHEN ?3 THEN ?1 ELSE snapshot_offset END,
                max_event_time = coalesce(?4, max_event_time)
            """)
        try upsert.run { statement in
            statement.bind(1, commit.nextOffset)
            statement.bind(2, commit.snapshotsComplete ? commit.nextOffset : 0)
            statement.bind(3, commit.snapshotsComplete ? 1 : 0)
            statement.bind(4, commit.maxEventTime?.milliseconds)
        }
        let rows = commit.topicOffsets.sorted { $0.key < $1.key }
        let topicUpsert = """
            INSERT INTO topic_offsets (topic, next_offset) VALUES (?, ?)
            ON CONFLICT (topic) DO UPDATE SET next_offset = excluded.next_offset
            """
        try write(rows, topicUpsert, connection) {
            $0.bind(1, $1.key)
            $0.bind(2, $1.value)
        }
    }
}

extension PartitionStore {
    /// A snapshot's per-topic offsets as its `sources` column holds them:
    /// `topic=offset` pairs joined by commas (Kafka's topic names have
    /// neither character); nil when empty.
    static func encodeSources(_ sources: [String: Int64]) -> String? {
        guard !sources.isEmpty else { return nil }
        return sources.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    static func decodeSources(_ text: String?) -> [String: Int64] {
        guard let text, !text.isEmpty else { return [:] }
        var sources: [String: Int64] = [:]
        for pair in text.split(separator: ",") {
            guard let equals = pair.lastIndex(of: "="), let offset = Int64(pair[pair.index(after: equals)...]) else { continue }
            sources[String(pair[..<equals])] = offset
        }
        return sources
    }
}
