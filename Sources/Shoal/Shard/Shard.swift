import DequeModule
import Foundation
import Logging
import Metrics
import ShoalKafka
import Synchronization

/// What a shard uses of its node.
struct ShardServices: Sendable {
    let system: ShoalActorSystem
    let producer: KafkaProducer
    let deadLetters: DeadLetters
    let configuration: ShoalNodeConfiguration
    let logger: Logger
    let routes: [String: Route]
    /// Which topics feed one shard.
    let coPartitioning: CoPartitioning
    /// Pauses (`true`) or resumes the shard's partition.
    let setPaused: @Sendable (TopicPartition, Bool) -> Void
    let metrics: NodeMetrics
    /// Where commits are replicated, when they are.
    let changelog: ChangelogTarget?
    /// Where keys belong, and where misplaced records are forwarded.
    var placement: ShardPlacement = .unchecked
    /// Where handlers' table lookups are answered.
    var tables: any TableLookup = NoTables()
    /// Records of an input partition the consumer knows of and has not
    /// delivered yet (nil: unknown).
    var inputLag: @Sendable (TopicPartition) -> Int64? = { _ in 0 }
    /// The next offset the consumer delivers from a partition, when known.
    var inputNext: @Sendable (TopicPartition) -> Int64? = { _ in nil }
    /// Spans of handler turns and sent outputs; nil when nothing traces.
    var tracing: RecordTracing?
}

/// Owns one partition: routes its records by key to entity mailboxes, runs
/// each entity's mailbox in order (different keys concurrently), tracks the
/// offset below which every record's effects are complete, and pauses the
/// partition while too many records wait.
final class Shard: Sendable {
    let partition: TopicPartition
    let services: ShardServices
    let state: Mutex<ShardState>
    let persistence: ShardPersistence
    let consumerPause = ConsumerPause()
    /// Whether several topics feed the shard (see ``ShardSources``).
    let isShared: Bool
    /// The partitions that feed the shard, lead first.
    let inputs: [TopicPartition]

    /// A shard over the partition's open `store`, resuming at `startOffset`
    /// (the file's next offset, or Kafka's committed offset for a new file).
    /// A shard fed by several topics has `sources`, and `startOffset` is
    /// then the next position in its order.
    init(
        partition: TopicPartition, services: ShardServices, store: PartitionStore, startOffset: Int64?,
        sources: ShardSources? = nil, writer: Int64 = 0
    ) {
        self.partition = partition
        self.services = services
        isShared = sources != nil
        inputs = services.coPartitioning.inputs(of: partition)
        var initial = ShardState()
        initial.tracker = OffsetTracker(startingAt: startOffset)
        initial.sources = sources
        if sources != nil {
            initial.aligner = ShardAligner(
                topics: inputs.map(\.topic), maxWait: services.configuration.alignmentWait, quiet: Set(services.placement.repartitionTopics.values)
            )
        }
        state = Mutex(initial)
        persistence = ShardPersistence(
            store: store, partition: partition, producer: services.producer, logger: services.logger,
            committedNext: startOffset, committedTopics: sources?.consumed ?? [:],
            replicator: services.changelog.map { ChangelogReplicator(target: $0, partition: partition, writer: writer) },
            metrics: services.metrics, tracing: services.tracing
        )
    }

    /// Commits what was applied since the last checkpoint; while the file
    /// refuses commits the partition stays paused and nothing is lost.
    /// `acquire` runs when the commit's turn in the file comes, `written`
    /// when its work in the file is done, before its outputs are published.
    func checkpoint(acquire: @Sendable () async -> Void = {}, written: @Sendable () -> Void = {}) async {
        // State-changing calls are answered once their change is in the file
        // and in the changelog, from which another machine would restore it.
        let replies = ReplyBatch()
        let committed = await persistence.checkpoint(
            take: { [self] in
                state.withLock { state in
                    replies.fill(state.awaitingCommit)
                    state.awaitingCommit = [:]
                    state.replicating.append(replies)
                    return state.takeCheckpoint()
                }
            },
            restore: { [self] failed in
                state.withLock { state in
                    state.restoreFailedCheckpoint(failed)
                    state.awaitingCommit.merge(replies.takeBack()) { AwaitedReply(outcome: $0.outcome, replies: $0.replies + $1.replies) }
                    state.replicating.removeAll { $0 === replies }
                }
            },
            replicated: { [self] in
                state.withLock { $0.replicating.removeAll { $0 === replies } }
                replies.send()
            },
            unfinished: { [self] error in
                state.withLock { $0.replicating.removeAll { $0 === replies } }
                replies.fail(error)
            },
            // A shard of several topics numbers positions of its own: its
            // call changes wait for a record.
            unread: { [self] in isShared ? nil : services.inputNext(partition) },
            acquire: acquire, written: written
        )
        setFaulted(!committed)
    }

    /// What the commit loop decides on, read in one round trip of the
    /// shard's lock (which its handlers contend for): whether a commit
    /// would write anything (what the shard applied or answered since the
    /// last one, or deliveries to mark), how many records wait in it, and
    /// whether its file refused the last commit.
    var commitOutlook: CommitOutlook {
        var outlook = state.withLock { state in
            CommitOutlook(
                hasWork: state.hasWorkToCommit, buffered: state.waitingRecords, faulted: state.faulted
            )
        }
        if !outlook.hasWork { outlook.hasWork = persistence.deliveries.withLock { !$0.sent.isEmpty } }
        return outlook
    }

    private func setFaulted(_ faulted: Bool) {
        let changed = state.withLock { state -> Bool in
            state.committing = [:]
            state.committingExpired = []
            guard state.faulted != faulted else { return false }
            state.faulted = faulted
            if faulted {
                services.metrics.storeFaults.increment()
                defer { state.paused = true }
                return !state.paused
            }
            return state.resumeIfDrained(low: services.configuration.backpressure.lowWatermark)
        }
        if changed { syncPause() }
    }

    /// Brings the consumer's pause of the partition to the state's decision
    /// (a stopping shard's partition is left to the hand-off).
    func syncPause() {
        consumerPause.sync(to: { state.withLock { $0.stopping ? nil : $0.paused } }) { paused in
            services.setPaused(partition, paused)
            if !paused { services.logger.debug("Shard drained: partition resumed", metadata: ["partition": "\(partition)"]) }
        }
    }

    /// Takes a batch of the partition's records, in offset order (a shard
    /// fed by several topics merges them by event time first, see
    /// ``ShardAligner``).
    func accept(_ records: [KafkaRecord]) {
        // A wake-up after the shard stopped has nothing to do.
        if records.isEmpty, state.withLock({ $0.stopping }) { return }
        let prepared = prepare(records)
        let pending = isShared ? pendingInputs() : []
        var waking = false
        let leadRoute = services.routes[partition.topic]
        var failed: [(KafkaRecord, String)] = []
        var tooLate: [(KafkaRecord, LateEvents, String)] = []
        var forwarded = 0
        var misplacedLetters = 0
        var resumed = false
        let now = EventTime(Date())
        let (starts, pause) = state.withLock { state -> ([EntityID], Bool) in
            guard !state.stopping else { return ([], false) }
            var starts: [EntityID] = []
            var taken = prepared
            if state.aligner != nil {
                let arrived = ContinuousClock.now
                state.aligner?.add(prepared, now: arrived)
                let released = state.aligner?.release(pending: pending, now: arrived)
                taken = released?.ready ?? []
                if released?.waiting == true, !state.alignmentWakeArmed {
                    state.alignmentWakeArmed = true
                    waking = true
                }
            }
            for (received, outcome) in taken {
                var origin: SourceOffset?
                if case .event(_, _, _, _, let from) = outcome { origin = from }
                let record = state.sources?.place(received, origin: origin) ?? received
                state.tracker.begin(record.offset)
                state.buffered += 1
                switch outcome {
                case .failed(let reason):
                    failed.append((record, reason))
                case .misplaced(let topic?, let belongs, _):
                    // Forwarded with the next commit, as an output of the record.
                    state.pending.outputs.append(Self.forward(received, to: topic, partition: belongs, at: record.offset))
                    if complete(record.offset, &state) { resumed = true }
                    forwarded += 1
                case .misplaced(nil, _, let reason):
                    failed.append((record, reason))
                    misplacedLetters += 1
                case .event(let route, let key, let event, let time, _):
                    // One clock per shard, its lead topic's bounds, whichever topic advances it.
                    let moment = state.advanceClock(leadRoute ?? route, time, now: now)
                    state.clockMarks.mark(record.offset, state.clock?.maxEventTime, clocks: moment.moment.after)
                    if let reason = moment.tooLate, route.late != .apply {
                        tooLate.append((record, route.late, reason))
                    } else {
                        let id = EntityID(type: route.entity.name, key: key)
                        if state.enqueue(.record(record, route, event, moment.moment), for: id, descriptor: route.entity) {
                            starts.append(id)
                        }
                    }
                    // The timers this record's clocks pass fall due here:
                    // their entities get a turn after the records before.
                    starts += state.wakeCrossed(at: moment.moment.after, position: record.offset, descriptor: descriptor(of:))
                }
            }
            let pause = state.pauseIfFull(high: services.configuration.backpressure.highWatermark)
            return (starts, pause)
        }
        if pause || resumed { syncPause() }
        if waking { wakeAligner() }
        services.metrics.recordsIn.increment(by: records.count)
        if forwarded > 0 { services.metrics.misplaced("repartitioned").increment(by: forwarded) }
        if misplacedLetters > 0 { services.metrics.misplaced("dead_lettered").increment(by: misplacedLetters) }
        if pause { services.logger.debug("Shard full: partition paused", metadata: ["partition": "\(partition)"]) }
        for (record, reason) in failed {
            Task { await deadLetter(record, reason: reason) }
        }
        for (record, policy, reason) in tooLate {
            Task { await setAside(record, policy: policy, reason: reason) }
        }
        for id in starts {
            Task { await drain(id) }
        }
    }

    /// Marks a record's effects complete; resumes the partition when drained enough.
    func complete(_ offset: Int64) {
        if state.withLock({ state in complete(offset, &state) }) { syncPause() }
    }

    /// What the drainer of an applied record learns in the same lock.
    struct AppliedTurn {
        /// The resident entity.
        var entity: any Entity
        /// Whether a timer of it fell due by the record.
        var timersDue: Bool
        /// The mailbox's next work, when asked for and no timer is due:
        /// taken in this lock instead of a round trip of its own.
        var next: ShardState.MailboxNext?
    }

    /// Records an applied record with its outputs and its entity's state
    /// after it, for the next commit, and completes it, after the records
    /// its mailbox held for this state (see `Shard+HeldRecords`). Returns,
    /// read in the same lock, the resident entity, whether a timer of it
    /// fell due by the record, and with `takingNext`, the mailbox's next
    /// work (nil when the entity is not resident).
    @discardableResult
    func applied(
        _ record: KafkaRecord, to id: EntityID, outputs: [KafkaProducerMessage], snapshot: Snapshot, timerChanges: [TimerChange] = [],
        reads: [TableRead] = [], takingNext: Bool = false
    ) -> AppliedTurn? {
        var resumed = false
        defer { if resumed { syncPause() } }
        return state.withLock { state in
            // Looked up once: the mailbox is a class, and stays in the table in this lock.
            let mailbox = state.mailboxes[id]
            if let mailbox, !mailbox.held.isEmpty {
                for held in mailbox.held {
                    state.pending.add(held.record, to: id, outputs: held.outputs, snapshot: nil, reads: held.reads)
                    if complete(held.record.offset, &state) { resumed = true }
                }
                mailbox.held = []
            }
            // The held records' expiries, set already, are written with this state.
            let heldTimers = mailbox?.expiryBeforeHeld != nil
            mailbox?.expiryBeforeHeld = nil
            // One lock: a commit never holds the record's timers without
            // its state, nor its state without its timers. A timer set here
            // falls due at the first record from this one whose clocks pass
            // it, if the shard has taken that record in already.
            if !timerChanges.isEmpty || heldTimers {
                state.changeTimers(timerChanges, of: id, from: record.offset)
                // One that fell due at a later record fires in a turn of its own.
                _ = state.wakeIfCrossed(id, descriptor: descriptor(of:))
            }
            var snapshot = snapshot
            let source = state.sources?.source(of: record.offset)
            if let source, let mailbox {
                mailbox.sources[source.stream] = source.offset
                snapshot.sources = mailbox.sources
            }
            snapshot.calls = mailbox?.calls ?? []
            state.pending.add(record, to: id, outputs: outputs, snapshot: snapshot, source: source, reads: reads)
            mailbox?.appliedOffset = record.offset
            mailbox?.firings = 0
            if complete(record.offset, &state) { resumed = true }
            guard let entity = mailbox?.entity else { return nil }
            let timersDue = state.timers.hasCrossed(id, before: record.offset + 1)
            return AppliedTurn(entity: entity, timersDue: timersDue, next: takingNext && !timersDue ? state.next(for: id) : nil)
        }
    }

    /// Returns whether the partition is to resume (the caller syncs the
    /// consumer's pause once out of the lock).
    func complete(_ offset: Int64, _ state: inout ShardState) -> Bool {
        state.tracker.complete(offset)
        state.buffered -= 1
        let resumed = state.resumeIfDrained(low: services.configuration.backpressure.lowWatermark)
        state.wakeIdleWaitersIfIdle()
        return resumed
    }

    /// The next offset to commit: every record before it is complete.
    var committable: Int64? { state.withLock { $0.tracker.committable } }

    var residentCount: Int { state.withLock { $0.residentCount } }

    var isFaulted: Bool { state.withLock { $0.faulted } }

    /// Records accepted and not yet complete (see `ShardState.waitingRecords`).
    var bufferedCount: Int { state.withLock(\.waitingRecords) }

    /// Sends the record to the dead-letter topic, retrying while the shard
    /// runs; it completes once delivered. Undelivered, it stays unfinished:
    /// the file's offset stops below it (other records go on), so after a
    /// restart or hand-off it is dead-lettered again rather than lost.
    func deadLetter(_ record: KafkaRecord, reason: String) async {
        if await deliverDeadLetter(record, reason: reason) {
            complete(record.offset)
        } else {
            abandonUndelivered(record.offset)
        }
    }

    /// Sends `letter` to the dead-letter topic, retrying with back-off while
    /// the shard runs; false when it stopped first.
    func deliverDeadLetter(_ placed: KafkaRecord, reason: String) async -> Bool {
        let letter = state.withLock { $0.sources?.original(placed) } ?? placed
        var backoff = Duration.milliseconds(100)
        while true {
            do {
                try await services.deadLetters.send(letter, reason: reason)
                return true
            } catch {
                services.logger.error("Dead letter not delivered; retrying", metadata: [
                    "offset": "\(letter.offset)", "partition": "\(partition)", "error": "\(error)",
                ])
            }
            guard !state.withLock({ $0.stopping }) else { return false }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(5))
        }
    }

    /// Leaves a record the shard could not finish to the next owner.
    private func abandonUndelivered(_ offset: Int64) {
        state.withLock { state in
            state.tracker.abandon([offset])
            state.buffered -= 1
            state.wakeIdleWaitersIfIdle()
        }
    }
}
