import Crypto
import Foundation

/// An entity erased at its owner (right to erasure), in the commit that
/// erases it: its snapshot, timers, journal rows, journaled calls and
/// outputs, sent or not, leave the file before the commit's own rows are
/// written (those belong to the entity that starts anew after the erase).
package struct Erasure: Sendable, Hashable {
    package var entity: EntityID
    /// The erase's id, for the audit line and the requester's reply.
    package var id: String
    /// Who asked, as the requester named itself (for the audit line).
    package var requester: String

    package init(entity: EntityID, id: String, requester: String) {
        self.entity = entity
        self.id = id
        self.requester = requester
    }
}

/// What an erase removed from the partition's file, counted (never the
/// data): what the audit line records.
package struct ErasureReport: Sendable, Hashable {
    package var erasure: Erasure
    package var snapshots: Int64 = 0
    package var timers: Int64 = 0
    package var journalRows: Int64 = 0
    package var calls: Int64 = 0
    package var outputs: Int64 = 0
    /// Outputs removed before they were published: the changelog learns
    /// they are gone, so that no restore publishes them.
    package var unpublished: [OutputKey] = []
}

extension PartitionStore {
    /// Deletes every row of the erased entity, inside the commit's transaction.
    func erase(_ erasure: Erasure, _ connection: Connection) throws(StoreError) -> ErasureReport {
        var report = ErasureReport(erasure: erasure)
        let unsent = try connection.statement("SELECT source_offset, position FROM outbox WHERE entity = ? AND entity_key = ? AND sent = 0")
        defer { unsent.reset() }
        unsent.bind(1, erasure.entity.type)
        unsent.bind(2, erasure.entity.key)
        while try unsent.step() { report.unpublished.append(OutputKey(sourceOffset: unsent.int64(0), position: unsent.int64(1))) }
        report.snapshots = try delete("DELETE FROM snapshots WHERE entity = ? AND key = ?", erasure.entity, connection)
        report.timers = try delete("DELETE FROM timers WHERE entity = ? AND key = ?", erasure.entity, connection)
        // Outputs restored from a changelog (or written before outputs named
        // their entity) are found by their source record, once published;
        // not a call's (positions from 2^62 on), numbered after whichever
        // record came last, maybe another entity's; not an unpublished one,
        // which must not be lost if it is another's.
        report.outputs = try delete("""
            DELETE FROM outbox WHERE entity IS NULL AND sent = 1 AND position < 4611686018427387904
                AND source_offset IN (SELECT offset FROM journal WHERE entity = ? AND key = ?)
            """, erasure.entity, connection)
        // No index on the journal's keys (it would slow every append ~20x):
        // an erase scans the journal (here and for restored outputs above).
        report.journalRows = try delete("DELETE FROM journal WHERE entity = ? AND key = ?", erasure.entity, connection)
        report.calls = try delete("DELETE FROM journal_calls WHERE entity = ? AND key = ?", erasure.entity, connection)
        report.outputs += try delete("DELETE FROM outbox WHERE entity = ? AND entity_key = ?", erasure.entity, connection)
        try register(erasure, connection)
        return report
    }

    private func delete(_ sql: String, _ id: EntityID, _ connection: Connection) throws(StoreError) -> Int64 {
        let statement = try connection.statement(sql)
        try statement.run {
            $0.bind(1, id.type)
            $0.bind(2, id.key)
        }
        return connection.sqlite.changes
    }

    /// Empties the file's write-ahead log after an erase. The file itself
    /// keeps no deleted bytes (`secure_delete` overwrites them as rows go),
    /// but the log's older frames still hold the pages as they were before
    /// the erase: copied into the file and truncated, they are gone.
    ///
    /// A reader (`APP state`) still on old frames keeps the log: the purge
    /// waits for it up to the busy timeout, or, `waitingForReaders` false,
    /// fails at once (a shard's commit, which holds the node's commit
    /// permit meanwhile, tries again without it).
    package func purgeFreedPages(waitingForReaders: Bool = true) throws(StoreError) {
        try withConnection { connection throws(StoreError) in
            if !waitingForReaders { try connection.sqlite.execute("PRAGMA busy_timeout = 0") }
            defer {
                if !waitingForReaders { try? connection.sqlite.execute("PRAGMA busy_timeout = \(Self.busyTimeoutMilliseconds)") }
            }
            guard try connection.sqlite.integer("PRAGMA wal_checkpoint(TRUNCATE)") == 0 else {
                throw StoreError(code: .locked, reason: "\(path): a reader kept the write-ahead log from being emptied after an erase")
            }
        }
    }
}

extension PartitionStore {
    /// The journaled events of an entity, with the topic of each (nil in a
    /// shard of one topic), in offset order. Scans the journal.
    package func journalEvents(of id: EntityID) throws(StoreError) -> [(topic: String?, event: [UInt8])] {
        try withConnection { connection throws(StoreError) in
            let query = try connection.statement("SELECT topic, event FROM journal WHERE entity = ? AND key = ? ORDER BY offset")
            defer { query.reset() }
            query.bind(1, id.type)
            query.bind(2, id.key)
            var events: [(topic: String?, event: [UInt8])] = []
            while try query.step() {
                events.append((query.isNull(0) ? nil : query.string(0), query.isNull(1) ? [] : query.bytes(1)))
            }
            return events
        }
    }

    /// Rewrites an entity's journaled events through `scrubbed` (nil:
    /// unchanged), in one transaction; returns how many changed.
    package func scrubJournal(of id: EntityID, _ scrubbed: ([UInt8]) -> [UInt8]?) throws(StoreError) -> Int {
        try withConnection { connection throws(StoreError) in
            try connection.sqlite.transaction { () throws(StoreError) in
                let query = try connection.statement("SELECT offset, event FROM journal WHERE entity = ? AND key = ?")
                defer { query.reset() }
                query.bind(1, id.type)
                query.bind(2, id.key)
                var changed: [(Int64, [UInt8])] = []
                while try query.step() {
                    guard !query.isNull(1), let after = scrubbed(query.bytes(1)) else { continue }
                    changed.append((query.int64(0), after))
                }
                let update = try connection.statement("UPDATE journal SET event = ? WHERE offset = ?")
                for (offset, event) in changed {
                    try update.run {
                        $0.bind(1, event)
                        $0.bind(2, offset)
                    }
                }
                return changed.count
            }
        }
    }
}

/// The erases a partition file records: each erased entity by a salted
/// digest of its type and key, never the key, so that a replay of a
/// journal recorded before the erase can skip the entity's events. A
/// digest of a key from a small space can be found by trying every key:
/// it tells that a known key was erased, as a tombstone list must.
package struct ErasureRegistry: Sendable {
    package struct Entry: Sendable, Hashable {
        package var id: String
        package var entity: String
        package var digest: [UInt8]
        /// When it was erased, in milliseconds since the epoch.
        package var erasedAt: Int64
    }

    package var salt: [UInt8]
    package var entries: [Entry]

    /// The erase that erased `id`, if one of these did.
    package func erasure(of id: EntityID) -> Entry? {
        let digest = Self.digest(of: id, salt: salt)
        return entries.first { $0.entity == id.type && $0.digest == digest }
    }

    static func digest(of id: EntityID, salt: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: salt + Array(id.type.utf8) + [0] + Array(id.key.utf8)))
    }
}

extension PartitionStore {
    static let saltKey = "erasure_salt"

    /// Records an erase in the file, inside its commit's transaction.
    func register(_ erasure: Erasure, _ connection: Connection) throws(StoreError) {
        let salt = try erasureSalt(connection, creating: true) ?? []
        let insert = try connection.statement("INSERT OR REPLACE INTO erasures (id, entity, digest, erased_at) VALUES (?, ?, ?, ?)")
        try insert.run {
            $0.bind(1, erasure.id)
            $0.bind(2, erasure.entity.type)
            $0.bind(3, ErasureRegistry.digest(of: erasure.entity, salt: salt))
            $0.bind(4, Int64(Date().timeIntervalSince1970 * 1_000))
        }
    }

    /// The erases this file records; nil when it records none.
    package func erasureRegistry() throws(StoreError) -> ErasureRegistry? {
        try withConnection { connection throws(StoreError) in
            guard let salt = try erasureSalt(connection, creating: false) else { return nil }
            let query = try connection.statement("SELECT id, entity, digest, erased_at FROM erasures ORDER BY erased_at")
            defer { query.reset() }
            var entries: [ErasureRegistry.Entry] = []
            while try query.step() {
                entries.append(.init(id: query.string(0), entity: query.string(1), digest: query.bytes(2), erasedAt: query.int64(3)))
            }
            return entries.isEmpty ? nil : ErasureRegistry(salt: salt, entries: entries)
        }
    }

    /// The file's salt (16 random bytes, hex in `meta`), made on first use.
    private func erasureSalt(_ connection: Connection, creating: Bool) throws(StoreError) -> [UInt8]? {
        let query = try connection.statement("SELECT value FROM meta WHERE name = ?")
        query.bind(1, Self.saltKey)
        let stored = try query.step() ? query.string(0) : nil
        query.reset()
        if let stored { return Self.bytes(hex: stored) }
        guard creating else { return nil }
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255) }
        try Self.setMeta((Self.saltKey, salt.map { String(format: "%02x", $0) }.joined()), connection)
        return salt
    }

    private static func bytes(hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex), index < hex.endIndex {
            bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return bytes
    }
}
