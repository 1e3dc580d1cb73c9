import Foundation
import Logging
import ShoalKafka
import Synchronization

/// What a handler knows about the record it handles, and how it emits outputs.
public struct EntityContext: Sendable {
    /// The entity's key.
    public let key: String
    /// Where the record came from.
    public let topic: String
    public let partition: Int32
    public let offset: Int64
    /// The record's timestamp, when it has one.
    public let timestamp: KafkaTimestamp?
    /// A logger with the entity and record in its metadata.
    public let logger: Logger
    /// The event's time (from the route's ``EventTimePolicy``); for a
    /// timer, its due time.
    public let eventTime: EventTime?
    /// The partition's watermark before this event: event-time timers at or
    /// before it have fired.
    public let watermark: EventTime
    /// Now: the wall clock in a node, the largest event time seen in a replay.
    public let processingTime: EventTime
    /// Whether the event arrived behind the watermark.
    public let isLate: Bool
    /// The timer firing, when this context is for one.
    public let timer: EntityTimer?
    let outputs: OutputCollector
    /// Where lookups are answered (see ``lookup(_:in:as:)``).
    var tables: any TableLookup = NoTables()

    /// Emits `value` as JSON to `topic` under `key`. The output carries a
    /// deterministic id header (`shoal-id`: source topic, partition, offset,
    /// index) so that readers can drop repeats.
    public func emit(topic: String, key: String, value: some Encodable) throws {
        emit(topic: topic, key: key, bytes: try CanonicalJSON.encode(value))
    }

    /// Emits raw bytes to `topic` under `key`.
    public func emit(topic: String, key: String, bytes: [UInt8]) {
        // Its id (`shoal-id`: this record and the output's position) is added
        // when the outbox publishes it, after its commit.
        outputs.append(KafkaProducerMessage(topic: topic, key: Array(key.utf8), value: bytes))
    }
}

extension EntityContext {
    /// The context of the distributed call running now, read in the body of
    /// a `distributed func` on the node that owns the entity (and in a
    /// replay of its journal); nil anywhere else. What the call emits and
    /// the timers it sets through it commit with the call, as an event's
    /// do: the call is journaled, and its outputs carry ids numbered after
    /// the entity's last record, as a timer firing's are.
    public static var current: EntityContext? { running }

    @TaskLocal static var running: EntityContext?
}

extension EntityContext {
    /// Sets the event-time timer `name` (replacing a pending one of that
    /// name) to fire when the partition's watermark reaches `time`.
    public func setTimer(_ name: String, at time: EventTime) {
        outputs.change(.set(EntityTimer(name: name, clock: .eventTime, due: time)))
    }

    /// Sets the processing-time timer `name` to fire `delay` from now.
    public func setTimer(_ name: String, after delay: Duration) {
        outputs.change(.set(EntityTimer(name: name, clock: .processingTime, due: processingTime + delay)))
    }

    /// Cancels the pending timer `name`, if any.
    public func cancelTimer(_ name: String) {
        outputs.change(.cancel(name))
    }
}

/// What one handler call emitted: outputs in order, timer changes, and
/// the table lookups it made.
final class OutputCollector: Sendable {
    private let effects = Mutex<(messages: [KafkaProducerMessage], timers: [TimerChange], reads: [TableRead])>(([], [], []))

    func append(_ message: KafkaProducerMessage) {
        effects.withLock { $0.messages.append(message) }
    }

    func change(_ timer: TimerChange) {
        effects.withLock { $0.timers.append(timer) }
    }

    func read(_ lookup: TableRead) {
        effects.withLock { $0.reads.append(lookup) }
    }

    /// The lookup of `key` in `table` this call made already, if any.
    func earlierRead(table: String, key: String) -> TableRead? {
        effects.withLock { $0.reads.first { $0.table == table && $0.key == key } }
    }

    /// Whether the handler set or cancelled a timer.
    var changesTimers: Bool { effects.withLock { !$0.timers.isEmpty } }

    /// The outputs, timer changes and lookups, read in one lock.
    var effectsSoFar: (messages: [KafkaProducerMessage], timers: [TimerChange], reads: [TableRead]) { effects.withLock { $0 } }
}
