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

    init(index: Int, record: KafkaRecord, route: Route, id: EntityID, event: any Sendable) {
        self.index = index
        self.record = record
        self.route = route
        self.id = id
        self.event = event
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
/// steps in event order, and the events that did not decode.
struct ReplayChunk: Sendable {
    var lanes: [[ReplayStep]]
    var undecodable: [(Int, ReplayResult.Failure)] = []

    init(_ events: ArraySlice<ReplayEvent>, lanes count: Int, routes: [String: Route]) {
        lanes = Array(repeating: [], count: count)
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
                let (key, decoded) = try route.decode(record)
                let step = ReplayStep(index: index, record: record, route: route, id: EntityID(type: route.entity.name, key: key), event: decoded)
                lanes[step.lane(of: count)].append(step)
            } catch {
                undecodable.append((index, .init(topic: event.topic, partition: event.partition, offset: event.offset, reason: "\(error)")))
            }
        }
    }
}

/// What one lane produced, each item with its event's index for the merge.
struct LaneOutcome: Sendable {
    var outputs: [(Int, Int, ReplayResult.Output)] = []
    var transitions: [(Int, ReplayResult.Transition)] = []
    var failures: [(Int, ReplayResult.Failure)] = []
    var states: [EntityID: [UInt8]] = [:]
    var applied = 0

    mutating func record(_ applied: EntityDispatch.Applied, of step: ReplayStep) {
        let record = step.record
        for (position, output) in applied.outputs.enumerated() {
            outputs.append((step.index, position, .init(
                source: OutputID(source: record.topicPartition, offset: record.offset, position: Int64(position)), topic: output.topic,
                key: output.key.map { String(decoding: $0, as: UTF8.self) }, value: output.value ?? []
            )))
        }
        if let state = applied.state {
            transitions.append((step.index, .init(offset: record.offset, entity: step.id, state: state)))
        }
        self.applied += 1
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
