import Foundation
import ShoalKafka
import Synchronization

/// A partition assigned to this node whose file is brought up to date with
/// the changelog before its shard starts. The partition stays paused
/// meanwhile; a revocation cancels the restore and waits for it.
final class RestoringPartition: Sendable {
    let partition: TopicPartition
    let store: PartitionStore
    private let task = Mutex<Task<Void, Never>?>(nil)
    /// The shard built once the file is current, until it is installed.
    private let shard = Mutex<Shard?>(nil)
    private let lost = Atomic<Bool>(false)

    init(partition: TopicPartition, store: PartitionStore) {
        self.partition = partition
        self.store = store
    }

    func start(_ body: @escaping @Sendable () async -> Void) {
        task.withLock { $0 = Task { await body() } }
    }

    /// Whether the partition was lost without a hand-off: another node may
    /// own it already, so nothing more goes to its changelog.
    var wasLost: Bool { lost.load(ordering: .relaxed) }

    /// Marks the partition lost; called under the node's lock, where the
    /// restore learns it is no longer installed, so it sees the mark too.
    func markLost() {
        lost.store(true, ordering: .relaxed)
    }

    /// Notes the shard being started, so that a loss can silence it.
    func built(_ built: Shard) {
        shard.withLock { $0 = built }
    }

    /// Cancels the restore, waits until it stopped, and closes the file.
    /// A lost partition was marked so (``markLost()``) when it was removed.
    func stop() async {
        let running = task.withLock { $0 }
        running?.cancel()
        if wasLost, let built = shard.withLock({ $0 }) { await built.persistence.stopReplicating() }
        await running?.value
        store.close()
    }
}

extension ShoalNode {
    /// Starts restoring `partition`'s file in the background; its shard
    /// starts once the file is current.
    func startRestore(_ partition: TopicPartition, store: PartitionStore, services: ShardServices) {
        let restoring = RestoringPartition(partition: partition, store: store)
        state.withLock { $0.restoring[partition] = restoring }
        metrics.restoringPartitions.increment()
        restoring.start { [self] in
            defer { metrics.restoringPartitions.decrement() }
            var backoff = Duration.milliseconds(500)
            while !Task.isCancelled {
                do {
                    try await restoreGate.run { try await restore(restoring, services: services) }
                    return
                } catch let error as ChangelogError where error.code == .kafka {
                    logger.warning("Restore failed; trying again", metadata: ["partition": "\(partition)", "error": "\(error)"])
                    metrics.restoreFailures.increment()
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("Cannot restore the partition's state: it stays paused and is not processed", metadata: [
                        "partition": "\(partition)", "error": "\(error)",
                    ])
                    metrics.restoreFailures.increment()
                    state.withLock { $0.unrestorable[partition] = "\(error)" }
                    return
                }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(10))
            }
        }
    }

    /// Restores the file, then starts the shard at the offset its state
    /// reflects and resumes the partition.
    private func restore(_ restoring: RestoringPartition, services: ShardServices) async throws {
        let partition = restoring.partition
        let store = restoring.store
        let started = ContinuousClock.now
        state.withLock { state in
            if state.restoreTotals.firstStart == nil { state.restoreTotals.firstStart = started }
        }
        let reader = try restoreReaders.borrow { try KafkaPartitionReader(client: configuration.client, logger: logger) }
        let outcome = try await ChangelogRestore(
            reader: reader,
            changelog: TopicPartition(configuration.changelogTopic, partition.partition), store: store,
            storeName: partition.topic, group: configuration.group, idleTimeout: configuration.changelog.readIdleTimeout,
            logger: logger
        ).run()
        // Only a reader whose reads all succeeded serves the next restore.
        restoreReaders.giveBack(reader)
        try Task.checkCancellation()
        let progress = try store.progress()
        if progress == nil { try await checkNothingWasProcessed(services.coPartitioning.inputs(of: partition)) }
        record(outcome, of: partition, took: ContinuousClock.now - started)
        try Task.checkCancellation()
        let writer = Int64.random(in: 1...Int64.max)
        try store.setReplication(role: .active, writer: writer)
        let shard = try Shard(lead: partition, services: services, store: store, progress: progress, writer: writer)
        shard.restoreTime(maxEventTime: progress?.maxEventTime, timers: try store.timers())
        restoring.built(shard)
        if restoring.wasLost { await shard.persistence.stopReplicating() }
        do {
            try Task.checkCancellation()
            if outcome.needsImage {
                await shard.persistence.writeImage()
            } else {
                await shard.persistence.restored(
                    image: outcome.image, imageBytes: outcome.imageBytes, bytesAfterImage: outcome.bytesAfterImage
                )
            }
            try Task.checkCancellation()
            await shard.persistence.resumePublishing()
            try await start(shard, after: restoring, at: services.inputStarts(of: partition, progress: progress))
        } catch {
            // Revoked meanwhile: what was published is marked and replicated
            // before the file goes to the next owner; lost: nothing more
            // goes to the changelog.
            _ = await shard.stop(replicating: !restoring.wasLost)
            throw error
        }
    }

    /// Moves the consumer to the restored offsets (every input of the
    /// shard's), installs the shard unless the partition was revoked
    /// meanwhile, and resumes its inputs.
    private func start(_ shard: Shard, after restoring: RestoringPartition, at starts: [TopicPartition: Int64]) async throws {
        let partition = shard.partition
        let inputs = shard.services.coPartitioning.inputs(of: partition)
        guard let consumer = state.withLock({ $0.consumer }) else { throw CancellationError() }
        // The assignment this restore follows may not have reached librdkafka yet.
        while !Set(inputs).isSubset(of: consumer.assignment) {
            try await Task.sleep(for: .milliseconds(10))
        }
        // Before the shard is installed: records fetched from the old
        // position never reach it.
        for (input, next) in starts where !consumer.reposition(input, to: next) { throw CancellationError() }
        let installed = state.withLock { state in
            guard !Task.isCancelled, state.restoring[partition] === restoring else { return false }
            state.restoring[partition] = nil
            state.shards[partition] = shard
            return true
        }
        guard installed else { throw CancellationError() }
        shard.wakeDueTimers(at: shard.currentClocks)
        consumer.resume(inputs)
        logger.info("Shards started", metadata: ["partitions": "\(inputs)", "starts": "\(starts)"])
    }

    /// A partition with no state in its file nor in the changelog is new
    /// only if the group never committed an offset for it; otherwise its
    /// state was lost, and processing on from the committed offset would
    /// fold new records onto empty state.
    private func checkNothingWasProcessed(_ inputs: [TopicPartition]) async throws {
        guard let consumer = state.withLock({ $0.consumer }) else { throw CancellationError() }
        let committed: [TopicPartition: Int64]
        do {
            committed = try await consumer.committedOffsets(inputs)
        } catch {
            throw ChangelogError(code: .kafka, reason: "\(inputs): reading the group's committed offsets failed: \(error)")
        }
        for partition in inputs {
            guard let offset = committed[partition], offset > 0 else { continue }
            throw ChangelogError(
                code: .stateMissing,
                reason: "\(partition): no state in the local file nor in the changelog \(configuration.changelogTopic), but the group committed offset \(offset): the state was lost; refusing to process onto empty state"
            )
        }
    }

    private func record(_ outcome: ChangelogRestore.Outcome, of partition: TopicPartition, took duration: Duration) {
        metrics.restores(outcome.kind.rawValue).increment()
        metrics.restoreRecords.increment(by: outcome.records)
        metrics.restoreBytes.increment(by: outcome.bytes)
        state.withLock { state in
            state.restoreTotals.partitions += 1
            state.restoreTotals.records += outcome.records
            state.restoreTotals.bytes += outcome.bytes
            if let first = state.restoreTotals.firstStart { state.restoreTotals.span = .now - first }
        }
        metrics.restoreDuration.record(duration)
        logger.info("Partition state restored", metadata: [
            "partition": "\(partition)", "kind": "\(outcome.kind.rawValue)", "records": "\(outcome.records)",
            "bytes": "\(outcome.bytes)", "duration": "\(duration)",
        ])
    }
}
