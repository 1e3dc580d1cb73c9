import Foundation
import ShoalTesting
import Testing
@testable import CounterApp

@Suite("Replay")
struct ReplayTests {
    let replay: Replay

    init() throws {
        replay = try Replay(CounterApp.self)
    }

    func journal(_ lines: [String]) throws -> URL {
        let url = try temporaryDirectory().appendingPathComponent("journal.jsonl")
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func totals(_ result: ReplayResult) throws -> [CounterTotal] {
        try result.outputs.map { try JSONDecoder().decode(CounterTotal.self, from: Data($0.value)) }
    }

    @Test func aHandWrittenJournalGivesItsOutputsAndStates() async throws {
        let url = try journal([
            #"{"topic":"counter-events","key":"a","value":{"key":"a","seq":0,"amount":5}}"#,
            #"{"topic":"counter-events","key":"b","value":{"key":"b","seq":0,"amount":1}}"#,
            #"{"topic":"counter-events","key":"a","value":{"key":"a","seq":1,"amount":7}}"#,
            #"{"topic":"counter-events","key":"a","value":{"key":"a","seq":2,"amount":1,"poison":true}}"#,
        ])
        let result = try await replay.run(ReplayJournal.jsonLines(at: url))
        #expect(try totals(result) == [
            CounterTotal(key: "a", seq: 0, count: 1, sum: 5),
            CounterTotal(key: "b", seq: 0, count: 1, sum: 1),
            CounterTotal(key: "a", seq: 1, count: 2, sum: 12),
        ])
        #expect(result.outputs.map(\.id) == ["counter-events/0/0/0", "counter-events/0/1/0", "counter-events/0/2/0"])
        let a = try #require(try result.state(Counter.State.self, of: EntityID(type: "Counter", key: "a")))
        #expect(a.count == 2 && a.sum == 12 && a.lastSeq == 1)
        #expect(result.transitions.map(\.offset) == [0, 1, 2])
        #expect(result.failures.map(\.offset) == [3], "the poison event failed and changed nothing")
    }

    @Test func twoReplaysAreIdentical() async throws {
        let events = CounterWorkload(keys: 50, perKey: 20).messages.enumerated().map { index, message in
            ReplayEvent(topic: "counter-events", offset: Int64(index), key: message.key, value: Array(message.value.utf8))
        }
        let first = try await replay.run(events)
        let second = try await replay.run(events)
        #expect(first == second)
        let oneLane = try await replay.run(events, lanes: 1)
        let sevenLanes = try await replay.run(events, lanes: 7)
        #expect(oneLane == first && sevenLanes == first, "the same result for any number of lanes")
        #expect(first.outputs.count == 1_000 && first.states.count == 50)
    }

    @Test func badJournalsAreNamed() async throws {
        let truncated = try journal([
            #"{"topic":"counter-events","key":"a","value":{"key":"a","seq":0,"amount":5}}"#,
            #"{"topic":"counter-events","key":"a","val"#,
        ])
        let error = try #require(throws: ShoalError.self) { try ReplayJournal.jsonLines(at: truncated) }
        #expect(error.code == .journal && error.reason.contains("\(truncated.path) line 2"))

        let store = try temporaryDirectory().appendingPathComponent("orders-0.sqlite").path
        let writer = try PartitionStore(path: store)
        var commit = StoreCommit(nextOffset: 1)
        commit.journal = [JournalEntry(offset: 0, entity: "Order", key: "o-1", event: Array("{}".utf8), eventTime: nil)]
        try writer.commit(commit)
        writer.close()
        let foreign = try #require(throws: ShoalError.self) { try ReplayJournal.partitionFile(at: store, entityTypes: replay.entityTypes) }
        #expect(foreign.reason.contains("entity type Order"))
    }

    /// A node records its partitions' journals; replaying each gives exactly
    /// the outputs its outbox holds and the states its snapshots hold.
    @Test(.timeLimit(.minutes(3)))
    func aRecordedJournalReplaysToTheRecordedOutputsAndStates() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let configuration = try testNodeConfiguration(broker, group: "record")
        let messages = CounterWorkload(keys: 200, perKey: 10).messages
        try await runCounterNode(broker, configuration, messages)
        var replayedEvents = 0
        for partition in 0..<Int32(8) {
            let path = configuration.storePath(for: TopicPartition("counter-events", partition))
            let result = try await replay.run(ReplayJournal.partitionFile(at: path, entityTypes: replay.entityTypes))
            replayedEvents += result.transitions.count
            let store = try PartitionStore(readingAt: path)
            defer { store.close() }
            // The outbox holds outputs in commit order, where keys interleave as
            // they ran concurrently; by source offset they are the replay's order.
            let recordedOutputs = try store.outputHistory().sorted { ($0.sourceOffset, $0.position) < ($1.sourceOffset, $1.position) }.map { "\($0.sourceOffset)/\($0.position) \(String(decoding: $0.value ?? [], as: UTF8.self))" }
            let replayedOutputs = result.outputs.map { output in
                "\(output.id.split(separator: "/").suffix(2).joined(separator: "/")) \(String(decoding: output.value, as: UTF8.self))"
            }
            #expect(replayedOutputs == recordedOutputs, "partition \(partition): the same outputs, in source order")
            let recordedStates = try store.snapshots().map { "\($0.entity)/\($0.key) \(String(decoding: $0.state, as: UTF8.self))" }
            let replayedStates = result.states.sorted { ($0.key.type, $0.key.key) < ($1.key.type, $1.key.key) }
                .map { "\($0.key.type)/\($0.key.key) \(String(decoding: $0.value, as: UTF8.self))" }
            #expect(replayedStates == recordedStates, "partition \(partition): the same final states")
        }
        #expect(replayedEvents == messages.count)
    }

    /// Handlers that change the state and then throw on every try (and one
    /// that throws a ``NonRetryableError``): a node dead-letters their
    /// records and leaves each entity at its last saved state; a replay of
    /// the same events does the same, with or without transitions, because
    /// both run the entity's turn through one piece of code.
    @Test(.timeLimit(.minutes(3)))
    func aThrowingHandlerLeavesTheSameStatesInANodeAndInAReplay() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics + [.init(name: "shoal-dead-letters", partitions: 1)], logger: testLogger)
        let configuration = try testNodeConfiguration(broker, group: "turn")
        var messages = CounterWorkload(keys: 30, perKey: 4).messages
        let failing = (0..<10).map { ("key-\($0)", #"{"key":"key-\#($0)","seq":90,"amount":100,"halfway":true}"#) }
            + (10..<15).map { ("key-\($0)", #"{"key":"key-\#($0)","seq":91,"amount":1000,"invalid":true}"#) }
        messages.insert(contentsOf: failing, at: 60)
        let published = try await runCounterNode(broker, configuration, messages, outputs: messages.count - failing.count)
        var recorded: [String: String] = [:]
        for partition in 0..<Int32(8) {
            let store = try PartitionStore(readingAt: configuration.storePath(for: TopicPartition("counter-events", partition)))
            defer { store.close() }
            for snapshot in try store.snapshots() { recorded[snapshot.key] = String(decoding: snapshot.state, as: UTF8.self) }
        }
        #expect(recorded.count == 30)

        var offsets: [Int32: Int64] = [:]
        let events = messages.map { message in
            let partition = Murmur2Partitioner.partition(for: message.key, partitionCount: 8)
            defer { offsets[partition, default: 0] += 1 }
            return ReplayEvent(
                topic: "counter-events", partition: partition, offset: offsets[partition, default: 0], key: message.key, value: Array(message.value.utf8)
            )
        }
        let nodeOutputs = published.map { String(decoding: $0.value?.array ?? [], as: UTF8.self) }.sorted()
        for transitions in [true, false] {
            let result = try await replay.run(events, transitions: transitions)
            let replayed = Dictionary(uniqueKeysWithValues: result.states.map { ($0.key.key, String(decoding: $0.value, as: UTF8.self)) })
            #expect(replayed == recorded, "transitions \(transitions): every entity's state as the node left it")
            #expect(result.outputs.map { String(decoding: $0.value, as: UTF8.self) }.sorted() == nodeOutputs)
            #expect(result.failures.count { $0.reason.contains("threw 3 times") } == 10, "\(result.failures.map(\.reason))")
            #expect(result.failures.count { $0.reason.contains("threw once") && $0.reason.contains("InvalidCounterEvent") } == 5)
            #expect(transitions || result.transitions.isEmpty)
        }
    }

    /// `replay --diff` of a recorded partition: no differences with the same
    /// handler (exit 0); with a changed handler exactly the changed key's
    /// outputs and state are reported (exit 1).
    @Test(.timeLimit(.minutes(3)))
    func replayDiffReportsExactlyTheChangedOutputs() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let configuration = try testNodeConfiguration(broker, group: "diff")
        try await runCounterNode(broker, configuration, CounterWorkload(keys: 40, perKey: 10).messages)
        let partition = Murmur2Partitioner.partition(for: "key-3", partitionCount: 8)
        let file = configuration.storePath(for: TopicPartition("counter-events", partition))
        let directory = try temporaryDirectory()
        let same = try ChildProcess(
            executable: "CounterApp", arguments: ["replay", "--journal", file, "--diff"], directory: directory, name: "same"
        )
        #expect(await same.waitForExit() == 0, "no differences: \(same.errors)")
        #expect(same.errors.contains("0 added, 0 removed, 0 changed; 0 states differ"))

        let changed = try ChildProcess(
            executable: "CounterApp", arguments: ["replay", "--journal", file, "--diff"], directory: directory, name: "changed",
            environment: ["COUNTER_CHANGED_KEY": "key-3"]
        )
        #expect(await changed.waitForExit() == 1, "differences make the exit status 1")
        #expect(changed.errors.contains("0 added, 0 removed, 10 changed; 1 states differ"), "\(changed.errors)")
        let lines = changed.output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let changedOutputs = lines.compactMap { $0["replayed"] as? [String: Any] }.filter { $0["seq"] != nil }
        #expect(changedOutputs.count == 10 && changedOutputs.allSatisfy { $0["key"] as? String == "key-3" })
        let state = try #require(lines.first { $0["state"] as? String == "Counter key-3" })
        #expect(state["firstDivergentOffset"] != nil)
    }

    /// A hand-written journal's golden file: written by `--update-golden`,
    /// matched by `--diff` with the same handler, and with a changed one
    /// exactly the changed key's outputs and state are reported. Two plain
    /// replays print byte-identical results.
    @Test(.timeLimit(.minutes(2)))
    func goldenFilesRecordAndCatchChanges() async throws {
        let directory = try temporaryDirectory()
        let journal = try self.journal(CounterWorkload(keys: 5, perKey: 4).messages.map { message in
            #"{"topic":"counter-events","key":"\#(message.key)","value":\#(message.value)}"#
        })
        func replay(_ name: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> ChildProcess {
            let process = try ChildProcess(
                executable: "CounterApp", arguments: ["replay", "--journal", journal.path] + arguments,
                directory: directory, name: name, environment: environment
            )
            _ = await process.waitForExit()
            return process
        }
        let record = try await replay("record", ["--update-golden"])
        #expect(record.process.terminationStatus == 0, "\(record.errors)")
        #expect(FileManager.default.fileExists(atPath: journal.path + ".golden"))
        let same = try await replay("same", ["--diff"])
        #expect(same.process.terminationStatus == 0 && same.errors.contains("no differences"), "\(same.errors)")
        let changed = try await replay("changed", ["--diff"], environment: ["COUNTER_CHANGED_KEY": "key-2"])
        #expect(changed.process.terminationStatus == 1)
        #expect(changed.errors.contains("0 added, 0 removed, 4 changed; 1 states differ"), "\(changed.errors)")
        let first = try await replay("first", [])
        let second = try await replay("second", [])
        #expect(!first.output.isEmpty && first.output == second.output, "two replays print the same bytes")
    }

    @Test func inlineJournalsAndTypedHelpers() async throws {
        let result = try await replay.run(jsonLines: """
            {"topic":"counter-events","key":"a","value":{"key":"a","seq":0,"amount":2}}
            {"topic":"counter-events","key":"b","value":{"key":"b","seq":0,"amount":3}}
            {"topic":"counter-events","key":"a","value":{"key":"a","seq":1,"amount":4}}
            """)
        #expect(try result.outputs(CounterTotal.self, topic: "counter-totals").map(\.sum) == [2, 3, 6])
        #expect(try result.outputs(CounterTotal.self, topic: "elsewhere").isEmpty)
        #expect(result.outputsByKey["a"]?.count == 2 && result.outputsByKey["b"]?.count == 1)
        let a = try result.states(of: EntityID(type: "Counter", key: "a"), as: Counter.State.self)
        #expect(a.map(\.sum) == [2, 6])
    }
}
