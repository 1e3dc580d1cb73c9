extension PartitionStore {
    /// Whether the file may hold a snapshot of the entity: false is certain.
    /// The filter is built from the file on first use (one scan of the
    /// snapshots' keys) and again, larger, once it holds too many keys.
    func mayHaveSnapshot(entity: String, key: String) throws(StoreError) -> Bool {
        guard filtersSnapshotKeys else { return true }
        if let answer = snapshotKeys.withLock({ $0?.mayContain(entity: entity, key: key) }) { return answer }
        try withConnection { connection throws(StoreError) in try buildSnapshotKeys(connection) }
        return snapshotKeys.withLock { $0?.mayContain(entity: entity, key: key) } ?? true
    }

    /// Adds the keys of snapshots being written (inside the commit's
    /// transaction, before any later lookup); a filter grown too full is
    /// dropped, to be built larger at the next lookup. A transaction that
    /// rolls back leaves keys that are not in the file: a "maybe" too many.
    func noteSnapshotKeys(_ snapshots: [Snapshot]) {
        guard filtersSnapshotKeys, !snapshots.isEmpty else { return }
        snapshotKeys.withLock { filter in
            guard filter != nil else { return }
            for snapshot in snapshots { filter?.insert(entity: snapshot.entity, key: snapshot.key) }
            if filter?.isFull == true { filter = nil }
        }
    }

    /// Scans the file's snapshot keys into a filter with room to double.
    private func buildSnapshotKeys(_ connection: Connection) throws(StoreError) {
        let count = try connection.statement("SELECT count(*) FROM snapshots")
        defer { count.reset() }
        guard try count.step() else { return }
        var filter = SnapshotKeyFilter(capacity: Int(count.int64(0)) * 2)
        let keys = try connection.statement("SELECT entity, key FROM snapshots")
        defer { keys.reset() }
        while try keys.step() { filter.insert(entity: keys.string(0), key: keys.string(1)) }
        snapshotKeys.withLock { $0 = filter }
    }
}
