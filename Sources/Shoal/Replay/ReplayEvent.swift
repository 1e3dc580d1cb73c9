import Foundation
import ShoalKafka

/// One record to replay: what a topic's record carried, where it sat.
public struct ReplayEvent: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: String
    /// The record's value as it was on Kafka (JSON for Shoal's records).
    public var value: [UInt8]
    /// Event time in milliseconds since the epoch, when known.
    public var timestamp: Int64?
    /// The table lookups the node's handler made for it (from a journal).
    package var reads: [TableRead] = []
    /// Set when this is not a record but a distributed call that changed
    /// its entity's state (from a node's journal): the call's bytes. It runs
    /// where the node ran it, after the entity's record at `offset`.
    package var call: [UInt8]?

    public init(topic: String, partition: Int32 = 0, offset: Int64, key: String, value: [UInt8], timestamp: Int64? = nil) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.timestamp = timestamp
    }

    /// An event whose value is `value` encoded as JSON (sorted keys).
    public init(topic: String, partition: Int32 = 0, offset: Int64, key: String, json value: some Encodable, timestamp: Int64? = nil) throws {
        self.init(
            topic: topic, partition: partition, offset: offset, key: key,
            value: try CanonicalJSON.encode(value), timestamp: timestamp
        )
    }
}

extension ReplayEvent {
    /// A journal row of `partition`, as the record it was.
    init(_ row: JournalEntry, of partition: TopicPartition) {
        self.init(
            topic: row.source?.topic ?? partition.topic, partition: partition.partition, offset: row.offset, key: row.key,
            value: row.event ?? [], timestamp: row.eventTime
        )
        reads = row.reads
    }

    /// A journaled call of `partition`, placed after its entity's record.
    init(_ call: JournaledCall, of partition: TopicPartition) {
        self.init(topic: partition.topic, partition: partition.partition, offset: call.afterOffset, key: call.key, value: [])
        self.call = call.call
    }

    /// The Kafka record this event stands for.
    var record: KafkaRecord {
        KafkaRecord(
            topic: topic, partition: partition, offset: offset, key: KafkaBytes(key), value: KafkaBytes(value),
            timestamp: timestamp.map { KafkaTimestamp(milliseconds: $0) }
        )
    }
}

/// What a replay produced: the outputs in order, every entity's state after
/// each of its events, the final states, and the events that failed.
public struct ReplayResult: Sendable, Hashable {
    /// An output with its deterministic id.
    public struct Output: Sendable, Hashable {
        public var source: OutputID
        public var topic: String
        public var key: String?
        public var value: [UInt8]
        /// The record timestamp it carries (ms): its source event's, or for
        /// a timer's output the time the timer was due, as in a node.
        public var timestamp: Int64? = nil

        /// The id as the `shoal-id` header carries it: `topic/partition/offset/position`.
        public var id: String { source.description }
    }

    /// An entity's encoded state after one event, or after a timer fired
    /// (then `offset` is the entity's last event's and `timer` is set).
    public struct Transition: Sendable, Hashable {
        public var offset: Int64
        public var entity: EntityID
        public var state: [UInt8]
        public var timer: EntityTimer? = nil
    }

    /// An event older than its partition's watermark by more than the
    /// route's allowed lateness, and what its ``LateEvents`` policy did.
    public struct LateEvent: Sendable, Hashable {
        public var topic: String
        public var partition: Int32
        public var offset: Int64
        public var eventTime: EventTime
        public var watermark: EventTime
        public var policy: LateEvents
    }

    /// An event that could not be decoded or whose handler threw.
    public struct Failure: Sendable, Hashable {
        public var topic: String
        public var partition: Int32
        public var offset: Int64
        public var reason: String
    }

    public var outputs: [Output] = []
    public var transitions: [Transition] = []
    /// Final encoded states (sorted-key JSON), by entity.
    public var states: [EntityID: [UInt8]] = [:]
    public var failures: [Failure] = []
    /// Events too late for the watermark (applied ones too, with `.apply`).
    public var lateEvents: [LateEvent] = []
    /// A timer that fired on an entity.
    public struct FiredTimer: Sendable, Hashable {
        public var entity: EntityID
        public var timer: EntityTimer
    }

    /// Timers that fired, in order.
    public var firedTimers: [FiredTimer] = []
    /// Timers still pending at the end, by entity.
    public var pendingTimers: [EntityID: [EntityTimer]] = [:]
    /// Events applied (the rest are in `failures` or dropped as too late).
    public var applied = 0

    /// A final state decoded as `State`.
    public func state<State: Decodable>(_ type: State.Type, of entity: EntityID) throws -> State? {
        guard let bytes = states[entity] else { return nil }
        return try CanonicalJSON.decode(State.self, from: bytes)
    }
}

extension ReplayEvent {
    /// The event as a line of a JSON Lines journal (``ReplayJournal/jsonLines(at:)``
    /// reads it back as the same event). A JSON value is written as JSON
    /// (keys sorted); a value that is not JSON as `valueText` when it is
    /// UTF-8 text, else as `valueBase64`, so that it reads back byte for byte.
    /// A journaled call is written as `callBase64`, the call's bytes.
    public var journalLine: String {
        var object: [String: Any] = ["topic": topic, "partition": Int(partition), "offset": Int(offset), "key": key]
        if let call {
            object["callBase64"] = Data(call).base64EncodedString()
        } else if let json = try? CanonicalJSON.object(value) {
            object["value"] = json
        } else if let text = String(validating: value, as: UTF8.self) {
            object["valueText"] = text
        } else {
            object["valueBase64"] = Data(value).base64EncodedString()
        }
        if let timestamp { object["timestamp"] = Int(timestamp) }
        return CanonicalJSON.line(object)
    }
}
