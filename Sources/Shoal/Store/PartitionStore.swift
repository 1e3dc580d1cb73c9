import CSQLite
import Foundation
import Synchronization

/// A partition's database file: journal, snapshots, progress and outbox,
/// written together in one transaction per ``commit(_:)``.
///
/// One process opens a partition's file at a time (``PartitionFileLock``);
/// readers such as `APP state` open it read-only without the lock (WAL mode
/// lets them read while a node writes).
package final class PartitionStore: Sendable {
    /// The database file.
    package let path: String
    private let state: Mutex<Connection?>
    /// Which entities may have a snapshot in the file (see
    /// ``SnapshotKeyFilter``); nil until first needed, and always for a
    /// file opened read-only, which another process may be writing.
    let snapshotKeys = Mutex<SnapshotKeyFilter?>(nil)
    let filtersSnapshotKeys: Bool

    /// Runs `body` with the connection, serialized with every other use.
    func withConnection<T>(_ body: (Connection) throws(StoreError) -> T) throws(StoreError) -> T {
        try state.withLock { connection throws(StoreError) in
            guard let connection else { throw StoreError(code: .io, reason: "\(path) is closed") }
            return try body(connection)
        }
    }

    /// Closes the file and releases it to the next owner. Later calls throw.
    package func close() {
        let connection = state.withLock { connection in
            defer { connection = nil }
            return connection
        }
        connection?.shutDown()
    }

    /// What the store's lock guards: the connection, its prepared
    /// statements and the file lock.
    // @unchecked: it lives inside the store's Mutex and is reached only
    // through `withConnection`, so one thread uses it at a time; the checker
    // cannot see that a closure given the locked value does not keep it.
    final class Connection: @unchecked Sendable {
        let sqlite: SQLiteConnection
        let lock: PartitionFileLock?
        private var statements: [String: SQLiteStatement] = [:]

        init(sqlite: SQLiteConnection, lock: PartitionFileLock?) {
            self.sqlite = sqlite
            self.lock = lock
        }

        /// Finalizes the statements, closes the database, and only then
        /// releases the file lock, so the next owner never opens a file
        /// this connection still writes (its last WAL checkpoint included).
        func shutDown() {
            statements.removeAll()
            sqlite.close()
            lock?.release()
        }

        /// A statement prepared once and reused.
        func statement(_ sql: String) throws(StoreError) -> SQLiteStatement {
            if let ready = statements[sql] { return ready }
            let prepared = try sqlite.prepare(sql)
            statements[sql] = prepared
            return prepared
        }
    }

    /// Opens (creating it, mode 0600) the file at `path` for writing,
    /// waiting up to `lockTimeout` for another process to release it.
    /// - Throws: ``StoreError`` naming the file: `locked`, `corrupt`,
    ///   `newerSchema`, `io`.
    package init(path: String, lockTimeout: Duration = .seconds(10), synchronous: Synchronous = .normal) throws(StoreError) {
        self.path = path
        let lock = try PartitionFileLock(database: path, timeout: lockTimeout)
        try Self.createPrivately(path)
        let sqlite = try SQLiteConnection(path: path)
        try Self.configure(sqlite, synchronous: synchronous)
        try StoreSchema.migrate(sqlite)
        state = Mutex(Connection(sqlite: sqlite, lock: lock))
        filtersSnapshotKeys = true
    }

    /// Opens an existing file read-only, without taking the lock.
    package init(readingAt path: String) throws(StoreError) {
        self.path = path
        let sqlite = try SQLiteConnection(path: path, readOnly: true, create: false)
        try sqlite.execute("PRAGMA busy_timeout = \(Self.busyTimeoutMilliseconds)")
        let version = try Self.check(sqlite)
        guard version == StoreSchema.current else {
            throw StoreError(code: .newerSchema, reason: "\(path): schema version \(version), this Shoal reads \(StoreSchema.current)")
        }
        state = Mutex(Connection(sqlite: sqlite, lock: nil))
        filtersSnapshotKeys = false
    }

    /// How long a statement waits for another connection's lock on the file.
    static let busyTimeoutMilliseconds = 5_000

    /// How hard SQLite pushes each commit to the disk.
    package typealias Synchronous = StoreSynchronous

    private static func createPrivately(_ path: String) throws(StoreError) {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StoreError(code: .io, reason: "\(path): cannot create: \(String(cString: strerror(errno)))")
        }
        closeDescriptor(descriptor)
    }

    private static func configure(_ sqlite: SQLiteConnection, synchronous: Synchronous) throws(StoreError) {
        _ = try check(sqlite)
        try sqlite.execute("PRAGMA busy_timeout = \(Self.busyTimeoutMilliseconds)")
        let mode = try sqlite.prepare("PRAGMA journal_mode = WAL")
        _ = try mode.step()
        try sqlite.execute("PRAGMA synchronous = \(synchronous.rawValue)")
        // 1 MiB of page cache per partition (SQLite's default is 2 MiB): the
        // journal only appends and snapshots are read by key, and a node
        // holds one connection per partition, so the cache is the store's
        // largest share of a node's memory.
        try sqlite.execute("PRAGMA cache_size = -1024")
        // Deleted rows' bytes are overwritten, not left in free pages, so
        // that an erased entity leaves nothing in the file. Debian builds
        // SQLite with this on; said here for builds that do not.
        try sqlite.execute("PRAGMA secure_delete = ON")
    }

    /// Reads the header, so that a damaged or foreign file fails here, naming itself.
    private static func check(_ sqlite: SQLiteConnection) throws(StoreError) -> Int64 {
        try sqlite.integer("PRAGMA user_version") ?? 0
    }
}

/// The C `close`, out of reach of the store's own `close()` inside the class.
private func closeDescriptor(_ descriptor: Int32) {
    close(descriptor)
}
