extension ChangelogRestore {
    /// Brings a standby copy up to the changelog's end and leaves it a
    /// replica: the records after its position are folded in; a file that
    /// was processed here and handed off whole continues from where its
    /// last commit reached the changelog; anything else is rebuilt.
    func catchUp() async throws -> Outcome {
        let (low, high) = try await watermarks()
        let replication = try store.replication()
        guard let start = try followPosition(replication), start >= low else {
            return try await rebuild(low: low, high: high, role: .replica)
        }
        guard start < high else {
            if replication.role != .replica { try store.setReplication(role: .replica, changelogNext: start) }
            return Outcome(kind: .current, changelogHasStore: true)
        }
        var outcome = try await foldTail(from: start, to: high, role: .replica)
        outcome.behind = high - start
        return outcome
    }

    /// Where a copy can follow the changelog from, if anywhere.
    private func followPosition(_ replication: StoreReplication) throws -> Int64? {
        switch replication.role {
        case .replica:
            return replication.changelogNext
        case .active:
            // Whole only if every commit of the file reached the changelog.
            guard let progress = try store.progress(), progress.nextOffset == replication.replicatedInput else { return nil }
            return replication.changelogNext
        case .restoring, nil:
            return nil
        }
    }
}
