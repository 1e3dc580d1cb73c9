extension PartitionStore {
    /// An entity's snapshot, if one was saved (a primary-key lookup).
    package func snapshot(entity: String, key: String) throws(StoreError) -> Snapshot? {
        guard try mayHaveSnapshot(entity: entity, key: key) else { return nil }
        return try rows("SELECT \(Self.snapshotColumns) FROM snapshots WHERE entity = ? AND key = ?", Self.snapshot) {
            $0.bind(1, entity)
            $0.bind(2, key)
        }.first
    }

    /// Every snapshot, sorted by entity type and key (optionally narrowed).
    package func snapshots(entity: String? = nil, key: String? = nil) throws(StoreError) -> [Snapshot] {
        let sql = """
            SELECT \(Self.snapshotColumns) FROM snapshots
            WHERE (?1 IS NULL OR entity = ?1) AND (?2 IS NULL OR key = ?2) ORDER BY entity, key
            """
        return try rows(sql, Self.snapshot) {
            $0.bind(1, entity)
            $0.bind(2, key)
        }
    }

    /// Journal rows from `offset` on, in offset order, at most `limit`.
    package func journal(from offset: Int64, limit: Int = .max) throws(StoreError) -> [JournalEntry] {
        let sql = "SELECT \(Self.journalColumns) FROM journal WHERE offset >= ? ORDER BY offset LIMIT ?"
        return try rows(sql, Self.journalEntry) {
            $0.bind(1, offset)
            $0.bind(2, Int64(min(limit, Int(Int64.max))))
        }
    }

    /// One entity's journal rows, in offset order (a scan: the journal has
    /// no per-key index, so that appends stay fast).
    package func journal(entity: String, key: String) throws(StoreError) -> [JournalEntry] {
        let sql = "SELECT \(Self.journalColumns) FROM journal WHERE entity = ? AND key = ? ORDER BY offset"
        return try rows(sql, Self.journalEntry) {
            $0.bind(1, entity)
            $0.bind(2, key)
        }
    }

    /// The journaled calls that run before records from `offset` on (after
    /// the record at `offset - 1` or later), in the order they ran.
    package func journaledCalls(from offset: Int64) throws(StoreError) -> [JournaledCall] {
        let sql = "SELECT \(Self.callColumns) FROM journal_calls WHERE after_offset >= ? - 1 ORDER BY seq"
        return try rows(sql, Self.journaledCall) { $0.bind(1, offset) }
    }

    /// One entity's journaled calls, in the order they ran.
    package func journaledCalls(entity: String, key: String) throws(StoreError) -> [JournaledCall] {
        let sql = "SELECT \(Self.callColumns) FROM journal_calls WHERE entity = ? AND key = ? ORDER BY seq"
        return try rows(sql, Self.journaledCall) {
            $0.bind(1, entity)
            $0.bind(2, key)
        }
    }

    private static let callColumns = "after_offset, entity, key, call"

    private static func journaledCall(_ row: SQLiteStatement) -> JournaledCall {
        JournaledCall(afterOffset: row.int64(0), entity: row.string(1), key: row.string(2), call: row.bytes(3))
    }

    /// Outputs not yet delivered, oldest first, at most `limit`.
    package func pendingOutputs(limit: Int = 1_000) throws(StoreError) -> [OutboxEntry] {
        try outputs(pendingOnly: true, limit: limit)
    }

    /// Every output the outbox still holds (sent or not), oldest first.
    package func outputHistory() throws(StoreError) -> [OutboxEntry] {
        try outputs(pendingOnly: false, limit: .max)
    }

    private func outputs(pendingOnly: Bool, limit: Int) throws(StoreError) -> [OutboxEntry] {
        let sql = """
            SELECT id, source_offset, position, topic, key, value, headers, timestamp, partition FROM outbox
            WHERE (?1 = 0 OR sent = 0) ORDER BY id LIMIT ?2
            """
        return try rows(sql, Self.outboxEntry) {
            $0.bind(1, pendingOnly ? 1 : 0)
            $0.bind(2, Int64(min(limit, Int(Int64.max))))
        }
    }

    /// Runs a prepared query bound by `bind` and reads each row with `row`.
    private func rows<Row>(
        _ sql: String, _ row: (SQLiteStatement) -> Row, bind: (SQLiteStatement) -> Void
    ) throws(StoreError) -> [Row] {
        try withConnection { connection throws(StoreError) in
            let query = try connection.statement(sql)
            defer { query.reset() }
            bind(query)
            var rows: [Row] = []
            while try query.step() { rows.append(row(query)) }
            return rows
        }
    }

    private static let snapshotColumns = "entity, key, version, offset, state, firings, sources, calls"

    private static func snapshot(_ row: SQLiteStatement) -> Snapshot {
        Snapshot(
            entity: row.string(0), key: row.string(1), version: row.int64(2), offset: row.int64(3), state: row.bytes(4),
            firings: row.int64(5), sources: row.isNull(6) ? [:] : decodeSources(row.string(6)),
            // Written by this Shoal only; unreadable bytes lose the dedup memory, not the state.
            calls: row.isNull(7) ? [] : RecentCall.decode(row.bytes(7)) ?? []
        )
    }

    /// Every pending timer of the partition, by entity.
    package func timers() throws(StoreError) -> [EntityID: [EntityTimer]] {
        let rows = try rows("SELECT entity, key, name, clock, due FROM timers", Self.timer) { _ in }
        return Dictionary(grouping: rows, by: \.0).mapValues { $0.map(\.1) }
    }

    private static func timer(_ row: SQLiteStatement) -> (EntityID, EntityTimer) {
        let clock = EntityTimer.Clock(rawValue: row.string(3)) ?? .eventTime
        return (EntityID(type: row.string(0), key: row.string(1)), EntityTimer(name: row.string(2), clock: clock, due: EventTime(milliseconds: row.int64(4))))
    }

    private static let journalColumns = "offset, entity, key, event, event_time, topic, source_offset, reads"

    private static func journalEntry(_ row: SQLiteStatement) -> JournalEntry {
        JournalEntry(
            offset: row.int64(0), entity: row.string(1), key: row.string(2),
            event: row.optionalBytes(3), eventTime: row.isNull(4) ? nil : row.int64(4),
            source: row.isNull(5) ? nil : SourceOffset(topic: row.string(5), offset: row.int64(6)),
            // The file's own bytes: they decode unless the file is damaged,
            // and then the replay answers the lookups as unrecorded.
            reads: TableRead.decode(row.optionalBytes(7)) ?? []
        )
    }

    private static func outboxEntry(_ row: SQLiteStatement) -> OutboxEntry {
        OutboxEntry(
            id: row.int64(0), sourceOffset: row.int64(1), position: row.int64(2), topic: row.string(3),
            key: row.optionalBytes(4), value: row.optionalBytes(5), headers: row.optionalBytes(6),
            timestamp: row.isNull(7) ? nil : row.int64(7), partition: row.isNull(8) ? nil : Int32(row.int64(8))
        )
    }

    /// Marks outputs delivered (after the producer confirmed them).
    package func markSent(_ ids: [Int64]) throws(StoreError) {
        guard !ids.isEmpty else { return }
        try withConnection { connection throws(StoreError) in
            try connection.sqlite.transaction { () throws(StoreError) in
                try Self.markSent(ids, connection)
            }
        }
    }

    /// Marks outputs sent inside the caller's transaction, one statement
    /// per run of consecutive ids: deliveries come back nearly in order,
    /// so a commit's hundreds of ids are a few runs.
    static func markSent(_ ids: [Int64], _ connection: Connection) throws(StoreError) {
        guard !ids.isEmpty else { return }
        let update = try connection.statement("UPDATE outbox SET sent = 1 WHERE id BETWEEN ? AND ?")
        for run in consecutiveRuns(ids) {
            try update.run {
                $0.bind(1, run.lowerBound)
                $0.bind(2, run.upperBound)
            }
        }
    }

    /// `ids` as the fewest closed ranges that cover exactly them.
    static func consecutiveRuns(_ ids: [Int64]) -> [ClosedRange<Int64>] {
        var runs: [ClosedRange<Int64>] = []
        for id in ids.sorted() {
            if let last = runs.last, id <= last.upperBound + 1 {
                runs[runs.count - 1] = last.lowerBound...max(last.upperBound, id)
            } else {
                runs.append(id...id)
            }
        }
        return runs
    }

    /// Retention: drops journal rows before `offset`, the calls after them,
    /// and delivered outputs of records before it.
    package func trim(before offset: Int64) throws(StoreError) {
        try withConnection { connection throws(StoreError) in
            try connection.sqlite.transaction { () throws(StoreError) in
                let journal = try connection.statement("DELETE FROM journal WHERE offset < ?")
                try journal.run { $0.bind(1, offset) }
                // A call goes with the record before it (one before any record, with the first).
                let calls = try connection.statement("DELETE FROM journal_calls WHERE after_offset < ?")
                try calls.run { $0.bind(1, offset) }
                let outbox = try connection.statement("DELETE FROM outbox WHERE sent = 1 AND source_offset < ?")
                try outbox.run { $0.bind(1, offset) }
            }
        }
    }
}
