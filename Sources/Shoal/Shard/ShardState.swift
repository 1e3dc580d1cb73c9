import DequeModule
import Synchronization
import ShoalKafka

/// One unit of an entity's mailbox.
enum MailboxWork: Sendable {
    /// A record, its decoded event, and where it stands in event time.
    case record(KafkaRecord, Route, any Sendable, EntityDispatch.Moment)
    /// Fire the entity's timers that fell due at or before the record at
    /// `upTo` (a clock passed one of them there); later ones wait for their
    /// own turn, after the entity's records before them.
    case timers(upTo: Int64)
    /// A distributed call, where its outcome goes, and where it was queued
    /// (the journal places it there, and its clocks are those of then).
    case call(EntityCall, CallReply, CallPlace)
}

extension Deque<MailboxWork> {
    var startsWithRecord: Bool {
        if case .record? = first { return true }
        return false
    }
}

/// An entity's mailbox: its pending work in order, and its actor while resident.
/// Hand-written (a Deque under the shard's lock, drained by a task only while
/// it has work) because it is clearly faster than a library channel per key:
/// 7.8 M messages/s against 1.4 M for AsyncStream and 0.9 M for AsyncChannel
/// in `ShoalBenchmarks mailbox` (docs/benchmarks.md).
///
/// A class, changed in place: as a struct, each read of one of its fields
/// (`mailboxes[id]?.entity`) copied the whole mailbox out of the dictionary
/// and back (queue, entity and descriptor retained and released: about 6%
/// of a node's time in `perf`, `ShoalBenchmarks node-throughput`).
// @unchecked Sendable: a mailbox lives in `ShardState`, which only the
// shard's `Mutex` hands out; it is read and changed under that lock only.
final class Mailbox: @unchecked Sendable {
    var queue: Deque<MailboxWork> = []
    var entity: (any Entity)?
    /// Whether a drainer (a task, or a caller running its own call) is
    /// draining this mailbox now.
    var running = false
    var lastUsed = ContinuousClock.now
    /// The offset of the last record the entity's state reflects: a record
    /// at or before it was applied already (it comes again after a restart
    /// from the file's offset, when other keys lagged behind).
    var appliedOffset: Int64?
    /// Timers fired since the record at `appliedOffset`.
    var firings: Int64 = 0
    /// In a shard fed by several topics, the offset of the entity's last
    /// record of each topic its state reflects (see ``Snapshot/sources``).
    var sources: [String: Int64] = [:]
    /// The latest calls that changed the state (see ``Snapshot/calls``).
    var calls: [RecentCall] = []
    /// Records applied whose state is not encoded yet: the entity's next
    /// record, queued behind them, writes the state for all (see
    /// `Shard+HeldRecords`). Not complete until then.
    var held: [HeldRecord] = []
    /// The entity's state expiry before the first held record moved it
    /// (held records' expiries are set at once, written with the state
    /// after them; nil inside: it had none): put back when the run is
    /// given back.
    var expiryBeforeHeld: EntityTimer??
    /// Records at the queue's front that run with their state encoded,
    /// not held for the next one: a held run given back.
    var unheld = 0
    let descriptor: EntityDescriptor

    init(descriptor: EntityDescriptor) {
        self.descriptor = descriptor
    }

    /// No drainer runs it and nothing waits in it.
    var isIdle: Bool { !running && queue.isEmpty }

    /// Queues work; `start` is set when no task drains the mailbox yet.
    func enqueue(_ work: MailboxWork, start: inout Bool) {
        queue.append(work)
        start = !running
        running = true
    }
}

/// A mailbox's next work and what its turn needs to know, read with it in
/// one lock (each lock round trip is contended by the shard's other
/// threads): the resident entity, the offset its state reflects, and for a
/// record whether a timer of the entity fell due before it. A timer can
/// only fall due before the record from records taken in earlier, so the
/// answer holds until the turn runs.
///
/// `holds`: the record's state may be held for the entity's next record,
/// which is queued right behind it and needs no timer first; `afterHeld`:
/// records before it are held (see `Shard+HeldRecords`).
typealias MailboxTurn = (
    work: MailboxWork, entity: (any Entity)?, descriptor: EntityDescriptor, appliedOffset: Int64?, timersDue: Bool,
    holds: Bool, afterHeld: Bool
)

/// A shard's state, under its lock.
struct ShardState: Sendable {
    var mailboxes: [EntityID: Mailbox] = [:]
    var tracker = OffsetTracker()
    /// Records accepted and not yet complete.
    var buffered = 0
    var paused = false
    /// Whether the partition's file refuses commits: intake stops until it accepts them.
    var faulted = false
    var stopping = false
    /// Applied and not yet committed.
    var pending = PendingCheckpoint()
    /// The offset the last commit taken claimed (nil after a failed one):
    /// while `committable` stays there, a commit would claim nothing new.
    var lastTakenNext: Int64?
    /// Snapshots of the commit under way, until it is done.
    var committing: [EntityID: Snapshot] = [:]
    var committingExpired: Set<EntityID> = []
    /// Replies to state-changing calls applied and not taken by a commit
    /// yet, by entity and call id.
    var awaitingCommit: [CallKey: AwaitedReply] = [:]
    /// The replies of commits under way or not yet replicated.
    var replicating: [ReplyBatch] = []
    var idleWaiters: [CheckedContinuation<Void, Never>] = []
    /// The partition's event-time clock, from its route, once a record came.
    var clock: PartitionClock?
    var clockMarks = ClockMarks(restoring: nil)
    /// The crossing positions of the firings running now (how many at each).
    var firingFrom: [Int64: Int] = [:]
    var timers = ShardTimers()
    /// The shard's own order of records, when several topics feed it.
    var sources: ShardSources?
    /// The event-time merge of those topics' records.
    var aligner: ShardAligner?
    /// A turn is due after the aligner's wait (one at a time).
    var alignmentWakeArmed = false

    /// Queues work; returns true when the mailbox needs a task to drain it.
    mutating func enqueue(_ work: MailboxWork, for id: EntityID, descriptor: EntityDescriptor) -> Bool {
        var start = false
        if let mailbox = mailboxes[id] {
            mailbox.enqueue(work, start: &start)
        } else {
            let mailbox = Mailbox(descriptor: descriptor)
            mailbox.enqueue(work, start: &start)
            mailboxes[id] = mailbox
        }
        return start
    }

    /// What a mailbox's drainer does next.
    enum MailboxNext {
        case turn(MailboxTurn)
        /// Records are held and no record follows them any more (the shard
        /// stopping took its queue back): they go to the next commit with
        /// the entity's state as it is (the mailbox stays the drainer's).
        case writeHeld
        /// Nothing left: the drainer stops.
        case idle
    }

    /// The next work of a mailbox, with what the turn needs to know, read
    /// in the same lock (see `MailboxTurn`).
    mutating func next(for id: EntityID) -> MailboxNext {
        guard let mailbox = mailboxes[id] else { return .idle }
        if !mailbox.held.isEmpty, !mailbox.queue.startsWithRecord { return .writeHeld }
        guard let work = mailbox.queue.popFirst() else {
            // An idle mailbox keeps no queue buffer: with the descriptor
            // shared (a class), resident entities went from 1,257 to 712
            // bytes each in `ShoalBenchmarks entity-memory`.
            mailbox.queue = []
            mailbox.running = false
            mailbox.lastUsed = .now
            if mailbox.entity == nil { mailboxes[id] = nil }
            wakeIdleWaitersIfIdle()
            return .idle
        }
        guard case .record(let record, let route, _, let moment) = work else {
            return .turn((work, mailbox.entity, mailbox.descriptor, mailbox.appliedOffset, false, false, false))
        }
        let timersDue = timers.hasCrossed(id, before: record.offset, beforeRecord: true)
        let turn = (work, mailbox.entity, mailbox.descriptor, mailbox.appliedOffset, timersDue, holds(record, at: moment, in: mailbox, of: id, route: route), !mailbox.held.isEmpty)
        return .turn(turn)
    }

    /// Applies an entity's timer changes made at `position`: a timer set
    /// falls due at the first record from there whose clocks pass it, if
    /// the shard has taken that record in already. `writing`: its timers
    /// now go to the next commit (a held record's wait for its run's end).
    mutating func changeTimers(_ changes: [TimerChange], of id: EntityID, from position: Int64, writing: Bool = true) {
        let marks = clockMarks
        timers.replace(id, with: changes) { marks.crossing(of: $0, from: position) }
        if writing { pending.timers[id] = timers.timers(of: id).all }
    }

    /// Records in a run at most: the first `maxHeld - 1` held, the last
    /// one's state written for all (the committable offset waits for it).
    static let maxHeld = 32

    /// Whether the record just taken from `mailbox` (of `route`) may leave
    /// its state to the next record: that one is queued, no timer of the
    /// entity falls due before it, its state's expiry included (its turn
    /// starts with the held state), the handler is synchronous (one that
    /// waits on another entity could wait on work that waits for the held
    /// record to complete: an erase waits for the committable offset; the
    /// next record, of the same topic, has the same route), and the shard
    /// is fed by one topic (a snapshot there also carries each topic's
    /// offset). A held record's move of the state's expiry is set at once
    /// and written with the state after the run (`Shard.holdRecord`).
    private func holds(_ record: KafkaRecord, at moment: EntityDispatch.Moment, in mailbox: Mailbox, of id: EntityID, route: Route) -> Bool {
        if mailbox.unheld > 0 {
            mailbox.unheld -= 1
            return false
        }
        guard mailbox.held.count + 1 < Self.maxHeld, sources == nil, route.isSynchronous,
              case .record(let next, _, _, _)? = mailbox.queue.first else { return false }
        guard !timers.hasCrossed(id, before: next.offset, beforeRecord: true) else { return false }
        // Nor the expiry this record sets (an entity without one yet, say).
        guard let timeToLive = mailbox.descriptor.timeToLive else { return true }
        let expiry = EntityDispatch.stateExpiry(after: moment, timeToLive: timeToLive)
        return clockMarks.crossing(of: expiry, from: record.offset).map { $0.position > next.offset } ?? true
    }

    /// Whether the entity's state reflects `record` already (it comes
    /// again after a restart from the file's offsets, when other keys
    /// lagged behind). In a shard fed by several topics, by the record's
    /// own offset in its topic: positions are given anew after a restart.
    func isApplied(_ record: KafkaRecord, to id: EntityID) -> Bool {
        guard let mailbox = mailboxes[id] else { return false }
        guard let sources else { return mailbox.appliedOffset.map { record.offset <= $0 } ?? false }
        guard let source = sources.source(of: record.offset), let applied = mailbox.sources[source.stream] else { return false }
        return source.offset <= applied
    }

    func setEntity(_ entity: (any Entity)?, for id: EntityID) {
        guard let mailbox = mailboxes[id] else { return }
        mailbox.entity = entity
        mailbox.lastUsed = .now
    }

    /// Records accepted and not yet complete, those waiting in the
    /// event-time merge included: what backpressure and the commit
    /// schedule measure.
    var waitingRecords: Int { buffered + (aligner?.count ?? 0) }

    mutating func pauseIfFull(high: Int) -> Bool {
        guard !paused, waitingRecords >= high else { return false }
        paused = true
        return true
    }

    mutating func resumeIfDrained(low: Int) -> Bool {
        // The same measure as the pause: records waiting in the merge count.
        guard paused, waitingRecords <= low, !stopping, !faulted else { return false }
        paused = false
        return true
    }

    /// Where an entity's newest state is.
    enum SavedState {
        /// Applied, not in the file yet.
        case unsaved(Snapshot)
        /// Expired, not deleted from the file yet: it starts anew.
        case expired
        /// In the file, if anywhere.
        case inFile
    }

    func savedState(of id: EntityID) -> SavedState {
        if let snapshot = pending.snapshots[id] { return .unsaved(snapshot) }
        if pending.expired[id] != nil { return .expired }
        if let snapshot = committing[id] { return .unsaved(snapshot) }
        if committingExpired.contains(id) { return .expired }
        return .inFile
    }

    /// Hands the applied records to a commit, with the offset it may claim.
    mutating func takeCheckpoint() -> (PendingCheckpoint, nextOffset: Int64?) {
        var taken = pending
        let next = tracker.committable
        lastTakenNext = next
        pending = taken.deferExpiries(before: next)
        committing = taken.snapshots
        committingExpired = Set(taken.expired.keys)
        let keeping = [timers.earliestCrossing, firingFrom.keys.min()].compactMap { $0 }.min()
        taken.maxEventTime = clockMarks.take(before: next, keeping: keeping)
        taken.topicOffsets = sources?.offsets(before: next) ?? [:]
        return (taken, next)
    }

    /// A firing that took its timer out at `position` is over.
    mutating func endFiring(from position: Int64) {
        guard let count = firingFrom[position] else { return }
        firingFrom[position] = count > 1 ? count - 1 : nil
    }

    /// Puts back what a commit that failed took: its rows, and its offset,
    /// which the next commit claims again.
    mutating func restoreFailedCheckpoint(_ failed: PendingCheckpoint) {
        pending.restore(failed)
        lastTakenNext = nil
    }

    /// Whether a commit would have something of the shard's to write:
    /// records applied or calls answered since the last one taken (not an
    /// expiry it would defer again).
    var hasWorkToCommit: Bool {
        tracker.committable != lastTakenNext || !awaitingCommit.isEmpty || pending.hasWork(before: tracker.committable)
    }

    var residentCount: Int { mailboxes.values.count { $0.entity != nil } }

    var isIdle: Bool { tracker.pendingCount == 0 && !mailboxes.values.contains { $0.running } }

    mutating func wakeIdleWaitersIfIdle() {
        guard stopping, isIdle, !idleWaiters.isEmpty else { return }
        let waiters = idleWaiters
        idleWaiters = []
        for waiter in waiters { waiter.resume() }
    }

    /// Releases the actors of idle mailboxes idle since before `idleSince`,
    /// and of the least recently used beyond `keep` residents, at once:
    /// their states are in the next commit or the file already, and an idle
    /// mailbox has no turn to wait for (a task per passivation, queued
    /// behind nothing, took 14% of a node's time with 1,000,000 keys in
    /// `ShoalBenchmarks pipeline`). Returns how many were released.
    mutating func passivateIdle(idleSince: ContinuousClock.Instant, keep: Int) -> Int {
        let chosen = passivationCandidates(idleSince: idleSince, keep: keep)
        for id in chosen { mailboxes[id] = nil }
        return chosen.count
    }

    /// Entities to passivate: idle too long, or the least recently used
    /// beyond `keep` residents.
    private func passivationCandidates(idleSince: ContinuousClock.Instant, keep: Int) -> [EntityID] {
        // The idle times alone are sorted, to find the newest to release:
        // sorting (id, mailbox) pairs retained and released both at every
        // move, 9% of a node's time with 1,000,000 keys in `ShoalBenchmarks pipeline`.
        var resident = 0
        var recentIdle: [ContinuousClock.Instant] = []
        var expired = 0
        for mailbox in mailboxes.values where mailbox.entity != nil {
            resident += 1
            guard mailbox.isIdle else { continue }
            if mailbox.lastUsed < idleSince { expired += 1 } else { recentIdle.append(mailbox.lastUsed) }
        }
        var excess = min(resident - expired - keep, recentIdle.count)
        let cutoff = excess > 0 ? recentIdle.sorted()[excess - 1] : idleSince
        var chosen: [EntityID] = []
        for (id, mailbox) in mailboxes where mailbox.entity != nil && mailbox.isIdle {
            if mailbox.lastUsed < idleSince {
                chosen.append(id)
            } else if excess > 0, mailbox.lastUsed <= cutoff {
                chosen.append(id)
                excess -= 1
            }
        }
        return chosen
    }
}

/// Where a distributed call's outcome goes: set once (by the entity's
/// turn, a commit, or a stop; later ones are ignored), awaited by the caller.
final class CallReply: Sendable {
    private enum State {
        case waiting(CheckedContinuation<ShoalResultHandler.Outcome, any Error>?)
        case done(Result<ShoalResultHandler.Outcome, any Error>)
    }

    private let state = Mutex(State.waiting(nil))

    func resume(_ result: Result<ShoalResultHandler.Outcome, any Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<ShoalResultHandler.Outcome, any Error>? in
            guard case .waiting(let waiter) = state else { return nil }
            state = .done(result)
            return waiter
        }
        waiter?.resume(with: result)
    }

    var isDone: Bool {
        state.withLock { if case .done = $0 { true } else { false } }
    }

    /// The outcome, once set.
    func value() async throws -> ShoalResultHandler.Outcome {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> Result<ShoalResultHandler.Outcome, any Error>? in
                if case .done(let result) = state { return result }
                state = .waiting(continuation)
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}

/// A call of one entity by its id: ids are the callers', unique per entity only.
struct CallKey: Hashable, Sendable {
    var entity: EntityID
    var callID: String
}

/// A state-changing call's outcome and whoever waits for it (the call, and
/// retries of it that came before its commit).
struct AwaitedReply: Sendable {
    var outcome: ShoalResultHandler.Outcome
    var replies: [CallReply]
}
