import DequeModule
import Logging
import ShoalKafka
import Synchronization

/// A shard's durable side: it commits what the shard applied to the
/// partition's file and publishes the committed outputs in order, marking
/// them sent once the broker has them. An actor, so that commits of one
/// shard never overlap and outputs leave in commit order.
actor ShardPersistence {
    nonisolated let store: PartitionStore
    nonisolated let partition: TopicPartition
    let producer: KafkaProducer
    let logger: Logger
    private var toPublish: Deque<OutboxEntry> = []
    private var publishing = false
    let deliveries = DeliveryLedger()
    /// The start of every output id this shard publishes.
    private let outputIDPrefix: [UInt8]
    /// The next offset the file holds as applied (in a shard fed by
    /// several topics, the next position).
    private(set) var committedNext: Int64?
    /// In a shard fed by several topics, each topic's next offset the file
    /// holds as applied.
    private(set) var committedTopics: [String: Int64] = [:]
    /// The store error that stopped the partition's progress, if any.
    private(set) var fault: StoreError?
    /// Set once the hand-off closed the file: later checkpoints do nothing.
    private var finished = false
    /// Replication of the file's commits to the changelog, when enabled.
    var replicator: ChangelogReplicator?
    /// Set when the partition was lost: its commits reach no changelog.
    var replicationStopped = false
    /// The replicated position last written to the file.
    var recordedPosition: ChangelogPosition?
    let metrics: NodeMetrics
    /// Spans of the outputs sent, when the node traces.
    let tracing: RecordTracing?
    /// Whether a commit, hand-off or image is under way, and who waits for
    /// its turn (see `inTurn`).
    var turnTaken = false
    var turnWaiters: Deque<CheckedContinuation<Void, Never>> = []
    /// Set when a hand-off begins: past it nothing more is enqueued (what
    /// is committed stays in the file for the next owner), so a hand-off
    /// that waits for its turn behind a stuck send still ends in time.
    private var handOffDeadline: ContinuousClock.Instant?

    init(
        store: PartitionStore, partition: TopicPartition, producer: KafkaProducer, logger: Logger, committedNext: Int64?,
        committedTopics: [String: Int64] = [:], replicator: ChangelogReplicator? = nil, metrics: NodeMetrics = NodeMetrics(),
        tracing: RecordTracing? = nil
    ) {
        self.tracing = tracing
        self.committedTopics = committedTopics
        self.store = store
        self.partition = partition
        outputIDPrefix = OutputID.headerPrefix(of: partition)
        self.producer = producer
        self.logger = logger
        self.committedNext = committedNext
        self.replicator = replicator
        self.metrics = metrics
    }

    /// Each input partition's next offset the file holds as applied, for
    /// Kafka: the partition's own, or each topic's in a shard fed by several.
    var committedInputs: [TopicPartition: Int64] {
        guard committedTopics.isEmpty else {
            return Dictionary(uniqueKeysWithValues: committedTopics.map { (TopicPartition($0.key, partition.partition), $0.value) })
        }
        return committedNext.map { [partition: $0] } ?? [:]
    }

    /// Sends again what an earlier owner committed and never saw delivered.
    func resumePublishing() async {
        await inTurn { await publishPending() }
    }

    private func publishPending() async {
        do {
            let pending = try store.pendingOutputs(limit: .max)
            if !pending.isEmpty {
                logger.info("Publishing outputs left by the previous owner", metadata: [
                    "partition": "\(partition)", "count": "\(pending.count)",
                ])
            }
            await publish(pending)
        } catch {
            logger.error("Cannot read the outbox", metadata: ["partition": "\(partition)", "error": "\(error)"])
        }
    }

    /// Takes what the shard applied (with `take`, inside this actor, so that
    /// commits of the shard never reorder), commits it, then publishes its
    /// outputs. On a store error nothing of it is kept: `restore` hands it
    /// back to the shard for the next attempt. Returns whether it committed.
    ///
    /// `replicated` runs once the commit's changelog records are delivered
    /// (at once without a changelog); never for a commit that failed.
    ///
    /// `unread` is where the partition's input stands when no record of it
    /// was ever processed here (the consumer's next offset): changes
    /// without records (state-changing calls) commit at it, or wait for it.
    ///
    /// `acquire` runs first in the store's turn (a commit waiting for the
    /// turn waits without a permit of the node's); `written` runs once the
    /// commit's work in the file is done, before its outputs are published
    /// (not at all when nothing was committed). A purge after an erase that
    /// must wait for a reader of the file runs `written` before each wait
    /// and `acquire` after it.
    func checkpoint(
        take: @Sendable () -> (PendingCheckpoint, nextOffset: Int64?),
        restore: @Sendable (PendingCheckpoint) -> Void,
        replicated: @escaping @Sendable () -> Void = {},
        unfinished: @escaping @Sendable (ShoalError) -> Void = { _ in },
        unread: @Sendable () -> Int64? = { nil },
        acquire: @Sendable () async -> Void = {},
        written: @Sendable () -> Void = {}
    ) async -> Bool {
        await inTurn {
            await acquire()
            return await checkpointInTurn(
                take: take, restore: restore, replicated: replicated, unfinished: unfinished, unread: unread, acquire: acquire, written: written
            )
        }
    }

    /// `unfinished` runs instead of `replicated` for a commit that erased
    /// or scrubbed and could not finish that (purge, image): its callers
    /// hear a retryable error.
    private func checkpointInTurn(
        take: @Sendable () -> (PendingCheckpoint, nextOffset: Int64?),
        restore: @Sendable (PendingCheckpoint) -> Void,
        replicated: @escaping @Sendable () -> Void,
        unfinished: @escaping @Sendable (ShoalError) -> Void,
        unread: @Sendable () -> Int64?,
        acquire: @Sendable () async -> Void,
        written: @Sendable () -> Void
    ) async -> Bool {
        guard !finished else {
            replicated()
            return true
        }
        let (pending, nextOffset) = take()
        // Changes without any record behind them (state-changing calls on
        // a partition no record reached yet) claim where the consumer
        // stands: no record before it is this file's to process.
        let next = nextOffset ?? committedNext ?? (pending.isEmpty ? nil : unread())
        if next == nil, !pending.isEmpty {
            // Not known yet: they wait for the next checkpoint.
            restore(pending)
            return true
        }
        // Nothing applied and no place to commit at: deliveries wait too.
        guard let next else {
            replicated()
            return true
        }
        let (delivered, deliveredKeys, position) = deliveries.withLock { deliveries in
            defer { deliveries.sent = []; deliveries.sentKeys = [] }
            return (deliveries.sent, deliveries.sentKeys, deliveries.replicated)
        }
        guard !pending.isEmpty || next != committedNext || !delivered.isEmpty else {
            replicated()
            return true
        }
        let outputs: [OutboxEntry]
        var commit = storeCommit(pending, next)
        commit.delivered = delivered
        if position != recordedPosition { commit.replicated = position }
        var erased: [ErasureReport] = []
        do {
            outputs = try store.commit(commit, erased: &erased)
        } catch {
            restore(pending)
            deliveries.withLock {
                $0.sent = delivered + $0.sent
                $0.sentKeys = deliveredKeys + $0.sentKeys
            }
            if fault == nil {
                logger.error("Commit to the partition's file failed: the partition stops until it succeeds", metadata: [
                    "partition": "\(partition)", "error": "\(error)",
                ])
            }
            fault = error
            return false
        }
        committedNext = next
        if !commit.topicOffsets.isEmpty { committedTopics = commit.topicOffsets }
        recordedPosition = commit.replicated ?? recordedPosition
        if fault != nil {
            logger.notice("The partition's file accepts commits again", metadata: ["partition": "\(partition)"])
        }
        fault = nil
        guard !commit.purge else {
            await finishErasing(
                erased, commit: commit, outputs: outputs, delivered: deliveredKeys, acquire: acquire, release: written,
                then: replicated, unfinished: unfinished
            )
            written()
            await publish(outputs)
            return true
        }
        await replicate(commit, outputs: outputs, delivered: deliveredKeys, then: replicated)
        // Publishing waits on no file: the next shard's commit may start.
        written()
        await publish(outputs)
        return true
    }

    /// Marks delivered outputs at a hand-off, the file's last write; on
    /// failure they stay unmarked, and the next owner sends them again
    /// (readers drop repeats by their id).
    private func markSent(_ delivered: [Int64]) {
        do {
            try store.markSent(delivered)
        } catch {
            deliveries.withLock { $0.sent = delivered + $0.sent }
        }
    }

    private func storeCommit(_ pending: PendingCheckpoint, _ next: Int64) -> StoreCommit {
        var commit = StoreCommit(nextOffset: next)
        commit.journal = pending.journal
        commit.calls = pending.calls
        commit.outputs = pending.outputs
        commit.snapshots = pending.snapshots.values.sorted { ($0.entity, $0.key) < ($1.entity, $1.key) }
        commit.timers = pending.timers.map { StoredTimers(entity: $0.key.type, key: $0.key.key, timers: $0.value) }
        commit.maxEventTime = pending.maxEventTime
        commit.expired = pending.expired.keys.sorted { ($0.type, $0.key) < ($1.type, $1.key) }
        commit.topicOffsets = pending.topicOffsets
        commit.erased = pending.erased
        commit.purge = pending.purge || !pending.erased.isEmpty
        return commit
    }

    /// Deletes journal rows older than the last `retention` offsets.
    func trimJournal(keeping retention: Int64) {
        guard let committedNext, committedNext > retention else { return }
        do {
            try store.trim(before: committedNext - retention)
        } catch {
            logger.warning("Journal retention could not trim", metadata: ["partition": "\(partition)", "error": "\(error)"])
        }
    }

    /// Sends outputs in order; one loop at a time, so order holds across commits.
    private func publish(_ outputs: [OutboxEntry]) async {
        toPublish.append(contentsOf: outputs)
        guard !publishing else { return }
        publishing = true
        defer { publishing = false }
        while let output = toPublish.popFirst() {
            if handOffIsDue {
                toPublish.removeAll()  // still in the outbox, for the next owner
                return
            }
            await send(output)
        }
    }

    private func send(_ output: OutboxEntry) async {
        guard let id = output.id else { return }
        let key = OutputKey(sourceOffset: output.sourceOffset, position: output.position)
        let stored = output.decodedHeaders
        if stored == nil {
            let outputID = OutputID(source: partition, offset: output.sourceOffset, position: output.position)
            logger.error("An output's stored headers do not decode: published without them", metadata: ["output": "\(outputID)"])
        }
        var headers = stored ?? []
        let span = tracing?.sendSpan(topic: output.topic, headers: &headers)
        headers.append(KafkaHeader(
            key: OutputID.header, value: OutputID.headerValue(prefix: outputIDPrefix, offset: output.sourceOffset, position: output.position)
        ))
        let message = KafkaProducerMessage(
            topic: output.topic, partition: output.partition, key: output.key, value: output.value,
            headers: headers, timestamp: output.timestamp
        )
        deliveries.withLock { $0.inFlight += 1 }
        let logger = self.logger
        do {
            try await producer.enqueue(message) { [deliveries] result in
                if let span {
                    if case .failure(let error) = result { span.recordError(error) }
                    span.end()
                }
                deliveries.withLock { deliveries in
                    deliveries.inFlight -= 1
                    if case .success = result {
                        deliveries.sent.append(id)
                        deliveries.sentKeys.append(key)
                    }
                }
                if case .failure(let error) = result {
                    logger.error("Output not delivered; it stays in the outbox", metadata: ["error": "\(error)"])
                }
            }
        } catch {
            span?.recordError(error)
            span?.end()
            deliveries.withLock { $0.inFlight -= 1 }
            logger.error("Output not sent; it stays in the outbox", metadata: ["error": "\(error)"])
        }
    }

    /// Waits until every published output is delivered or `timeout` passes,
    /// then marks the delivered ones sent and closes the file.
    func finish(timeout: Duration) async {
        await inTurn { await finishInTurn(timeout: timeout) }
    }

    /// Starts a hand-off: publishing and replication stop enqueueing
    /// `timeout` from now, and `finish` ends then at the latest.
    func beginHandOff(timeout: Duration) {
        handOffDeadline = handOffDeadline ?? .now + timeout
    }

    /// Whether a hand-off's deadline passed.
    /// Checked before each record sent: outside a hand-off, a nil check.
    var handOffIsDue: Bool {
        handOffDeadline.map { .now >= $0 } ?? false
    }

    private func finishInTurn(timeout: Duration) async {
        let deadline = handOffDeadline ?? ContinuousClock.now + timeout
        await drain(until: deadline)
        let (delivered, deliveredKeys) = deliveries.withLock { deliveries in
            defer { deliveries.sent = []; deliveries.sentKeys = [] }
            return (deliveries.sent, deliveries.sentKeys)
        }
        markSent(delivered)
        // The next owner restores from the changelog: it learns of these
        // deliveries (or, after a lost record, of the whole file) only if
        // they are replicated before the file is handed over.
        if await replicateHandOff(delivered: deliveredKeys) { await drain(until: deadline) }
        recordReplicatedPosition()
        finished = true
        store.close()
    }

    private func drain(until deadline: ContinuousClock.Instant) async {
        while deliveries.withLock({ $0.inFlight > 0 }) || publishing, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// Outputs handed to the producer and not yet confirmed, and the ids of
/// those delivered since the last commit. Written from the producer's thread.
final class DeliveryLedger: Sendable {
    struct Deliveries {
        var sent: [Int64] = []
        /// The same outputs by identity, for the changelog's tombstones.
        var sentKeys: [OutputKey] = []
        var inFlight = 0
        /// The newest changelog progress record delivered, if any.
        var replicated: ChangelogPosition?
        /// Set when a changelog record was not delivered: the changelog
        /// then has a gap, which the next full image closes.
        var replicationFailed = false
        /// Where the last complete image starts: every progress record
        /// names it, so that a restore can begin there.
        var lastImage: Int64?
    }

    private let state = Mutex(Deliveries())

    func withLock<T>(_ body: (inout Deliveries) -> T) -> T {
        state.withLock { body(&$0) }
    }
}
