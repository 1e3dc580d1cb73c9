import Foundation
@testable import Shoal
import ShoalKafka
import Testing
@testable import CounterApp

extension NodeTests {
    /// A call that changes state is in the partition's file when its reply
    /// arrives; the same call id again is answered from the first execution
    /// and changes nothing, also after a restart; a read-only call leaves
    /// no trace.
    @Test(.timeLimit(.minutes(3)))
    func aStateChangingCallIsCommittedBeforeItsReplyAndAppliedOncePerCallID() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let group = uniqueName("durable")
        let node = try makeNode(broker, group: group)
        let directory = node.configuration
        try await withRunningNode(node) {
            #expect(await eventually { node.ownedPartitions.count == 8 })
            try await produce(broker, topic: "counter-events", [("k", #"{"key":"k","seq":0,"amount":3}"#)])
            let counter = try Counter.reference(key: "k", in: node.actorSystem)
            #expect(await eventually { (try? await counter.total())?.count == 1 })
            #expect(try await ShoalActorSystem.withCallID("first") { try await counter.add(bonus: 5) } == 5)
            #expect(try storedBonus(of: "k", directory) == 5, "the change is in the file when the reply comes")
            #expect(try await ShoalActorSystem.withCallID("first") { try await counter.add(bonus: 5) } == 5, "a retry is answered, not applied")
            #expect(try await ShoalActorSystem.withCallID("second") { try await counter.add(bonus: 2) } == 7)
            _ = try await counter.total()
            #expect(try storedBonus(of: "k", directory) == 7)
            try await produce(broker, topic: "counter-events", [("k", #"{"key":"k","seq":1,"amount":4}"#)])
            #expect(await eventually { (try? await counter.total())?.sum == 7 })
        }
        // A new node on the same files: the call ids are remembered with the state.
        let again = ShoalNode(configuration: node.configuration, topology: CounterApp.topology, logger: testLogger)
        try await withRunningNode(again) {
            #expect(await eventually { again.ownedPartitions.count == 8 })
            let counter = try Counter.reference(key: "k", in: again.actorSystem)
            #expect(try await ShoalActorSystem.withCallID("first") { try await counter.add(bonus: 5) } == 5)
            #expect(try await ShoalActorSystem.withCallID("second") { try await counter.add(bonus: 2) } == 7)
            #expect(try await counter.total().sum == 7)
            #expect(try storedBonus(of: "k", again.configuration) == 7, "retries after the restart applied nothing")
        }
    }

    /// State-changing calls are journaled with the records: a replay of
    /// the node's files runs them where the node ran them, so its final
    /// states equal the recorded ones (`--diff` finds nothing), and a
    /// journal written as JSON lines keeps them.
    @Test(.timeLimit(.minutes(3)))
    func stateChangingCallsAreJournaledAndReplayedInTheirPlace() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let node = try makeNode(broker, group: uniqueName("journaled"))
        try await withRunningNode(node) {
            #expect(await eventually { node.ownedPartitions.count == 8 })
            let counter = try Counter.reference(key: "k", in: node.actorSystem)
            try await produce(broker, topic: "counter-events", [("k", #"{"key":"k","seq":0,"amount":3}"#)])
            #expect(await eventually { (try? await counter.total())?.count == 1 })
            #expect(try await counter.add(bonus: 5) == 5)
            #expect(try await counter.total().sum == 3, "a read-only call is not journaled")
            try await produce(broker, topic: "counter-events", [("k", #"{"key":"k","seq":1,"amount":4}"#)])
            #expect(await eventually { (try? await counter.total())?.count == 2 })
            #expect(try await counter.add(bonus: 2) == 7)
            // A key that only calls ever reached.
            #expect(try await Counter.reference(key: "called-only", in: node.actorSystem).add(bonus: 1) == 1)
        }
        let replay = try Replay(CounterApp.topology)
        var calls: [String: Int] = [:]
        for partition in Int32(0)..<8 {
            let path = node.configuration.storePath(for: TopicPartition("counter-events", partition))
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let recorded = try RecordedPartition(at: path, entityTypes: replay.entityTypes)
            for event in recorded.events where event.call != nil { calls[event.key, default: 0] += 1 }
            let replayed = try await replay.run(recorded.events)
            #expect(replayed.failures.isEmpty, "partition \(partition): \(replayed.failures)")
            #expect(ReplayDiff(recorded: recorded, replayed: replayed).isEmpty, "partition \(partition): the replay differs")
            let lines = recorded.events.map(\.journalLine).joined(separator: "\n")
            // (Record values come back with their keys sorted: compared are the calls.)
            let read = try ReplayJournal.jsonLines(lines)
            #expect(read.map(\.call) == recorded.events.map(\.call) && read.map(\.offset) == recorded.events.map(\.offset), "partition \(partition): calls survive JSON lines")
        }
        #expect(calls == ["k": 2, "called-only": 1], "two calls of k and one of called-only journaled: \(calls)")
        let path = node.configuration.storePath(for: TopicPartition("counter-events", Murmur2Partitioner.partition(for: "k", partitionCount: 8)))
        let events = try ReplayJournal.partitionFile(at: path, entityTypes: replay.entityTypes).filter { $0.key == "k" }
        #expect(events.map { $0.call == nil ? "record" : "call" } == ["record", "call", "record", "call"], "each call after the record before it")
        let state = try await replay.run(events).state(Counter.State.self, of: EntityID(type: "Counter", key: "k"))
        #expect(state?.bonus == 7 && state?.sum == 7)
    }

    /// A call emits outputs and sets timers through its own context: they
    /// commit with the call, its outputs carry ids numbered after the
    /// entity's last record, the timer fires when the watermark passes it,
    /// and a replay of the file gives the same outputs and states.
    @Test(.timeLimit(.minutes(3)))
    func aCallsOutputsAndTimersCommitWithItAndReplay() async throws {
        let broker = try EmbeddedBroker(topics: [.init(name: "reminders", partitions: 1), .init(name: "reminders-fired", partitions: 1)], logger: testLogger)
        let group = uniqueName("call-effects")
        try broker.createChangelog(group: group, partitions: 1)
        let configuration = ShoalNodeConfiguration(
            brokers: [broker.bootstrapServers], group: group, dataDirectory: try temporaryDirectory().path, sessionTimeout: .seconds(6)
        )
        let topology = Topology { topology in
            topology.route(topic: "reminders", to: Reminder.self, key: .field(\ReminderEvent.key), eventTime: .field(\ReminderEvent.at)) {
                reminder, event, context in reminder.handle(event, in: context)
            }
        }
        let node = ShoalNode(configuration: configuration, topology: topology, logger: testLogger)
        let expectedIDs = ["reminders/0/0/\(EntityDispatch.callOutputPosition(callID: "remind-1", index: 0))", "reminders/0/1/\(1 << 32)"]
        try await withRunningNode(node) {
            #expect(await eventually { node.ownedPartitions.count == 1 })
            try await produce(broker, topic: "reminders", [("r", #"{"key":"r","seq":0,"at":1000}"#)])
            // The call comes after the record: its output is numbered after it.
            #expect(await eventually { (try? await node.actorSystem.state(of: EntityID(type: "Reminder", key: "r")))?.offset == 0 })
            let reminder = try Reminder.reference(key: "r", in: node.actorSystem)
            try await ShoalActorSystem.withCallID("remind-1") { try await reminder.remind("called", at: EventTime(milliseconds: 5_000)) }
            // A call that throws keeps nothing: no output, no state change.
            await #expect(throws: ReminderRefused.self) { try await reminder.remindThenFail("x") }
            // Timers on an entity that has had no record: refused, nothing kept.
            let fresh = try Reminder.reference(key: "no-record", in: node.actorSystem)
            let refused = await #expect(throws: ShoalError.self) { try await fresh.remind("early", at: EventTime(milliseconds: 5_000)) }
            #expect(refused?.code == .invocation && refused?.reason.contains("has had a record") == true, "\(String(describing: refused))")
            try await produce(broker, topic: "reminders", [("r", #"{"key":"r","seq":1,"at":10000}"#)])
            let fired = try await readTopic(broker, "reminders-fired", count: 2)
            let names = try fired.map { try JSONDecoder().decode(ReminderFired.self, from: Data($0.value!.array)).name }
            #expect(names == ["set called", "called"], "the call's output, then its timer's firing: \(names)")
            let ids = fired.compactMap { $0.headers.string(for: "shoal-id") }
            #expect(ids == expectedIDs, "the call's after its place and id, the firing's after the record: \(ids)")
            let live = try await node.actorSystem.state(of: EntityID(type: "Reminder", key: "r"))
            #expect(live.map { String(decoding: $0.state, as: UTF8.self) }?.contains("\"events\":2") == true, "the throwing call changed nothing")
        }
        let replay = try Replay(topology)
        let recorded = try RecordedPartition(at: configuration.storePath(for: TopicPartition("reminders", 0)), entityTypes: replay.entityTypes)
        let replayed = try await replay.run(recorded.events)
        #expect(replayed.outputs.map(\.id) == expectedIDs)
        #expect(ReplayDiff(recorded: recorded, replayed: replayed).isEmpty, "the replay runs the call where the node did")
    }

    /// The bonus in the key's persisted state, read from the partition files.
    func storedBonus(of key: String, _ configuration: ShoalNodeConfiguration) throws -> Int? {
        let folder = configuration.storeDirectory
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) where name.hasSuffix(".sqlite") {
            let store = try PartitionStore(readingAt: (folder as NSString).appendingPathComponent(name))
            defer { store.close() }
            if let snapshot = try store.snapshots(entity: "Counter", key: key).first {
                let state = try JSONSerialization.jsonObject(with: Data(snapshot.state)) as? [String: Any]
                return state?["bonus"] as? Int
            }
        }
        return nil
    }
}
