import Distributed
import Foundation
import Shoal
import Synchronization
import Testing
@testable import CounterApp

/// Tries per key and timer: odd ones throw, so that a replay run again
/// (a replay of final states meeting a throw) sees the same.
private let tries = Mutex<[String: Int]>([:])

/// Sets two timers on its first event; each firing throws on its first
/// try (after changing the state) and emits on the next.
distributed actor FlakyAlarm: Entity {
    typealias ActorSystem = ShoalActorSystem
    struct State: Codable, Sendable { var fired: [String] = [] }
    var state = State()

    init(actorSystem: ShoalActorSystem) { self.actorSystem = actorSystem }

    func handle(_ event: ReminderEvent, in context: EntityContext) {
        guard event.seq == 0 else { return }
        context.setTimer("a", at: event.at + .seconds(1))
        context.setTimer("b", at: event.at + .seconds(2))
    }

    func timerFired(_ timer: EntityTimer, in context: EntityContext) throws {
        state.fired.append(timer.name)
        let attempt = tries.withLock { tries in
            tries["\(context.key)/\(timer.name)", default: 0] += 1
            return tries["\(context.key)/\(timer.name)", default: 0]
        }
        if attempt % 2 == 1 { throw PoisonEvent() }
        try context.emit(topic: "alarms", key: context.key, value: state.fired)
    }
}

extension ReplayTests {
    /// A timer that throws once and then succeeds keeps its firing's
    /// number: the next firing's outputs get ids of their own, and the state
    /// holds each firing once (the throwing try was rolled back).
    @Test(arguments: [true, false])
    func aTimerThatSucceedsOnItsSecondTryKeepsItsFiringNumber(transitions: Bool) async throws {
        let key = "flaky-\(transitions)"
        let replay = try Replay { topology in
            topology.route(topic: "alarms-in", to: FlakyAlarm.self, key: .field(\ReminderEvent.key), eventTime: .field(\ReminderEvent.at)) {
                alarm, event, context in alarm.handle(event, in: context)
            }
        }
        let events = try [0, 1].map { seq in
            try ReplayEvent(
                topic: "alarms-in", offset: Int64(seq), key: key,
                json: ReminderEvent(key: key, seq: seq, at: EventTime(milliseconds: Int64(seq) * 10_000))
            )
        }
        let result = try await replay.run(events, transitions: transitions)
        #expect(result.outputs.count == 2)
        #expect(Set(result.outputs.map(\.id)).count == 2, "\(result.outputs.map(\.id))")
        #expect(result.outputs.map { String(decoding: $0.value, as: UTF8.self) } == [#"["a"]"#, #"["a","b"]"#])
        #expect(result.failures.isEmpty)
    }
}

extension NodeTests {
    /// In a node too: a timer that succeeds on its second try keeps its
    /// firing's number, so the next firing's output has an id of its own
    /// (before, both carried the same `shoal-id`, and a reader dropping
    /// repeats, or a restore keying outputs by id, lost one).
    @Test(.timeLimit(.minutes(3)))
    func aTimerThatSucceedsOnItsSecondTryKeepsItsFiringNumberInANode() async throws {
        let broker = try EmbeddedBroker(topics: [.init(name: "alarms-in", partitions: 1), .init(name: "alarms", partitions: 1)], logger: testLogger)
        let configuration = try testNodeConfiguration(broker, group: "flaky-alarm", changelogPartitions: 1)
        let node = ShoalNode(configuration: configuration, topology: Topology { topology in
            topology.route(topic: "alarms-in", to: FlakyAlarm.self, key: .field(\ReminderEvent.key), eventTime: .field(\ReminderEvent.at)) {
                alarm, event, context in alarm.handle(event, in: context)
            }
        }, logger: testLogger)
        let key = uniqueName("flaky-node")
        let events = try [0, 1].map { seq in
            (key, String(decoding: try JSONEncoder().encode(ReminderEvent(key: key, seq: seq, at: EventTime(milliseconds: Int64(seq) * 10_000))), as: UTF8.self))
        }
        let alarms = try await withRunningNode(node) {
            #expect(await eventually { node.ownedPartitions.count == 1 })
            try await produce(broker, topic: "alarms-in", events)
            return try await readTopic(broker, "alarms", count: 2)
        }
        #expect(alarms.map { String(decoding: $0.value?.array ?? [], as: UTF8.self) } == [#"["a"]"#, #"["a","b"]"#])
        #expect(Set(alarms.compactMap { $0.headers.string(for: OutputID.header) }).count == 2)
    }
}
