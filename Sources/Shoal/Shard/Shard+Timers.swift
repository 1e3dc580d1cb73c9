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
    /// ones already due fire first (see ``wakeDueTimers(at:)``).
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

    /// Queues a firing turn for each entity with a timer due at `clocks`.
    func wakeDueTimers(at clocks: TimerClocks) {
        let woken = state.withLock { state -> [EntityID] in
            guard !state.stopping else { return [] }
            return state.timers.entitiesDue(at: clocks).filter { id in
                guard let descriptor = state.mailboxes[id]?.descriptor ?? descriptor(of: id) else { return false }
                return state.enqueue(.timers(clocks), for: id, descriptor: descriptor)
            }
        }
        for id in woken {
            Task { await drain(id) }
        }
    }

    private func descriptor(of id: EntityID) -> EntityDescriptor? {
        services.routes.values.first { $0.entity.name == id.type }?.entity
    }

    /// Applies timer changes (outside a record's commit: a re-set timer).
    func applyTimerChanges(_ changes: [TimerChange], of id: EntityID) {
        guard !changes.isEmpty else { return }
        state.withLock { state in
            state.pending.timers[id] = state.timers.replace(id, with: changes)
        }
        wakeIfDue(changes)
    }

    /// Queues a firing turn when a timer just set is already due by the
    /// shard's clocks (they ran ahead of the handler that set it).
    func wakeIfDue(_ changes: [TimerChange]) {
        guard !changes.isEmpty else { return }
        let clocks = currentClocks
        if changes.contains(where: { if case .set(let timer) = $0 { clocks.isDue(timer) } else { false } }) {
            wakeDueTimers(at: clocks)
        }
    }

    /// Fires the entity's timers due at `clocks` in due order, each like a
    /// record: its outputs, timer changes and the entity's state after it
    /// join the next commit. A timer that throws is dropped (logged and
    /// counted) and the entity comes back from its last saved state.
    /// Returns the entity as it is after them; nil when its state expired
    /// or it could not be activated again.
    func fireDue(_ id: EntityID, at clocks: TimerClocks, entity: any Entity, descriptor: EntityDescriptor) async -> (any Entity)? {
        var entity = entity
        var fired = 0
        while let (timer, offset, firing) = takeNextDue(id, at: clocks) {
            fired += 1
            guard fired <= ReplayLane.firingLimit else {
                services.logger.error("A timer keeps falling due; the rest wait for the next turn", metadata: ["entity": "\(id)", "timer": "\(timer.name)"])
                applyTimerChanges([.set(timer)], of: id)
                break
            }
            do {
                let result = try await EntityDispatch.fire(
                    timer, on: entity, descriptor: descriptor, id: id, source: partition, after: offset, clocks: clocks,
                    logger: services.logger
                )
                if result.expired {
                    // Released: the entity's next event activates a new one.
                    expire(id)
                    return nil
                }
                let snapshot = Snapshot(
                    entity: id.type, key: id.key, version: descriptor.stateVersion, offset: offset, state: result.state ?? [], firings: firing
                )
                state.withLock { state in
                    state.pending.addFiring(outputs: result.outputs, snapshot: snapshot, to: id)
                    state.pending.timers[id] = state.timers.replace(id, with: result.timerChanges)
                }
                Counter(label: "shoal_timers_fired_total").increment()
            } catch {
                services.logger.error("Timer threw; dropped", metadata: ["entity": "\(id)", "timer": "\(timer.name)", "error": "\(error)"])
                Counter(label: "shoal_timer_failures_total").increment()
                state.withLock { $0.pending.timers[id] = $0.timers.timers(of: id).all }
                guard let restored = await restore(id, descriptor) else { return nil }
                entity = restored
            }
        }
        return entity
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

    /// The entity's next due timer, with the offset its outputs are numbered
    /// after and the firing's number since that record.
    private func takeNextDue(_ id: EntityID, at clocks: TimerClocks) -> (EntityTimer, Int64, Int64)? {
        state.withLock { state in
            guard let timer = state.timers.takeNextDue(id, at: clocks) else { return nil }
            let firing = (state.mailboxes[id]?.firings ?? 0) + 1
            state.mailboxes[id]?.firings = firing
            // The timer's removal joins the pending checkpoint only with the
            // firing's outcome (below), never before it: a commit between
            // the two would drop the timer without its firing.
            return (timer, state.mailboxes[id]?.appliedOffset ?? -1, firing)
        }
    }
}

