import Logging
import ShoalKafka

/// One lane of a replay: its entities, their pending timers, and what they
/// produced. Runs an entity's events and timers in the order a node's shard
/// runs them.
struct ReplayLane {
    /// A live entity of the lane. A class, changed in place: as a struct,
    /// copying it out of the lane's dictionary and back in on every event
    /// was a quarter of the replay's retains (`perf`, `ShoalBenchmarks replay`).
    final class Resident {
        var entity: any Entity
        let descriptor: EntityDescriptor
        /// Its state after its last step, for a rollback like a node's: kept
        /// only while every state is encoded (nil: nothing applied yet).
        var saved: Snapshot?
        let source: TopicPartition
        var timers = EntityTimers()
        /// The offset of its last event; its timers' outputs are numbered after it.
        var lastOffset: Int64 = -1
        /// Timers fired since that event.
        var firings: Int64 = 0
        /// Its state's time-to-live ran out: it is gone.
        var expired = false
        /// A step (a record, or a call) gave it a state to roll back to.
        var hasState = false

        init(entity: any Entity, descriptor: EntityDescriptor, source: TopicPartition) {
            self.entity = entity
            self.descriptor = descriptor
            self.source = source
        }
    }

    /// Firings in one turn past which a timer that keeps setting itself due
    /// again is stopped (and reported), instead of looping for ever.
    static let firingLimit = 10_000

    let system: ShoalActorSystem
    let logger: Logger
    let encodingState: Bool
    let tables: ReplayTables
    /// Tries and rollback, as a node's shard makes them (without its back-off).
    let turn = EntityTurn(attempts: ShoalNodeConfiguration.defaultHandlerAttempts)
    /// The partitions' clocks after every event, where timers fall due.
    let clocks: ReplayClocks
    /// The replayed events, for where each came from.
    let events: [ReplayEvent]
    private var entities: [EntityID: Resident] = [:]
    /// The current chunk's residents by its entity slots: found once per
    /// chunk instead of hashing the entity's id for every event.
    private var bySlot: [Resident?] = []
    private(set) var outcome = LaneOutcome()

    init(system: ShoalActorSystem, logger: Logger, settings: LaneSettings, clocks: ReplayClocks, events: [ReplayEvent]) {
        self.system = system
        self.logger = logger
        self.encodingState = settings.encodingStates
        self.tables = settings.tables
        self.clocks = clocks
        self.events = events
        outcome.keepsTransitions = settings.keepingTransitions
    }

    /// Runs the lane's steps of `chunk`, in order.
    nonisolated(nonsending) mutating func run(_ positions: [Int], of chunk: ReplayChunk, progress: ReplayProgress) async {
        bySlot = Array(repeating: nil, count: chunk.entities.count)
        var done = 0
        for position in positions {
            await run(chunk.steps[position], id: chunk.entities[chunk.steps[position].entity])
            done += 1
            if done == ReplayProgress.batch {
                progress.advance(by: done)
                done = 0
            }
        }
        progress.advance(by: done)
    }

    /// The step's event in its entity's turn: timers that fell due before
    /// it, the event (unless too late), timers that fall due with it.
    nonisolated(nonsending) private mutating func run(_ step: ReplayStep, id: EntityID) async {
        if step.isCall {
            await runCall(step, id: id)
            return
        }
        let slot = step.entity
        if step.tooLate && bySlot[slot] == nil && entities[id] == nil { return }
        let position = Int64(step.index)
        // Each async call below is a task switch or two even when it has
        // nothing to do: the lane checks first, synchronously.
        do {
            var resident: Resident
            if let known = bySlot[slot] ?? entities[id] { resident = known } else { resident = try await activate(id, for: step) }
            bySlot[slot] = resident
            // As in a node: a record whose clocks pass its entity's state
            // expiry finds the state expired.
            if resident.timers.hasCrossed(before: position, beforeRecord: !step.tooLate) {
                await fireCrossed(
                    resident, id, before: position, beforeRecord: !step.tooLate,
                    order: ReplayOrder(index: step.index, phase: 0, entity: "", sequence: 0)
                )
            }
            if resident.expired {
                entities[id] = nil
                resident = try await activate(id, for: step)
                bySlot[slot] = resident
            }
            if !step.tooLate {
                await apply(step, id: id, to: resident)
            }
            if resident.timers.hasCrossed(before: position + 1) {
                await fireCrossed(resident, id, before: position + 1, order: ReplayOrder(index: step.index, phase: 2, entity: "", sequence: 0))
            }
            if resident.expired {
                entities[id] = nil
                bySlot[slot] = nil
            }
        } catch {
            outcome.fail(events[step.index].failure("\(error)"), at: .event(step.index))
        }
    }

    /// A journaled call, on the entity as the node ran it: after the record
    /// the journal places it after, and the timers that fell due by then.
    /// Its outcome was the caller's; its state and outputs (numbered by its
    /// place and id, as a node numbers them) are the replay's.
    nonisolated(nonsending) private mutating func runCall(_ step: ReplayStep, id: EntityID) async {
        guard let call = step.event as? EntityCall else { return }
        let position = Int64(step.index)
        do {
            var resident: Resident
            if let known = bySlot[step.entity] ?? entities[id] { resident = known } else { resident = try await activate(id, for: step) }
            if resident.timers.hasCrossed(before: position) {
                await fireCrossed(resident, id, before: position, order: ReplayOrder(index: step.index, phase: 0, entity: "", sequence: 0))
            }
            if resident.expired {
                entities[id] = nil
                resident = try await activate(id, for: step)
            }
            bySlot[step.entity] = resident
            let (clocks, source) = (self.clocks, resident.source)
            let (answer, effects) = await EntityDispatch.run(
                call, on: resident.entity, system: system, source: source, after: resident.lastOffset,
                clocks: clocks.clocks(in: source, before: position), logger: logger, tables: tables.view(for: [], at: step.index)
            )
            if let failure = EntityDispatch.discarded(answer, effects, on: id, hasRecords: resident.lastOffset >= 0) {
                // A node keeps nothing of such a call (and journals none: the handler changed).
                if let restored = await rollBack(resident, id) { resident.entity = restored }
                outcome.fail(events[step.index].failure("the journaled call \(call.target) on \(id): \(failure.reason)"), at: .event(step.index))
                return
            }
            try await record(call, effects, on: resident, id, at: step)
        } catch {
            outcome.fail(events[step.index].failure("the journaled call \(call.target) on \(id): \(error)"), at: .event(step.index))
        }
    }

    /// A call's outputs, timer changes and the state after it.
    nonisolated(nonsending) private mutating func record(
        _ call: EntityCall, _ effects: EntityDispatch.CallEffects, on resident: Resident, _ id: EntityID, at step: ReplayStep
    ) async throws {
        let (clocks, source, position) = (self.clocks, resident.source, Int64(step.index))
        if !effects.timerChanges.isEmpty {
            resident.timers.apply(effects.timerChanges) { clocks.crossing(of: $0, in: source, from: position + 1) }
        }
        resident.hasState = true
        // Encoded only when a transition or a rollback point keeps it.
        let state = encodingState || outcome.keepsTransitions ? try await resident.descriptor.snapshot(resident.entity) : nil
        let callID = call.callID ?? ""
        outcome.record(
            EntityDispatch.Applied(outputs: effects.outputs, state: state), at: ReplayOrder(index: step.index, phase: 1, entity: "", sequence: 0),
            entity: id, source: source, offset: events[step.index].offset, timestamp: nil,
            positions: { EntityDispatch.callOutputPosition(callID: callID, index: $0) }
        )
        if encodingState, let state {
            resident.saved = Snapshot(
                entity: id.type, key: id.key, version: resident.descriptor.stateVersion, offset: resident.lastOffset, state: state,
                firings: resident.firings
            )
        }
    }

    /// Fires what fell due by the end, then takes every entity's final
    /// state and pending timers.
    mutating func finish(end: Int) async throws {
        // Room for every state at once: the table's final size is known.
        outcome.states.reserveCapacity(entities.count)
        // In any order: what the timers do here sorts by their entity's name
        // (`ReplayOrder`). Sorting every entity's name first was 9 % of a
        // replay of 1,000,000 keys (`perf`).
        // A state that does not encode fails the replay; which one is
        // named does not depend on the table's order: the first by name.
        var unencodable: (name: String, error: any Error)?
        for (id, resident) in entities {
            if !resident.timers.isEmpty {
                await fireCrossed(resident, id, before: nil, order: ReplayOrder(index: end, phase: 0, entity: id.description, sequence: 0))
                guard !resident.expired else { continue }
                if !resident.timers.isEmpty { outcome.pendingTimers[id] = resident.timers.all }
            }
            do {
                outcome.states[id] = try await resident.descriptor.snapshot(resident.entity)
            } catch {
                let name = id.description
                if unencodable.map({ name < $0.name }) ?? true { unencodable = (name, error) }
            }
        }
        if let unencodable { throw unencodable.error }
    }

    nonisolated(nonsending) private mutating func activate(_ id: EntityID, for step: ReplayStep) async throws -> Resident {
        let entity = try await step.route.entity.activate(system, id, nil)
        // Outputs are numbered in the shard's partition, as a node's are.
        let source = clocks.shard(of: events[step.index].topic, events[step.index].partition)
        let resident = Resident(entity: entity, descriptor: step.route.entity, source: source)
        entities[id] = resident
        return resident
    }

    nonisolated(nonsending) private mutating func apply(_ step: ReplayStep, id: EntityID, to resident: Resident) async {
        let (topic, partition, offset) = (events[step.index].topic, events[step.index].partition, events[step.index].offset)
        let origin = EntityDispatch.Origin(
            partition: TopicPartition(topic, partition), offset: offset,
            timestamp: events[step.index].timestamp.map { KafkaTimestamp(milliseconds: $0) }
        )
        let (logger, encoding) = (self.logger, self.encodingState ? EntityDispatch.StateEncoding.always : .never)
        let tables = self.tables.view(for: events[step.index].reads, at: step.index)
        func dispatch(_ entity: any Entity) async throws -> EntityDispatch.Applied {
            try await EntityDispatch.apply(
                origin, event: step.event, route: step.route, to: entity, id: id, logger: logger, moment: step.moment,
                tables: tables, encoding: encoding
            )
        }
        let applied: EntityDispatch.Applied
        do {
            // The first try outside the turn: the common case stays one call
            // (through the turn's closures, replay of final states ran at
            // 0.72-0.93 of its rate before, eight runs side by side).
            applied = try await dispatch(resident.entity)
        } catch {
            let turn = self.turn
            switch await turn.retry(after: error, on: resident.entity, rollback: { await rollBack(resident, id) }, failedAttempt: { _, _ in }, dispatch) {
            case .done(let retried, let entity):
                resident.entity = entity
                applied = retried
            case .failed(let error, let tries, let entity):
                resident.entity = entity
                outcome.fail(events[step.index].failure(EntityTurn.handlerFailure(id, tries: tries, error)), at: .event(step.index))
                return
            case .lost(let error, let tries):
                outcome.fail(events[step.index].failure(EntityTurn.handlerFailure(id, tries: tries, error)), at: .event(step.index))
                return
            }
        }
        if !applied.timerChanges.isEmpty {
            let (clocks, source, position) = (self.clocks, resident.source, Int64(step.index))
            resident.timers.apply(applied.timerChanges) { clocks.crossing(of: $0, in: source, from: position) }
        }
        resident.lastOffset = offset
        resident.hasState = true
        resident.firings = 0
        if encodingState { resident.saved = saved(applied, of: id, resident, offset: offset) }
        outcome.record(
            applied, at: ReplayOrder(index: step.index, phase: 1, entity: "", sequence: 0), entity: id,
            source: resident.source, offset: offset, timestamp: events[step.index].timestamp, positions: { Int64($0) }
        )
        outcome.applied += 1
    }

    /// The entity back at its state after its last step, as a node brings
    /// it back from its file; without that state (not encoded), as it is,
    /// and the replay is run again encoding every state.
    nonisolated(nonsending) private mutating func rollBack(_ resident: Resident, _ id: EntityID) async -> (any Entity)? {
        // Nothing applied since its activation (no event: a timer needs
        // one first) needs no saved state.
        guard encodingState || !resident.hasState else {
            outcome.rollbackNeedsStates = true
            return resident.entity
        }
        let snapshot = resident.saved
        // A node numbers the next firing after the saved state's.
        resident.firings = snapshot?.firings ?? 0
        return try? await resident.descriptor.activate(system, id, snapshot)
    }

    /// What a node's file would hold for the entity after a step.
    private func saved(_ applied: EntityDispatch.Applied, of id: EntityID, _ resident: Resident, offset: Int64) -> Snapshot? {
        applied.state.map {
            Snapshot(entity: id.type, key: id.key, version: resident.descriptor.stateVersion, offset: offset, state: $0, firings: resident.firings)
        }
    }

    /// Fires the entity's timers that fell due before `position` (all that
    /// fell due, when nil), in the order they fell due, each with the clocks
    /// that passed it and like an event: its outputs, timer changes and the
    /// state after it.
    nonisolated(nonsending) private mutating func fireCrossed(
        _ resident: Resident, _ id: EntityID, before position: Int64?, beforeRecord: Bool = false, order: ReplayOrder
    ) async {
        var fired = 0
        while let (timer, crossing) = resident.timers.takeNextCrossed(before: position, beforeRecord: beforeRecord) {
            fired += 1
            guard fired <= Self.firingLimit else {
                outcome.fail(timerFailure(resident, "timer \(timer.name) of \(id) fired \(Self.firingLimit) times in one turn"), at: order)
                return
            }
            resident.firings += 1
            let firing = resident.firings
            let (logger, encodingState, turn, tables) = (self.logger, self.encodingState, self.turn, NoTables() as any TableLookup)
            let result = await turn.run(on: resident.entity, rollback: { await rollBack(resident, id) }, failedAttempt: { _, _ in }) { entity in
                try await EntityDispatch.fire(
                    timer, on: entity, descriptor: resident.descriptor, id: id, source: resident.source,
                    after: resident.lastOffset, clocks: crossing.clocks, logger: logger, tables: tables, encodingState: encodingState
                )
            }
            switch result {
            case .done(let applied, let entity):
                resident.entity = entity
                // A rollback reset the count to the saved state's, as a node's does.
                resident.firings = firing
                let (clocks, source) = (self.clocks, resident.source)
                resident.timers.apply(applied.timerChanges) { clocks.crossing(of: $0, in: source, from: crossing.position) }
                outcome.record(
                    applied, at: order, entity: id, source: resident.source, offset: resident.lastOffset, timestamp: timer.due.milliseconds,
                    positions: { EntityDispatch.timerOutputPosition(firing: firing, index: $0) }, timer: timer
                )
                if applied.expired {
                    resident.expired = true
                    return
                }
                if encodingState { resident.saved = saved(applied, of: id, resident, offset: resident.lastOffset) }
            case .failed(let error, let tries, let entity):
                resident.entity = entity
                outcome.fail(timerFailure(resident, EntityTurn.timerFailure(timer, of: id, tries: tries, error)), at: order)
            case .lost(let error, _):
                outcome.fail(timerFailure(resident, EntityTurn.timerLost(timer, of: id, error)), at: order)
                return
            }
        }
    }

    private func timerFailure(_ resident: Resident, _ reason: String) -> ReplayResult.Failure {
        .init(topic: resident.source.topic, partition: resident.source.partition, offset: resident.lastOffset, reason: reason)
    }
}
