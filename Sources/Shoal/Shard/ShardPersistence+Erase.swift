extension ShardPersistence {
    /// After a commit that erased entities: the file is purged of their
    /// bytes, each erase is audited, and the changelog learns of it; the
    /// requesters are answered (`then`) once the image that follows the
    /// erase is delivered.
    func finishErasing(
        _ erased: [ErasureReport], commit: StoreCommit, outputs: [OutboxEntry], delivered: [OutputKey],
        then replicated: @escaping @Sendable () -> Void
    ) async {
        await purge()
        for report in erased { audit(report) }
        await replicateErasing(erased, commit, outputs: outputs, delivered: delivered, then: replicated)
    }

    /// Rewrites the file without the deleted bytes. A reader of the file
    /// (`APP state`) can hold its write-ahead log for a moment: a few
    /// tries, then the error is logged (the next erase purges again).
    private func purge() async {
        for attempt in 1...Self.purgeAttempts {
            do {
                try store.purgeFreedPages()
                return
            } catch {
                guard attempt < Self.purgeAttempts else {
                    logger.error("Cannot purge the partition's file after an erase", metadata: [
                        "partition": "\(partition)", "error": "\(error)",
                    ])
                    return
                }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    private static let purgeAttempts = 10

    /// An entity's journaled events in the file, read in the store's turn:
    /// after a commit under way.
    func journalEvents(of id: EntityID) async throws -> [(topic: String?, event: [UInt8])] {
        try await inTurn { Result { () throws(StoreError) in try store.journalEvents(of: id) } }.get()
    }

    /// Rewrites an entity's journaled events in the store's turn.
    func scrubJournal(of id: EntityID, _ scrubbed: @escaping @Sendable ([UInt8]) -> [UInt8]?) async throws {
        _ = try await inTurn { Result { () throws(StoreError) in try store.scrubJournal(of: id, scrubbed) } }.get()
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
