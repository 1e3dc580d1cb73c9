/// The partition file's schema, by version (`PRAGMA user_version`). A file
/// is migrated forward one version at a time when opened; a file from a
/// newer Shoal is refused, never altered.
enum StoreSchema {
    static var current: Int64 { Int64(migrations.count) }

    /// The statements that take a file from version `index` to `index + 1`.
    static let migrations: [String] = [
        """
        CREATE TABLE journal (
            offset INTEGER PRIMARY KEY,
            entity TEXT NOT NULL,
            key TEXT NOT NULL,
            event BLOB,
            event_time INTEGER
        );
        CREATE TABLE snapshots (
            entity TEXT NOT NULL,
            key TEXT NOT NULL,
            version INTEGER NOT NULL,
            offset INTEGER NOT NULL,
            state BLOB NOT NULL,
            PRIMARY KEY (entity, key)
        ) WITHOUT ROWID;
        CREATE TABLE progress (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            next_offset INTEGER NOT NULL,
            snapshot_offset INTEGER NOT NULL
        );
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            source_offset INTEGER NOT NULL,
            position INTEGER NOT NULL,
            topic TEXT NOT NULL,
            key BLOB,
            value BLOB,
            headers BLOB,
            sent INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX outbox_pending ON outbox (id) WHERE sent = 0;
        CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        """,
        // 2: timers; timer firings since a snapshot's record; the clock.
        """
        CREATE TABLE timers (
            entity TEXT NOT NULL,
            key TEXT NOT NULL,
            name TEXT NOT NULL,
            clock TEXT NOT NULL,
            due INTEGER NOT NULL,
            PRIMARY KEY (entity, key, name)
        ) WITHOUT ROWID;
        ALTER TABLE snapshots ADD COLUMN firings INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE progress ADD COLUMN max_event_time INTEGER;
        """,
        // 3: outputs carry their source record's timestamp.
        """
        ALTER TABLE outbox ADD COLUMN timestamp INTEGER;
        """,
        // 4: shards fed by several topics: where each journal row came
        // from, what each snapshot reflects per topic, each topic's offset.
        """
        ALTER TABLE journal ADD COLUMN topic TEXT;
        ALTER TABLE journal ADD COLUMN source_offset INTEGER;
        ALTER TABLE snapshots ADD COLUMN sources TEXT;
        CREATE TABLE topic_offsets (topic TEXT PRIMARY KEY, next_offset INTEGER NOT NULL) WITHOUT ROWID;
        """,
        // 5: outputs with an explicit partition (records forwarded to the
        // partition of their entity key, see MisplacedRecords); the table
        // lookups of each journaled record.
        """
        ALTER TABLE outbox ADD COLUMN partition INTEGER;
        ALTER TABLE journal ADD COLUMN reads BLOB;
        """,
        // 6: the calls that changed each entity's state lately, with their
        // outcomes, so that a retried call is answered, not applied again.
        """
        ALTER TABLE snapshots ADD COLUMN calls BLOB;
        """,
        // 7: the calls that changed state, journaled with the records, so
        // that a replay runs them where the node ran them.
        """
        CREATE TABLE journal_calls (
            seq INTEGER PRIMARY KEY,
            after_offset INTEGER NOT NULL,
            entity TEXT NOT NULL,
            key TEXT NOT NULL,
            call BLOB NOT NULL
        );
        """,
        // 8: the entity that emitted each output, so that erasing a key
        // finds its outputs (a call's are numbered after another key's record).
        """
        ALTER TABLE outbox ADD COLUMN entity TEXT;
        ALTER TABLE outbox ADD COLUMN entity_key TEXT;
        """,
        // 9: the erases done here, each entity by a salted digest of its
        // key (never the key), so that a replay of an older journal skips it.
        """
        CREATE TABLE erasures (id TEXT PRIMARY KEY, entity TEXT NOT NULL, digest BLOB NOT NULL, erased_at INTEGER NOT NULL);
        """,
    ]

    /// Brings the file to the current version, in one transaction.
    static func migrate(_ connection: SQLiteConnection) throws(StoreError) {
        let version = try connection.integer("PRAGMA user_version") ?? 0
        guard version <= current else {
            throw StoreError(
                code: .newerSchema,
                reason: "\(connection.path): schema version \(version) is newer than this Shoal's (\(current))"
            )
        }
        guard version < current else { return }
        try connection.transaction { () throws(StoreError) in
            for step in Int(version)..<Int(current) {
                try connection.execute(migrations[step])
            }
            try connection.execute("PRAGMA user_version = \(current)")
        }
    }
}
