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
        // No index on the journal's keys (it would slow every append ~20x):
        // an erase scans the journal once.
        report.journalRows = try delete("DELETE FROM journal WHERE entity = ? AND key = ?", erasure.entity, connection)
        report.calls = try delete("DELETE FROM journal_calls WHERE entity = ? AND key = ?", erasure.entity, connection)
        report.outputs = try delete("DELETE FROM outbox WHERE entity = ? AND entity_key = ?", erasure.entity, connection)
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
