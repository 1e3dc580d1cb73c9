extension PartitionStore {
    /// Writes journal rows, snapshots, outputs and the next offset in one
    /// transaction: all of them or none.
    /// - Throws: ``StoreError`` (`full`, `io`, ...) naming the file; nothing
    ///   of this commit is kept then.
    public func commit(_ commit: StoreCommit) throws(StoreError) {
        try withConnection { connection throws(StoreError) in
            try connection.sqlite.transaction { () throws(StoreError) in
                try append(commit.journal, connection)
                try save(commit.snapshots, connection)
                try enqueue(commit.outputs, connection)
                try setProgress(commit, connection)
            }
        }
    }

    /// Where the partition stands; nil for a file nothing was committed to.
    public func progress() throws(StoreError) -> StoreProgress? {
        try withConnection { connection throws(StoreError) in
            let query = try connection.statement("SELECT next_offset, snapshot_offset FROM progress WHERE id = 1")
            defer { query.reset() }
            guard try query.step() else { return nil }
            return StoreProgress(nextOffset: query.int64(0), snapshotOffset: query.int64(1))
        }
    }

    private func append(_ rows: [JournalEntry], _ connection: Connection) throws(StoreError) {
        guard !rows.isEmpty else { return }
        let insert = try connection.statement(
            "INSERT INTO journal (offset, entity, key, event, event_time) VALUES (?, ?, ?, ?, ?)"
        )
        for row in rows {
            try insert.run { statement in
                statement.bind(1, row.offset)
                statement.bind(2, row.entity)
                statement.bind(3, row.key)
                statement.bind(4, row.event)
                statement.bind(5, row.eventTime)
            }
        }
    }

    private func save(_ snapshots: [Snapshot], _ connection: Connection) throws(StoreError) {
        guard !snapshots.isEmpty else { return }
        let upsert = try connection.statement("""
            INSERT INTO snapshots (entity, key, version, offset, state) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (entity, key) DO UPDATE SET version = excluded.version, offset = excluded.offset, state = excluded.state
            """)
        for snapshot in snapshots {
            try upsert.run { statement in
                statement.bind(1, snapshot.entity)
                statement.bind(2, snapshot.key)
                statement.bind(3, snapshot.version)
                statement.bind(4, snapshot.offset)
                statement.bind(5, snapshot.state)
            }
        }
    }

    private func enqueue(_ outputs: [OutboxEntry], _ connection: Connection) throws(StoreError) {
        guard !outputs.isEmpty else { return }
        let insert = try connection.statement(
            "INSERT INTO outbox (source_offset, position, topic, key, value, headers) VALUES (?, ?, ?, ?, ?, ?)"
        )
        for output in outputs {
            try insert.run { statement in
                statement.bind(1, output.sourceOffset)
                statement.bind(2, output.position)
                statement.bind(3, output.topic)
                statement.bind(4, output.key)
                statement.bind(5, output.value)
                statement.bind(6, output.headers)
            }
        }
    }

    private func setProgress(_ commit: StoreCommit, _ connection: Connection) throws(StoreError) {
        let upsert = try connection.statement("""
            INSERT INTO progress (id, next_offset, snapshot_offset) VALUES (1, ?1, ?2)
            ON CONFLICT (id) DO UPDATE SET next_offset = ?1,
                snapshot_offset = CASE WHEN ?3 THEN ?1 ELSE snapshot_offset END
            """)
        try upsert.run { statement in
            statement.bind(1, commit.nextOffset)
            statement.bind(2, commit.snapshotsComplete ? commit.nextOffset : 0)
            statement.bind(3, commit.snapshotsComplete ? 1 : 0)
        }
    }
}
