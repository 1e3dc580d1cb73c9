/// How a partition's file relates to the changelog, kept in its `meta` table.
package struct StoreReplication: Sendable, Hashable {
    /// What wrote the file's current content.
    package enum Role: String, Sendable, Hashable {
        /// A shard processing records (its content may be ahead of the changelog).
        case active
        /// A copy folded from the changelog and nothing else (a standby).
        case replica
        /// A restore that has not finished: the content is partial.
        case restoring
    }

    package var role: Role?
    /// The shard instance that last wrote it as `active`.
    package var writer: Int64?
    /// The changelog offset the file reflects: for a replica every record
    /// before it and none after; for an active file at least those before it.
    package var changelogNext: Int64?
    /// The input offset of the last progress the owner saw replicated.
    package var replicatedInput: Int64?
}

/// How far a file's commits reached the changelog: the changelog offset
/// after the last delivered progress record, and that record's input offset.
package struct ChangelogPosition: Sendable, Hashable {
    package var next: Int64
    package var input: Int64

    package init(next: Int64, input: Int64) {
        self.next = next
        self.input = input
    }
}

extension PartitionStore {
    private static let roleKey = "changelog.role"
    private static let writerKey = "changelog.writer"
    private static let nextKey = "changelog.next"
    private static let inputKey = "changelog.input"

    /// The file's replication bookkeeping.
    package func replication() throws(StoreError) -> StoreReplication {
        try withConnection { connection throws(StoreError) in
            let query = try connection.statement("SELECT name, value FROM meta WHERE name LIKE 'changelog.%'")
            defer { query.reset() }
            var replication = StoreReplication()
            while try query.step() {
                let value = query.string(1)
                switch query.string(0) {
                case Self.roleKey: replication.role = StoreReplication.Role(rawValue: value)
                case Self.writerKey: replication.writer = Int64(value)
                case Self.nextKey: replication.changelogNext = Int64(value)
                case Self.inputKey: replication.replicatedInput = Int64(value)
                default: break
                }
            }
            return replication
        }
    }

    /// Records the file's role, writer and changelog position (nil fields are left as they are).
    package func setReplication(role: StoreReplication.Role? = nil, writer: Int64? = nil, changelogNext: Int64? = nil) throws(StoreError) {
        try withConnection { connection throws(StoreError) in
            try connection.sqlite.transaction { () throws(StoreError) in
                try Self.setMeta(role.map { (Self.roleKey, $0.rawValue) }, connection)
                try Self.setMeta(writer.map { (Self.writerKey, String($0)) }, connection)
                try Self.setMeta(changelogNext.map { (Self.nextKey, String($0)) }, connection)
            }
        }
    }

    /// Records a replicated position inside the caller's transaction.
    static func setPosition(_ position: ChangelogPosition, _ connection: Connection) throws(StoreError) {
        try setMeta((nextKey, String(position.next)), connection)
        try setMeta((inputKey, String(position.input)), connection)
    }

    static func setMeta(_ entry: (String, String)?, _ connection: Connection) throws(StoreError) {
        guard let (name, value) = entry else { return }
        let upsert = try connection.statement("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
        try upsert.run {
            $0.bind(1, name)
            $0.bind(2, value)
        }
    }

    /// Empties the file for a full restore and marks it `restoring`, in one
    /// transaction: a file left so by a crash is restored again, never used.
    package func beginRestore() throws(StoreError) {
        try withConnection { connection throws(StoreError) in
            try connection.sqlite.transaction { () throws(StoreError) in
                for table in ["journal", "journal_calls", "snapshots", "timers", "outbox", "progress", "topic_offsets"] {
                    try connection.sqlite.execute("DELETE FROM \(table)")
                }
                try Self.setMeta((Self.roleKey, StoreReplication.Role.restoring.rawValue), connection)
                try connection.sqlite.execute(
                    "DELETE FROM meta WHERE name IN ('\(Self.writerKey)', '\(Self.nextKey)', '\(Self.inputKey)')"
                )
            }
        }
    }

    /// Applies restored snapshots, removals and timers, in one transaction.
    package func applyRestored(snapshots: [Snapshot], removed: [EntityID], timers: [StoredTimers]) throws(StoreError) {
        var commit = StoreCommit(nextOffset: 0)
        commit.snapshots = snapshots
        commit.expired = removed
        commit.timers = timers
        try withConnection { connection throws(StoreError) in
            try connection.sqlite.transaction { () throws(StoreError) in
                _ = try write(commit, progress: false, connection)
            }
        }
    }

    /// Ends a restore: the pending outputs (replacing the file's unsent
    /// ones), the progress, the journal cut at the restored offset (the
    /// records after it are processed again), and the file's role and
    /// changelog position, in one transaction.
    package func finishRestore(
        outputs: [OutboxEntry], progress: StoreProgress?, role: StoreReplication.Role, changelogNext: Int64
    ) throws(StoreError) {
        try withConnection { connection throws(StoreError) in
            try connection.sqlite.transaction { () throws(StoreError) in
                try connection.sqlite.execute("DELETE FROM outbox WHERE sent = 0")
                var commit = StoreCommit(nextOffset: progress?.nextOffset ?? 0)
                commit.outputs = outputs
                commit.maxEventTime = progress?.maxEventTime
                commit.topicOffsets = progress?.topicOffsets ?? [:]
                commit.snapshotsComplete = true
                _ = try write(commit, progress: progress != nil, connection)
                if let next = progress?.nextOffset {
                    let cut = try connection.statement("DELETE FROM journal WHERE offset >= ?")
                    try cut.run { $0.bind(1, next) }
                    let calls = try connection.statement("DELETE FROM journal_calls WHERE after_offset >= ?")
                    try calls.run { $0.bind(1, next) }
                }
                try Self.setMeta((Self.roleKey, role.rawValue), connection)
                try Self.setMeta((Self.nextKey, String(changelogNext)), connection)
                if let next = progress?.nextOffset { try Self.setMeta((Self.inputKey, String(next)), connection) }
            }
        }
    }
}

extension PartitionStore {
    /// Records how far the file's commits reached the changelog.
    package func setReplicated(_ position: ChangelogPosition) throws(StoreError) {
        try withConnection { connection throws(StoreError) in
            try connection.sqlite.transaction { () throws(StoreError) in
                try Self.setPosition(position, connection)
            }
        }
    }
}
