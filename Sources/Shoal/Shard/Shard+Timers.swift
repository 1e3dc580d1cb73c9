import Foundation
import Metrics
import ShoalKafka

extension Shard {
    /// The shard's clocks now: its partition's watermark and the wall clock.
    var currentClocks: TimerClocks {
        let watermark = state.withLock { $0.clock?.watermark } ?? .distantPast
        return TimerClocks(watermark: watermark, processingTime: EventTime(Date()))
    }

    /// Restores the partition's clock and pending timers from its file; the
    /// ones already due fire first (see ``wakeDueTimers(at:position:)``).
    func restoreTime(maxEventTime: EventTime?, timers: [EntityID: [EntityTimer]]) {
        let route = services.routes[partition.topic]
        state.withLock { state in
            if let route, let maxEventTime {
                state.clock = PartitionClock(
                    outOfOrderness: route.clock.outOfOrderness, allowedLateness: route.clock.allowedLateness, maxEventTime: maxEventTime
                )
            }
            state.clockMarks = ClockMarks(restoring: maxEventTime)
            state.timers = ShardTimers(restoring: timers)
        }
    }

    /// Marks the timers that `clocks` pass (the wall clock for
    /// processing-time timers, or the clock restored from the file) as due
    /// at `position` (the last accepted record by default) and queues their
    /// entities' turns.
    func wakeDueTimers(at clocks: TimerClocks, position: Int64? = nil) {
        let woken = state.withLock { state -> [EntityID] in
            guard !state.stopping else { return [] }
            let at = position ?? state.clockMarks.lastOffset ?? (state.tracker.committable ?? 0) - 1
            return state.wakeCrossed(at: clocks, position: at, descriptor: descriptor(of:))
        }
        for id in woken {
            Task { await drain(id) }
        }
    }

    func descriptor(of id: EntityID) -> EntityDescriptor? {
        services.routes.values.first { $0.entity.name == id.type }?.entity
    }

    /// Applies timer changes made outside a record (a re-set timer) at
    /// `position`, and queues a turn if one fell due already.
    func applyTimerChanges(_ changes: [TimerChange], of id: EntityID, from position: Int64) {
        guard !changes.isEmpty else { return }
        let woken = state.withLock { state -> Bool in
            state.changeTimers(changes, of: id, from: position)
            return state.wakeIfCrossed(id, descriptor: descriptor(of:))
        }
        if woken { Task { await drain(id) } }
    }

    /// Fires the entity's timers that fell due before `position` (all that
    /// fell due, when nil), in the order they fell due, each with the clocks
    /// that passed it and like a record: its outputs, timer changes and the
    /// entity's state after it join the next commit. A timer that throws
    /// is tried again like a handler (``ShoalNodeConfiguration/handlerAttempts``,
    /// not after a ``NonRetryableError``), the entity back at its last saved
    /// state each time; after the last attempt it is dead-lettered. Returns
    /// the entity as it is after them; nil when its
    /// state expired or it could not be activated again.
    /// `beforeRecord`: before the entity's record at `position` (see
    /// ``EntityTimers/takeNextCrossed(before:beforeRecord:)``).
    func fireCrossed(
        _ id: EntityID, before position: Int64?, beforeRecord: Bool = false, entity: any Entity, descriptor: EntityDescriptor
    ) async -> (any Entity)? {
        var entity = entity
        var fired = 0
        while let (timer, crossing, offset, firing) = takeNextCrossed(id, before: position, beforeRecord: beforeRecord) {
            fired += 1
            guard fired <= ReplayLane.firingLimit else {
                services.logger.error("A timer keeps falling due; the rest wait for the next turn", metadata: ["entity": "\(id)", "timer": "\(timer.name)"])
                applyTimerChanges([.set(timer)], of: id, from: crossing.position)
                state.withLock { $0.endFiring(from: crossing.position) }
                break
            }
            let span = services.tracing?.timerSpan(timer.name, entity: id.type)
            defer { span?.end() }
            let outcome = await RecordTracing.within(span) {
                await attempting(id, descriptor, on: entity) { attempt, error in
                    services.logger.warning("Timer threw", metadata: [
                        "entity": "\(id)", "timer": "\(timer.name)", "attempt": "\(attempt)", "error": "\(error)",
                    ])
                } _: { entity in
                    try await EntityDispatch.fire(
                        timer, on: entity, descriptor: descriptor, id: id, source: partition, after: offset, clocks: crossing.clocks,
                        logger: services.logger, tables: services.tables
                    )
                }
            }
            switch outcome {
            case .done(var result, let current):
                if let span, let tracing = services.tracing { result.outputs = tracing.inject(span.context, into: result.outputs) }
                entity = current
                if result.expired {
                    // Released: the entity's next event activates a new one.
                    state.withLock { $0.endFiring(from: crossing.position) }
                    expire(id)
                    return nil
                }
                commitFiring(timer, of: id, result, offset: offset, firing: firing, crossing: crossing, before: position, descriptor: descriptor)
            case .failed(let error, let tries, let current):
                if let span { RecordTracing.failed(span, by: error) }
                entity = current
                let reason = EntityTurn.timerFailure(timer, of: id, tries: tries, error)
                await gaveUp(on: timer, of: id, after: offset, crossing: crossing, reason: reason)
            case .lost(let error, _):
                if let span { RecordTracing.failed(span, by: error) }
                let reason = EntityTurn.timerLost(timer, of: id, error)
                await gaveUp(on: timer, of: id, after: offset, crossing: crossing, reason: reason)
                return nil
            }
        }
        return entity
    }

    /// A firing's outcome joins the next commit: its outputs, the entity's
    /// state after it, and the timers it set or cancelled.
    private func commitFiring(
        _ timer: EntityTimer, of id: EntityID, _ result: EntityDispatch.Applied, offset: Int64, firing: Int64, crossing: TimerCrossing,
        before position: Int64?, descriptor: EntityDescriptor
    ) {
        var snapshot = Snapshot(
            entity: id.type, key: id.key, version: descriptor.stateVersion, offset: offset, state: result.state ?? [], firings: firing
        )
        state.withLock { state in
            // The per-topic offsets its records left stay with the state:
            // they are what makes a record read again after a restart skip.
            snapshot.sources = state.mailboxes[id]?.sources ?? [:]
            snapshot.calls = state.mailboxes[id]?.calls ?? []
            // A try that threw brought the entity back from its snapshot,
            // and its firing count with it: this firing keeps its number,
            // so the next one does not take it again (same output ids).
            state.mailboxes[id]?.firings = firing
            state.pending.addFiring(of: timer, outputs: result.outputs, snapshot: snapshot, to: id)
            state.changeTimers(result.timerChanges, of: id, from: crossing.position)
            state.endFiring(from: crossing.position)
            // A timer it set that a record taken in already passed,
            // beyond this loop's bound, needs a turn of its own: that
            // record woke nobody for it. (Within the bound, this loop fires it.)
            if let position, let crossed = state.timers.latestCrossing(of: id), crossed >= position {
                _ = state.wakeIfCrossed(id, descriptor: descriptor(of:))
            }
        }
        Counter(label: "shoal_timers_fired_total").increment()
    }

    /// A timer that threw on every attempt: it is dropped (its removal joins
    /// the next commit) and sent to the dead-letter topic as a record naming
    /// the entity and the timer, with the reason, like a record no attempt
    /// could handle. Delivery is retried while the shard runs.
    private func gaveUp(on timer: EntityTimer, of id: EntityID, after offset: Int64, crossing: TimerCrossing, reason: String) async {
        state.withLock { state in
            state.endFiring(from: crossing.position)
            state.pending.timers[id] = state.timers.timers(of: id).all
        }
        services.logger.error("Timer threw on every attempt; dead-lettered", metadata: ["entity": "\(id)", "timer": "\(timer.name)", "reason": "\(reason)"])
        Counter(label: "shoal_timer_failures_total").increment()
        let letter = KafkaRecord(
            topic: partition.topic, partition: partition.partition, offset: offset, key: KafkaBytes(id.key),
            value: KafkaBytes((try? CanonicalJSON.encode(DeadTimer(entity: id.type, key: id.key, timer: timer))) ?? []),
            headers: [KafkaHeader(key: "shoal-dlq-timer", string: timer.name)]
        )
        _ = await deliverDeadLetter(letter, reason: reason)
    }

    /// The entity's state ran out its time-to-live: it is released, its
    /// snapshot and timers go at the next commit, and it starts anew.
    private func expire(_ id: EntityID) {
        state.withLock { state in
            state.pending.expire(id, after: state.mailboxes[id]?.appliedOffset ?? -1)
            state.timers.removeAll(of: id)
            state.setEntity(nil, for: id)
            state.mailboxes[id]?.appliedOffset = nil
            state.mailboxes[id]?.firings = 0
        }
        services.metrics.residentEntities.decrement()
        Counter(label: "shoal_states_expired_total").increment()
    }

    /// The entity's next timer that fell due, with where, the offset its
    /// outputs are numbered after and the firing's number since that record.
    private func takeNextCrossed(_ id: EntityID, before position: Int64?, beforeRecord: Bool) -> (EntityTimer, TimerCrossing, Int64, Int64)? {
        state.withLock { state in
            guard let (timer, crossing) = state.timers.takeNextCrossed(id, before: position, beforeRecord: beforeRecord) else { return nil }
            let firing = (state.mailboxes[id]?.firings ?? 0) + 1
            state.mailboxes[id]?.firings = firing
            state.firingFrom[crossing.position, default: 0] += 1
            // The timer's removal joins the pending checkpoint only with the
            // firing's outcome (above), never before it: a commit between
            // the two would drop the timer without its firing.
            return (timer, crossing, state.mailboxes[id]?.appliedOffset ?? -1, firing)
        }
    }
}

extension ShardState {
    /// Marks the timers `clocks` pass as due at `position` and queues a turn
    /// for each of their entities; returns those whose mailbox needs a task.
    mutating func wakeCrossed(at clocks: TimerClocks, position: Int64, descriptor: (EntityID) -> EntityDescriptor?) -> [EntityID] {
        timers.markCrossed(at: clocks, position: position).filter { id in
            guard let descriptor = mailboxes[id]?.descriptor ?? descriptor(id) else {
                // Restored for an entity type no route leads to any more:
                // nothing can fire them, and crossed they would pin the clock marks.
                timers.removeAll(of: id)
                return false
            }
            return enqueue(.timers(upTo: position), for: id, descriptor: descriptor)
        }
    }

    /// Queues a turn for the entity when one of its timers fell due;
    /// returns whether its mailbox needs a task.
    mutating func wakeIfCrossed(_ id: EntityID, descriptor: (EntityID) -> EntityDescriptor?) -> Bool {
        guard let position = timers.latestCrossing(of: id), let descriptor = mailboxes[id]?.descriptor ?? descriptor(id) else { return false }
        return enqueue(.timers(upTo: position), for: id, descriptor: descriptor)
    }
}

/// A timer that threw on every attempt, as its dead letter carries it.
private struct DeadTimer: Encodable {
    var entity: String
    var key: String
    var timer: EntityTimer
}
