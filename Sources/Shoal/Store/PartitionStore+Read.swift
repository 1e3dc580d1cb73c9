extension PartitionStore {
    /// An entity's snapshot, if one was saved.
    public func snapshot(entity: String, key: String) throws(StoreError) -> Snapshot? {
        try withConnection { connection throws(StoreError) in
            let query = try connection.statement(
                "SELECT version, offset, state FROM snapshots WHERE entity = ? AND key = ?"
            )
            defer { query.reset() }
            query.bind(1, entity)
            query.bind(2, key)
            guard try query.step() else { return nil }
            return Snapshot(entity: entity, key: key, version: query.int64(0), offset: query.int64(1), state: query.bytes(2))
        }
    }

    /// Every snapshot, sorted by entity type and key (optionally narrowed).
    public func snapshots(entity: String? = nil, key: String? = nil) throws(StoreError) -> [Snapshot] {
        try withConnection { connection throws(StoreError) in
            let query = try connection.statement("""
                SELECT entity, key, version, offset, state FROM snapshots
                WHERE (?1 IS NULL OR entity = ?1) AND (?2 IS NULL OR key = ?2) ORDER BY entity, key
                """)
            defer { query.reset() }
            query.bind(1, entity)
            query.bind(2, key)
            var result: [Snapshot] = []
            while try query.step() {
                result.append(Snapshot(
                    entity: query.string(0), key: query.string(1), version: query.int64(2),
                    offset: query.int64(3), state: query.bytes(4)
                ))
            }
            return result
        }
    }

    /// Journal rows from `offset` on, in offset order, at most `limit`.
    public func journal(from offset: Int64, limit: Int = .max) throws(StoreError) -> [JournalEntry] {
        try withConnection { connection throws(StoreError) in
            let query = try connection.statement(
                "SELECT offset, entity, key, event, event_time FROM journal WHERE offset >= ? ORDER BY offset LIMIT ?"
            )
            defer { query.reset() }
            query.bind(1, offset)
            query.bind(2, Int64(min(limit, Int(Int64.max))))
            var rows: [JournalEntry] = []
            while try query.step() {
                rows.append(JournalEntry(
                    offset: query.int64(0), entity: query.string(1), key: query.string(2),
                    event: query.isNull(3) ? nil : query.bytes(3), eventTime: query.isNull(4) ? nil : query.int64(4)
                ))
            }
            return rows
        }
    }

    /// One entity's journal rows, in offset order (a scan: the journal has
    /// no per-key index, so that appends stay fast).
    public func journal(entity: String, key: String) throws(StoreError) -> [JournalEntry] {
        try withConnection { connection throws(StoreError) in
            let query = try connection.statement(
                "SELECT offset, event, event_time FROM journal WHERE entity = ? AND key = ? ORDER BY offset"
            )
            defer { query.reset() }
            query.bind(1, entity)
            query.bind(2, key)
            var rows: [JournalEntry] = []
            while try query.step() {
                rows.append(JournalEntry(
                    offset: query.int64(0), entity: entity, key: key,
                    event: query.isNull(1) ? nil : query.bytes(1), eventTime: query.isNull(2) ? nil : query.int64(2)
                ))
            }
            return rows
        }
    }

    /// Outputs not yet delivered, oldest first, at most `limit`.
    public func pendingOutputs(limit: Int = 1_000) throws(StoreError) -> [OutboxEntry] {
        try outputs(pendingOnly: true, limit: limit)
    }

    /// Every output the outbox still holds (sent or not), oldest first.
    public func outputHistory() throws(StoreError) -> [OutboxEntry] {
        try outputs(pendingOnly: false, limit: .max)
    }

    private func outputs(pendingOnly: Bool, limit: Int) throws(StoreError) -> [OutboxEntry] {
        try withConnection { connection throws(StoreError) in
            let query = try connection.statement("""
                SELECT id, source_offset, position, topic, key, value, headers FROM outbox
                WHERE (?1 = 0 OR sent = 0) ORDER BY id LIMIT ?2
                """)
            defer { query.reset() }
            query.bind(1, pendingOnly ? 1 : 0)
            query.bind(2, Int64(min(limit, Int(Int64.max))))
            var rows: [OutboxEntry] = []
            while try query.step() {
                rows.append(OutboxEntry(
                    id: query.int64(0), sourceOffset: query.int64(1), position: query.int64(2), topic: query.string(3),
                    key: query.isNull(4) ? nil : query.bytes(4), value: query.isNull(5) ? nil : query.bytes(5),
                    headers: query.isNull(6) ? nil : query.bytes(6)
                ))
            }
            return rows
        }
    }

    /// Marks outputs delivered (after the producer confirmed them).
    public func markSent(_ ids: [Int64]) throws(StoreError) {
        guard !ids.isEmpty else { return }
        try withConnection { connection throws(StoreError) in
            let update = try connection.statement("UPDATE outbox SET sent = 1 WHERE id = ?")
            try connection.sqlite.transaction { () throws(StoreError) in
                for id in ids {
                    try update.run { $0.bind(1, id) }
                }
            }
        }
    }

    /// Retention: drops journal rows before `offset` and delivered outputs
    /// of records before it.
    public func trim(before offset: Int64) throws(StoreError) {
        try withConnection { connection throws(StoreError) in
            try connection.sqlite.transaction { () throws(StoreError) in
                let journal = try connection.statement("DELETE FROM journal WHERE offset < ?")
                try journal.run { $0.bind(1, offset) }
                let outbox = try connection.statement("DELETE FROM outbox WHERE sent = 1 AND source_offset < ?")
                try outbox.run { $0.bind(1, offset) }
            }
        }
    }
}
