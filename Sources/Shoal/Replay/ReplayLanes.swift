import Foundation
import ShoalKafka
import Synchronization

/// An event ready to apply: decoded, with its route and entity. A class:
/// steps move between arrays (decoding, lanes) and a struct of this size
/// cost about 15 retains per copy.
final class ReplayStep: Sendable {
    let index: Int
    let record: KafkaRecord
    let route: Route
    let id: EntityID
    let event: any Sendable
    let eventTime: EventTime?
    // Written once by the clock pass (`ReplayClocks`), before the lanes'
    // task group starts, and only read by one lane afterwards: the group's
    // start orders the write before every read.
    nonisolated(unsafe) var moment = EntityDispatch.Moment.untimed(now: .distantPast)
    nonisolated(unsafe) var tooLate = false

    init(index: Int, record: KafkaRecord, route: Route, id: EntityID, event: any Sendable, eventTime: EventTime?) {
        self.index = index
        self.record = record
        self.route = route
        self.id = id
        self.event = event
        self.eventTime = eventTime
    }

    func lane(of lanes: Int) -> Int {
        // Any stable choice works: an entity's events stay in one lane.
        var hasher = Hasher()
        hasher.combine(id)
        return Int(UInt(bitPattern: hasher.finalize()) % UInt(lanes))
    }

    func failure(_ reason: String) -> ReplayResult.Failure {
        .init(topic: record.topic, partition: record.partition, offset: record.offset, reason: reason)
    }
}

/// A run of consecutive events decoded and dealt to lanes: each lane's
/// steps in event order, all of them in event order, and the events that
/// did not decode.
struct ReplayChunk: Sendable {
    var lanes: [[ReplayStep]]
    var ordered: [ReplayStep] = []
    var undecodable: [(Int, ReplayResult.Failure)] = []

    init(_ events: ArraySlice<ReplayEvent>, lanes count: Int, routes: [String: Route]) {
        lanes = Array(repeating: [], count: count)
        ordered.reserveCapacity(events.count)
        var route: Route?
        for (index, event) in zip(events.indices, events) {
            // Journals hold long runs of one topic: look its route up once.
            if route?.topic != event.topic { route = routes[event.topic] }
            guard let route else {
                undecodable.append((index, .init(topic: event.topic, partition: event.partition, offset: event.offset, reason: "no route for topic \(event.topic)")))
                continue
            }
            let record = event.record
            do {
                let (key, decoded, time) = try route.decode(record)
                let step = ReplayStep(
                    index: index, record: record, route: route, id: EntityID(type: route.entity.name, key: key), event: decoded, eventTime: time
                )
                lanes[step.lane(of: count)].append(step)
                ordered.append(step)
            } catch {
                undecodable.append((index, .init(topic: event.topic, partition: event.partition, offset: event.offset, reason: "\(error)")))
            }
        }
    }
}

/// Where a replay item sorts in the result: the event during whose turn it
/// happened, then before the event's handler (timers that fell due), the
/// handler, after it; at the end (index = event count) by entity.
struct ReplayOrder: Sendable, Comparable {
    var index: Int
    var phase: Int
    var entity: String
    var sequence: Int

    static func < (left: ReplayOrder, right: ReplayOrder) -> Bool {
        (left.index, left.phase, left.entity, left.sequence) < (right.index, right.phase, right.entity, right.sequence)
    }
}

/// What one lane produced, each item with its order for the merge.
struct LaneOutcome: Sendable {
    var outputs: [(ReplayOrder, ReplayResult.Output)] = []
    var transitions: [(ReplayOrder, ReplayResult.Transition)] = []
    var fired: [(ReplayOrder, ReplayResult.FiredTimer)] = []
    var failures: [(Int, ReplayResult.Failure)] = []
    var late: [(Int, ReplayResult.LateEvent)] = []
    var states: [EntityID: [UInt8]] = [:]
    var pendingTimers: [EntityID: [EntityTimer]] = [:]
    var applied = 0
    private var sequence = 0

    /// Records what an event or a timer did: outputs, and the state after it.
    mutating func record(
        _ applied: EntityDispatch.Applied, at order: ReplayOrder, entity: EntityID, source: TopicPartition, offset: Int64,
        positions: (Int) -> Int64, timer: EntityTimer? = nil
    ) {
        for (index, output) in applied.outputs.enumerated() {
            outputs.append((next(order), .init(
                source: OutputID(source: source, offset: offset, position: positions(index)), topic: output.topic,
                key: output.key.map { String(decoding: $0, as: UTF8.self) }, value: output.value ?? []
            )))
        }
        if let state = applied.state {
            transitions.append((next(order), .init(offset: offset, entity: entity, state: state, timer: timer)))
        }
        if let timer { fired.append((next(order), .init(entity: entity, timer: timer))) }
    }

    private mutating func next(_ order: ReplayOrder) -> ReplayOrder {
        sequence += 1
        var order = order
        order.sequence = sequence
        return order
    }
}

/// Counts replayed events across lanes and reports every 100,000.
final class ReplayProgress: Sendable {
    private let count = Atomic<Int>(0)
    private let report: (@Sendable (Int) -> Void)?

    init(report: (@Sendable (Int) -> Void)?) {
        self.report = report
    }

    func advance() {
        let done = count.add(1, ordering: .relaxed).newValue
        if done % 100_000 == 0 { report?(done) }
    }
}
