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
        // their entity) are found by their source record, once published:
        // an unpublished one might be another entity's call's, numbered
        // after this entity's record, and must not be lost.
        report.outputs = try delete("""
            DELETE FROM outbox WHERE entity IS NULL AND sent = 1
                AND source_offset IN (SELECT offset FROM journal WHERE entity = ? AND key = ?)
            """, erasure.entity, connection)
        // No index on the journal's keys (it would slow every append ~20x):
        // an erase scans the journal once.
        report.journalRows = try delete("DELETE FROM journal WHERE entity = ? AND key = ?", erasure.entity, connection)
        report.calls = try delete("DELETE FROM journal_calls WHERE entity = ? AND key = ?", erasure.entity, connection)
        report.outputs += try delete("DELETE FROM outbox WHERE entity = ? AND entity_key = ?", erasure.entity, connection)
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
    package func purgeFreedPages() throws(StoreError) {
        try withConnection { connection throws(StoreError) in
            // A reader (`APP state`) still on old frames keeps the log: busy.
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
