extension ShardPersistence {
    /// After a commit that erased entities: the file is purged of their
    /// bytes, each erase is audited, and the changelog learns of it; the
    /// requesters are answered (`then`) once the image that follows the
    /// erase is delivered.
    ///
    /// `release` gives the commit's permit back while a purge waits to try
    /// again, and `acquire` takes it for the next try.
    func finishErasing(
        _ erased: [ErasureReport], commit: StoreCommit, outputs: [OutboxEntry], delivered: [OutputKey],
        acquire: @Sendable () async -> Void, release: @Sendable () -> Void,
        then replicated: @escaping @Sendable () -> Void, unfinished: @escaping @Sendable (ShoalError) -> Void
    ) async {
        let purged = await purge(acquire: acquire, release: release)
        for report in erased { audit(report) }
        let partition = partition
        await replicateErasing(erased, commit, outputs: outputs, delivered: delivered) { complete in
            if purged && complete {
                replicated()
            } else {
                // Committed, not wholly done: the callers retry (a state-changing
                // call is answered from its first run, an erase runs again).
                unfinished(ShoalError(
                    code: .timedOut, reason: "\(partition): the erase committed, but its purge or changelog image did not finish: retry"
                ))
            }
        }
    }

    /// Rewrites the file without the deleted bytes. A reader of the file
    /// (`APP state`) can hold its write-ahead log for a moment: a few
    /// tries, then the error is logged (an erase again purges again).
    /// Between tries the commit permit goes back, so that other shards'
    /// commits do not wait on this file's reader.
    private func purge(acquire: @Sendable () async -> Void, release: @Sendable () -> Void) async -> Bool {
        for attempt in 1...Self.purgeAttempts {
            do {
                try store.purgeFreedPages(waitingForReaders: false)
                return true
            } catch {
                guard attempt < Self.purgeAttempts else {
                    logger.error("Cannot purge the partition's file after an erase", metadata: [
                        "partition": "\(partition)", "error": "\(error)",
                    ])
                    return false
                }
                release()
                try? await Task.sleep(for: Self.purgeRetryDelay)
                await acquire()
            }
        }
        return false
    }

    /// About 5 s of tries in all: a reader's read of the file is shorter.
    private static let purgeAttempts = 25
    private static let purgeRetryDelay = Duration.milliseconds(200)

    /// Runs `body` with the file in the store's turn: no commit is under
    /// way meanwhile, so a row is either pending or in the file, and a
    /// commit that failed has put its rows back into the pending ones.
    func inTurnDo<T: Sendable>(_ body: @Sendable (PartitionStore) throws -> T) async throws -> T {
        try await inTurn { Result { try body(store) } }.get()
    }

    /// An entity's journaled events in the file, read in the store's turn.
    func journalEvents(of id: EntityID) async throws -> [(topic: String?, event: [UInt8])] {
        try await inTurnDo { try $0.journalEvents(of: id) }
    }

    /// The audit line of one erase: who asked, when (the log's time), what
    /// kind of rows went and how many; never the key or the data.
    private func audit(_ report: ErasureReport) {
        logger.notice("Erased an entity", metadata: [
            "audit": "erase", "erase": "\(report.erasure.id)", "requester": "\(report.erasure.requester)",
            "entity": "\(report.erasure.entity.type)", "partition": "\(partition)",
            "snapshots": "\(report.snapshots)", "timers": "\(report.timers)", "journalRows": "\(report.journalRows)",
            "calls": "\(report.calls)", "outputs": "\(report.outputs)", "unpublished": "\(report.unpublished.count)",
        ])
    }
}
