import Logging
import ShoalKafka

/// The one path an event or a timer takes into an entity, shared by a
/// node's shards and by replay, so that a replay runs exactly what
/// production runs: the handler with a context for the record (or the
/// timer), the timer changes it asked for, then the entity's state encoded
/// after it.
enum EntityDispatch {
    /// What one event or timer did: its outputs in order, its timer
    /// changes, and the entity's encoded state after it.
    struct Applied: Sendable {
        var outputs: [KafkaProducerMessage]
        /// The state after the event; nil when not asked for.
        var state: [UInt8]?
        var timerChanges: [TimerChange] = []
        /// The state's time-to-live ran out: the entity starts anew.
        var expired = false
        /// The table lookups the handler made, in order.
        var reads: [TableRead] = []
    }

    /// Where an event came from: what its context tells the handler of its record.
    struct Origin: Sendable {
        var partition: TopicPartition
        var offset: Int64
        var timestamp: KafkaTimestamp?

        init(partition: TopicPartition, offset: Int64, timestamp: KafkaTimestamp?) {
            self.partition = partition
            self.offset = offset
            self.timestamp = timestamp
        }

        init(_ record: KafkaRecord) {
            self.init(partition: record.topicPartition, offset: record.offset, timestamp: record.timestamp)
        }
    }

    /// Where an event stands in time: its own time, the partition's clocks
    /// before and after it, and whether it arrived behind the watermark.
    struct Moment: Sendable, Hashable {
        var eventTime: EventTime?
        var before: TimerClocks
        var after: TimerClocks
        var isLate = false

        /// No event time: clocks that never fire event-time timers.
        static func untimed(now: EventTime) -> Moment {
            let clocks = TimerClocks(watermark: .distantPast, processingTime: now)
            return Moment(eventTime: nil, before: clocks, after: clocks)
        }
    }

    /// Whether a handler's turn encodes the entity's state after it.
    enum StateEncoding: Sendable {
        case always
        case never
        /// Only when the handler changed the entity's timers: a shard
        /// holding a record's state for the entity's next record still
        /// writes the timers with the state they belong to.
        case whenTimersChange

        func encodes(after context: EntityContext) -> Bool {
            switch self {
            case .always: true
            case .never: false
            case .whenTimersChange: context.outputs.changesTimers
            }
        }
    }

    /// Runs `route`'s handler for the decoded `event` of the record at
    /// `origin` on `entity`, then encodes the entity's state as `encoding`
    /// says; with `undoingOnThrow`, a throw leaves the state as before.
    /// - Throws: what the handler throws, or a state encoding error.
    nonisolated(nonsending) static func apply(
        _ origin: Origin, event: any Sendable, route: Route, to entity: any Entity, id: EntityID, logger: Logger,
        moment: Moment, tables: any TableLookup, encoding: StateEncoding = .always, undoingOnThrow: Bool = false
    ) async throws -> Applied {
        let outputs = OutputCollector()
        let context = EntityContext(
            key: id.key, topic: origin.partition.topic, partition: origin.partition.partition, offset: origin.offset,
            timestamp: origin.timestamp, logger: logger, eventTime: moment.eventTime, watermark: moment.before.watermark,
            processingTime: moment.before.processingTime, isLate: moment.isLate, timer: nil, outputs: outputs, tables: tables
        )
        let state = try await route.handle(entity, event, context, encoding, undoingOnThrow)
        let effects = outputs.effectsSoFar
        var applied = Applied(outputs: effects.messages, state: state, timerChanges: effects.timers, reads: effects.reads)
        if let timeToLive = route.entity.timeToLive {
            applied.timerChanges.append(.set(stateExpiry(after: moment, timeToLive: timeToLive)))
        }
        return applied
    }

    /// Where an event at `moment` moves its entity's state expiry: a
    /// time-to-live after it, in event time when it has one.
    static func stateExpiry(after moment: Moment, timeToLive: Duration) -> EntityTimer {
        moment.eventTime.map { EntityTimer(name: EntityTimer.stateExpiry, clock: .eventTime, due: $0 + timeToLive) }
            ?? EntityTimer(name: EntityTimer.stateExpiry, clock: .processingTime, due: moment.before.processingTime + timeToLive)
    }

    /// Fires `timer` on `entity`. `source` is the partition and the offset
    /// of the entity's last record (the firing's outputs are numbered after it).
    nonisolated(nonsending) static func fire(
        _ timer: EntityTimer, on entity: any Entity, descriptor: EntityDescriptor, id: EntityID, source: TopicPartition,
        after offset: Int64, clocks: TimerClocks, logger: Logger, tables: any TableLookup, encodingState: Bool = true
    ) async throws -> Applied {
        if timer.name == EntityTimer.stateExpiry {
            return Applied(outputs: [], state: nil, expired: true)
        }
        let outputs = OutputCollector()
        let context = EntityContext(
            key: id.key, topic: source.topic, partition: source.partition, offset: offset, timestamp: nil, logger: logger,
            eventTime: timer.clock == .eventTime ? timer.due : nil, watermark: clocks.watermark,
            processingTime: clocks.processingTime, isLate: false, timer: timer, outputs: outputs, tables: tables
        )
        let state = try await descriptor.fire(entity, timer, context, encodingState)
        let effects = outputs.effectsSoFar
        return Applied(outputs: effects.messages, state: state, timerChanges: effects.timers)
    }

    /// What a distributed call did besides its outcome: its outputs and
    /// timer changes, through ``EntityContext/current``.
    struct CallEffects: Sendable {
        var outputs: [KafkaProducerMessage]
        var timerChanges: [TimerChange]

        var isEmpty: Bool { outputs.isEmpty && timerChanges.isEmpty }
    }

    /// The error a call is answered with instead of keeping its effects
    /// (a node keeps none, and journals none): its own (it threw), or one
    /// for timers set on an entity without a record (their firings'
    /// outputs would be numbered after no record, alike for every such
    /// entity). Nil when the call's effects stay.
    static func discarded(
        _ outcome: ShoalResultHandler.Outcome, _ effects: CallEffects, on id: EntityID, hasRecords: Bool
    ) -> CallFailure? {
        if case .error(let failure) = outcome { return failure }
        guard !effects.timerChanges.isEmpty, !hasRecords else { return nil }
        return CallFailure(
            code: ShoalError.Code.invocation.description,
            reason: "\(id): a call sets timers only on an entity that has had a record; this one has none"
        )
    }

    /// Runs `call` on `entity` with a context of its own: the entity's key,
    /// its last record's place (`source`, `offset`), and the clocks now.
    nonisolated(nonsending) static func run(
        _ call: EntityCall, on entity: any Entity, system: ShoalActorSystem, source: TopicPartition, after offset: Int64,
        clocks: TimerClocks, logger: Logger, tables: any TableLookup
    ) async -> (ShoalResultHandler.Outcome, CallEffects) {
        let outputs = OutputCollector()
        let context = EntityContext(
            key: call.id.key, topic: source.topic, partition: source.partition, offset: offset, timestamp: nil, logger: logger,
            eventTime: nil, watermark: clocks.watermark, processingTime: clocks.processingTime, isLate: false, timer: nil,
            outputs: outputs, tables: tables
        )
        let outcome = await EntityContext.$running.withValue(context) { await system.execute(call, on: entity) }
        let effects = outputs.effectsSoFar
        return (outcome, CallEffects(outputs: effects.messages, timerChanges: effects.timers))
    }

    /// Outputs one call may emit: its output positions keep 16 bits for them.
    static let maxCallOutputs = 1 << 16

    /// The position of a call's output `index`, at the offset of the record
    /// the journal places the call after: a range of its own (bit 62), 46
    /// bits of a stable hash of the call's id (calls at one place differ
    /// there, across restarts and owners), then the index. Entity keys are
    /// not in an output's id, so a per-entity count would collide between
    /// two entities called at one place.
    static func callOutputPosition(callID: String, index: Int) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a: the same in every process, unlike Hasher
        for byte in callID.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return 1 << 62 | Int64(hash & (1 << 46 - 1)) << 16 | Int64(index)
    }

    /// The position of a timer firing's output: the `firing`-th firing
    /// since the entity's last record (from 1), output `index` within it.
    /// Record outputs use positions below 2³², so ids never collide.
    static func timerOutputPosition(firing: Int64, index: Int) -> Int64 {
        firing << 32 | Int64(index)
    }
}
