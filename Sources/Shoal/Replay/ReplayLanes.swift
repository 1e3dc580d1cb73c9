import Foundation
import ShoalKafka
import Synchronization

/// An event ready to apply: decoded, with its route and its entity (a slot
/// of its chunk's entity table); the clock pass adds its moment and whether
/// it came too late. A value in its chunk's array: as objects, allocating
/// and freeing a million of them was a tenth of a replay (`perf`,
/// `ShoalBenchmarks replay`).
struct ReplayStep: Sendable {
    /// The event's index in the replayed events.
    let index: Int
    let route: Route
    let entity: Int
    let event: any Sendable
    let eventTime: EventTime?
    var moment = EntityDispatch.Moment.untimed(now: .distantPast)
    var tooLate = false
    /// A journaled call (`event` is its ``EntityCall``), not a record: it
    /// moves no clock.
    var isCall = false
}

/// A run of consecutive events decoded: their steps in event order, the
/// entities they go to, each lane's steps (positions in `steps`, in event
/// order), and the events that did not decode.
struct ReplayChunk: Sendable {
    private(set) var steps: [ReplayStep] = []
    /// The chunk's entities by slot, and the lane of each.
    private(set) var entities: [EntityID] = []
    private var entityLanes: [Int] = []
    private(set) var lanes: [[Int]]
    private(set) var undecodable: [(Int, ReplayResult.Failure)] = []

    init(_ events: ArraySlice<ReplayEvent>, lanes count: Int, routes: [String: Route], tables: Set<String> = []) {
        lanes = Array(repeating: [], count: count)
        steps.reserveCapacity(events.count)
        var slots: [EntityID: Int] = [:]
        var route: Route?
        // Events are read in place: copying each one out was seven retains
        // and releases.
        for index in events.indices {
            if let call = events[index].call {
                addCall(call, at: index, of: events, lanes: count, routes: routes, slots: &slots)
                continue
            }
            // Journals hold long runs of one topic: look its route up once.
            if route?.topic != events[index].topic { route = routes[events[index].topic] }
            guard let route else {
                // A table's records change what later lookups see (ReplayTables).
                if !tables.contains(events[index].topic) {
                    undecodable.append((index, events[index].failure("no route for topic \(events[index].topic)")))
                }
                continue
            }
            do {
                let decoded = try route.decode(
                    KafkaBytes(events[index].value), events[index].timestamp.map { KafkaTimestamp(milliseconds: $0) }
                ) { events[index].key }
                let id = EntityID(type: route.entity.name, key: decoded.key)
                let slot = slots[id] ?? add(id, lanes: count, to: &slots)
                steps.append(ReplayStep(index: index, route: route, entity: slot, event: decoded.event, eventTime: decoded.time))
                lanes[entityLanes[slot]].append(steps.count - 1)
            } catch {
                undecodable.append((index, events[index].failure("\(error)")))
            }
        }
    }

    /// A journaled call's step, to its entity's lane.
    private mutating func addCall(
        _ bytes: [UInt8], at index: Int, of events: ArraySlice<ReplayEvent>, lanes count: Int, routes: [String: Route], slots: inout [EntityID: Int]
    ) {
        do {
            let call = try EntityCall(decoding: bytes)
            // The call's shard's own route (the file's topic), else the first by topic name.
            let own = routes[events[index].topic].flatMap { $0.entity.name == call.id.type ? $0 : nil }
            guard let route = own ?? routes.sorted(by: { $0.key < $1.key }).first(where: { $0.value.entity.name == call.id.type })?.value else {
                undecodable.append((index, events[index].failure("a journaled call to \(call.id): no route to entity type \(call.id.type)")))
                return
            }
            let slot = slots[call.id] ?? add(call.id, lanes: count, to: &slots)
            steps.append(ReplayStep(index: index, route: route, entity: slot, event: call, eventTime: nil, isCall: true))
            lanes[entityLanes[slot]].append(steps.count - 1)
        } catch {
            undecodable.append((index, events[index].failure("a journaled call does not decode: \(error)")))
        }
    }

    private mutating func add(_ id: EntityID, lanes count: Int, to slots: inout [EntityID: Int]) -> Int {
        // Any stable choice works: an entity's events stay in one lane.
        var hasher = Hasher()
        hasher.combine(id)
        entityLanes.append(Int(UInt(bitPattern: hasher.finalize()) % UInt(count)))
        entities.append(id)
        slots[id] = entities.count - 1
        return entities.count - 1
    }

    /// Stamps every step with its moment, in event order.
    mutating func stamp(with clocks: inout ReplayClocks, events: [ReplayEvent]) {
        for position in steps.indices where !steps[position].isCall { clocks.stamp(&steps[position], of: events) }
    }
}

extension ReplayEvent {
    func failure(_ reason: String) -> ReplayResult.Failure {
        .init(topic: topic, partition: partition, offset: offset, reason: reason)
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

    /// The turn of event `index`'s handler.
    static func event(_ index: Int) -> ReplayOrder {
        ReplayOrder(index: index, phase: 1, entity: "", sequence: 0)
    }
}

/// What a lane keeps of each step.
struct LaneSettings: Sendable {
    /// Encode the state after every step: for transitions, and for rolling
    /// an entity back when a handler throws.
    var encodingStates: Bool
    /// Keep those states as the result's transitions.
    var keepingTransitions: Bool
    /// Where lookups are answered.
    var tables: ReplayTables
}

/// What one lane produced, each item with its order for the merge.
struct LaneOutcome: Sendable {
    var outputs: [(ReplayOrder, ReplayResult.Output)] = []
    var transitions: [(ReplayOrder, ReplayResult.Transition)] = []
    var fired: [(ReplayOrder, ReplayResult.FiredTimer)] = []
    var failures: [(ReplayOrder, ReplayResult.Failure)] = []
    var late: [(Int, ReplayResult.LateEvent)] = []
    var states: [EntityID: [UInt8]] = [:]
    var pendingTimers: [EntityID: [EntityTimer]] = [:]
    var applied = 0
    /// A handler or timer threw after a step whose state was not encoded:
    /// the entity could not be rolled back, and the replay runs again
    /// encoding every state.
    var rollbackNeedsStates = false
    /// Whether states recorded become transitions.
    var keepsTransitions = true
    private var sequence = 0

    /// Records what an event or a timer did: outputs, and the state after it.
    mutating func record(
        _ applied: EntityDispatch.Applied, at order: ReplayOrder, entity: EntityID, source: TopicPartition, offset: Int64,
        timestamp: Int64?, positions: (Int) -> Int64, timer: EntityTimer? = nil
    ) {
        for (index, output) in applied.outputs.enumerated() {
            outputs.append((next(order), .init(
                source: OutputID(source: source, offset: offset, position: positions(index)), topic: output.topic,
                key: output.key.map { String(decoding: $0, as: UTF8.self) }, value: output.value ?? [], timestamp: timestamp
            )))
        }
        if keepsTransitions, let state = applied.state {
            transitions.append((next(order), .init(offset: offset, entity: entity, state: state, timer: timer)))
        }
        if let timer { fired.append((next(order), .init(entity: entity, timer: timer))) }
    }

    /// A failure at `order`: failures of timers at the end sort by their
    /// entity's name, whichever lane they ran in.
    mutating func fail(_ failure: ReplayResult.Failure, at order: ReplayOrder) {
        failures.append((next(order), failure))
    }

    private mutating func next(_ order: ReplayOrder) -> ReplayOrder {
        sequence += 1
        var order = order
        order.sequence = sequence
        return order
    }
}

/// Counts replayed events across lanes and reports about every 100,000.
final class ReplayProgress: Sendable {
    /// Lanes add their counts in batches this large: one shared counter
    /// written by both lanes for every event kept its cache line moving
    /// between the cores.
    static let batch = 1_024
    private static let every = 100_000
    private let count = Atomic<Int>(0)
    private let report: (@Sendable (Int) -> Void)?

    init(report: (@Sendable (Int) -> Void)?) {
        self.report = report
    }

    func advance(by events: Int) {
        let done = count.add(events, ordering: .relaxed).newValue
        if done / Self.every != (done - events) / Self.every { report?(done / Self.every * Self.every) }
    }
}
