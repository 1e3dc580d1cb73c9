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
        let entity: any Entity
        let descriptor: EntityDescriptor
        let source: TopicPartition
        var timers = EntityTimers()
        /// The offset of its last event; its timers' outputs are numbered after it.
        var lastOffset: Int64 = -1
        /// Timers fired since that event.
        var firings: Int64 = 0
        /// Its state's time-to-live ran out: it is gone.
        var expired = false

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
    /// The partitions' clocks after every event, where timers fall due.
    let clocks: ReplayClocks
    private var entities: [EntityID: Resident] = [:]
    private(set) var outcome = LaneOutcome()

    init(system: ShoalActorSystem, logger: Logger, encodingState: Bool, clocks: ReplayClocks) {
        self.system = system
        self.logger = logger
        self.encodingState = encodingState
        self.clocks = clocks
    }

    /// The step's event in its entity's turn: timers that fell due before
    /// it, the event (unless too late), timers that fall due with it.
    mutating func run(_ step: ReplayStep) async {
        if step.tooLate && entities[step.id] == nil { return }
        let position = Int64(step.index)
        do {
            var resident = try await resident(for: step)
            await fireCrossed(resident, step.id, before: position, order: ReplayOrder(index: step.index, phase: 0, entity: "", sequence: 0))
            if resident.expired {
                entities[step.id] = nil
                resident = try await self.resident(for: step)
            }
            if !step.tooLate {
                await apply(step, to: resident)
            }
            await fireCrossed(resident, step.id, before: position + 1, order: ReplayOrder(index: step.index, phase: 2, entity: "", sequence: 0))
            if resident.expired { entities[step.id] = nil }
        } catch {
            outcome.failures.append((step.index, step.failure("\(error)")))
        }
    }

    /// Fires what fell due by the end, then takes every entity's final
    /// state and pending timers.
    mutating func finish(end: Int) async throws {
        for id in entities.keys.sorted(by: { $0.description < $1.description }) {
            guard let resident = entities[id] else { continue }
            let order = ReplayOrder(index: end, phase: 0, entity: id.description, sequence: 0)
            await fireCrossed(resident, id, before: nil, order: order)
            guard !resident.expired else { continue }
            outcome.states[id] = Array(try await resident.descriptor.snapshot(resident.entity))
            if !resident.timers.isEmpty { outcome.pendingTimers[id] = resident.timers.all }
        }
    }

    private mutating func resident(for step: ReplayStep) async throws -> Resident {
        if let resident = entities[step.id] { return resident }
        let entity = try await step.route.entity.activate(system, step.id, nil)
        let resident = Resident(entity: entity, descriptor: step.route.entity, source: step.record.topicPartition)
        entities[step.id] = resident
        return resident
    }

    private mutating func apply(_ step: ReplayStep, to resident: Resident) async {
        let record = step.record
        do {
            let applied = try await EntityDispatch.apply(
                record, event: step.event, route: step.route, to: resident.entity, id: step.id, logger: logger,
                moment: step.moment, encodingState: encodingState
            )
            let (clocks, source, position) = (self.clocks, resident.source, Int64(step.index))
            resident.timers.apply(applied.timerChanges) { clocks.crossing(of: $0, in: source, from: position) }
            resident.lastOffset = record.offset
            resident.firings = 0
            outcome.record(
                applied, at: ReplayOrder(index: step.index, phase: 1, entity: "", sequence: 0), entity: step.id,
                source: resident.source, offset: record.offset, positions: { Int64($0) }
            )
            outcome.applied += 1
        } catch {
            outcome.failures.append((step.index, step.failure("\(error)")))
        }
    }

    /// Fires the entity's timers that fell due before `position` (all that
    /// fell due, when nil), in the order they fell due, each with the clocks
    /// that passed it and like an event: its outputs, timer changes and the
    /// state after it.
    private mutating func fireCrossed(_ resident: Resident, _ id: EntityID, before position: Int64?, order: ReplayOrder) async {
        var fired = 0
        while let (timer, crossing) = resident.timers.takeNextCrossed(before: position) {
            fired += 1
            guard fired <= Self.firingLimit else {
                outcome.failures.append((order.index, timerFailure(resident, "timer \(timer.name) of \(id) fired \(Self.firingLimit) times in one turn")))
                return
            }
            resident.firings += 1
            let firing = resident.firings
            do {
                let applied = try await EntityDispatch.fire(
                    timer, on: resident.entity, descriptor: resident.descriptor, id: id, source: resident.source,
                    after: resident.lastOffset, clocks: crossing.clocks, logger: logger, encodingState: encodingState
                )
                let (clocks, source) = (self.clocks, resident.source)
                resident.timers.apply(applied.timerChanges) { clocks.crossing(of: $0, in: source, from: crossing.position) }
                outcome.record(
                    applied, at: order, entity: id, source: resident.source, offset: resident.lastOffset,
                    positions: { EntityDispatch.timerOutputPosition(firing: firing, index: $0) }, timer: timer
                )
                if applied.expired {
                    resident.expired = true
                    return
                }
            } catch {
                outcome.failures.append((order.index, timerFailure(resident, "timer \(timer.name) of \(id) threw: \(error)")))
            }
        }
    }

    private func timerFailure(_ resident: Resident, _ reason: String) -> ReplayResult.Failure {
        .init(topic: resident.source.topic, partition: resident.source.partition, offset: resident.lastOffset, reason: reason)
    }
}
