import Foundation
import Shoal
import Testing
@testable import CounterApp
@testable import Shoal

@Suite("Store faults in a node")
struct StoreFaultTests {
    /// A partition whose file is full (SQLite's page limit) stops: nothing
    /// more of it commits or is published, the other partitions go on, and
    /// once there is room again it resumes and every event is applied once.
    @Test(.timeLimit(.minutes(3)))
    func aFullDiskStopsOnlyItsPartitionAndLosesNothing() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let node = ShoalNode(configuration: try testNodeConfiguration(broker, group: "full"), topology: CounterApp.topology, logger: testLogger)
        let workload = CounterWorkload(keys: 200, perKey: 10)
        let messages = workload.messages
        let full = TopicPartition("counter-events", Murmur2Partitioner.partition(for: "key-0", partitionCount: 8))
        try await withRunningNode(node) {
            #expect(await eventually { node.ownedPartitions.count == 8 })
            try await produce(broker, topic: "counter-events", Array(messages.prefix(1_000)))
            _ = try await readTopic(broker, "counter-totals", count: 1_000)
            let store = try #require(node.state.withLock { $0.shards[full] }?.persistence.store)
            try setPageLimit(store, extra: 0)

            try await produce(broker, topic: "counter-events", Array(messages.dropFirst(1_000)))
            #expect(await eventually(timeout: .seconds(30)) { node.faultedPartitions == [full] })
            let othersDone = try await readTopic(broker, "counter-totals", count: 2_000, timeout: .seconds(10))
            let stuck = messages.dropFirst(1_000).filter { Murmur2Partitioner.partition(for: $0.key, partitionCount: 8) == full.partition }
            #expect(!stuck.isEmpty)
            #expect(othersDone.count == 2_000 - stuck.count, "every other partition went on; the full one published nothing more")

            try setPageLimit(store, extra: 1_000_000)
            #expect(await eventually(timeout: .seconds(30)) { node.faultedPartitions.isEmpty })
            let totals = try await readTopic(broker, "counter-totals", count: 2_000)
            let decoded = try totals.map { try JSONDecoder().decode(CounterTotal.self, from: Data($0.value!.array)) }
            var last: [String: CounterTotal] = [:]
            for total in decoded where total.seq >= (last[total.key]?.seq ?? -1) { last[total.key] = total }
            let reference = workload.expected
            #expect(decoded.count == 2_000, "one output per event")
            #expect(last.allSatisfy { $0.value.count == reference[$0.key]?.count && $0.value.sum == reference[$0.key]?.sum })
        }
    }

    /// A partition file another process holds (or a corrupt one) leaves that
    /// partition paused with an error naming the file; the others run, and
    /// the file is not altered.
    @Test(.timeLimit(.minutes(3)))
    func anUnusableFileStopsOnlyItsPartition() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        var configuration = try testNodeConfiguration(broker, group: "locked")
        configuration.store.lockTimeout = .milliseconds(500)
        let locked = TopicPartition("counter-events", 2)
        let corrupt = TopicPartition("counter-events", 5)
        try FileManager.default.createDirectory(atPath: configuration.storeDirectory, withIntermediateDirectories: true)
        let holder = try PartitionStore(path: configuration.storePath(for: locked))
        let garbage = Data(repeating: 0x42, count: 4_096)
        try garbage.write(to: URL(fileURLWithPath: configuration.storePath(for: corrupt)))
        let node = ShoalNode(configuration: configuration, topology: CounterApp.topology, logger: testLogger)
        let messages = CounterWorkload(keys: 100, perKey: 5).messages
        let usable = messages.filter { ![locked.partition, corrupt.partition].contains(Murmur2Partitioner.partition(for: $0.key, partitionCount: 8)) }
        try await withRunningNode(node) {
            #expect(await eventually { node.ownedPartitions.count == 6 })
            #expect(!node.ownedPartitions.contains(locked) && !node.ownedPartitions.contains(corrupt))
            try await produce(broker, topic: "counter-events", messages)
            let totals = try await readTopic(broker, "counter-totals", count: messages.count, timeout: .seconds(15))
            #expect(totals.count == usable.count, "the other partitions were all processed, the two unusable ones not at all")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: configuration.storePath(for: corrupt))) == garbage)
        withExtendedLifetime(holder) {}
    }

    /// The journal keeps the configured number of records per partition.
    @Test(.timeLimit(.minutes(3)))
    func theJournalKeepsItsRetention() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        var configuration = try testNodeConfiguration(broker, group: "retention")
        configuration.store.journalRetention = 50
        configuration.maintenanceInterval = .milliseconds(200)
        let node = ShoalNode(configuration: configuration, topology: CounterApp.topology, logger: testLogger)
        let messages = CounterWorkload(keys: 100, perKey: 20).messages
        try await withRunningNode(node) {
            #expect(await eventually { node.ownedPartitions.count == 8 })
            try await produce(broker, topic: "counter-events", messages)
            _ = try await readTopic(broker, "counter-totals", count: messages.count)
            let stores = node.state.withLock { $0.shards.values.map(\.persistence.store) }
            #expect(await eventually(timeout: .seconds(10)) {
                stores.allSatisfy { store in
                    guard let rows = try? store.journal(from: 0), let next = try? store.progress()?.nextOffset else { return false }
                    return rows.count <= 50 && rows.last?.offset == next - 1
                }
            }, "each partition keeps its last 50 journal rows")
        }
    }

    private func setPageLimit(_ store: PartitionStore, extra: Int64) throws {
        try store.withConnection { connection throws(StoreError) in
            let pages = try connection.sqlite.integer("PRAGMA page_count") ?? 0
            try connection.sqlite.execute("PRAGMA max_page_count = \(pages + extra)")
        }
    }
}

@Suite("Undecodable snapshots in a node")
struct UndecodableSnapshotTests {
    /// A snapshot damaged after the fact: by default the key's next event
    /// goes to the dead-letter topic naming entity, key and version; with
    /// `rebuildFromJournal` the state is replayed from the journal, with
    /// the journaled state-changing calls in their place, and the event
    /// applies to the right total.
    @Test(.timeLimit(.minutes(4)), arguments: [false, true])
    func aDamagedSnapshotIsReportedOrRebuilt(rebuild: Bool) async throws {
        let broker = try EmbeddedBroker(
            topics: CounterApp.topics + [.init(name: "shoal-dead-letters", partitions: 1)], logger: testLogger
        )
        var configuration = try testNodeConfiguration(broker, group: "damaged")
        let workload = CounterWorkload(keys: 20, perKey: 6)
        let first = workload.messages.filter { !$0.value.contains("\"seq\":5") }
        let last = workload.messages.filter { $0.key == "key-3" && $0.value.contains("\"seq\":5") }
        _ = try await runCounterNode(broker, configuration, first, outputs: first.count)

        let partition = TopicPartition("counter-events", Murmur2Partitioner.partition(for: "key-3", partitionCount: 8))
        let store = try PartitionStore(path: configuration.storePath(for: partition))
        let kept = try #require(try store.snapshot(entity: "Counter", key: "key-3"))
        var commit = StoreCommit(nextOffset: try #require(try store.progress()?.nextOffset))
        commit.snapshots = [Snapshot(entity: "Counter", key: "key-3", version: 1, offset: kept.offset, state: Array("{broken".utf8))]
        let bonus = try await ShoalActorSystem.withCallID("bonus-1") {
            try await CallCapture.call { try await Counter.reference(key: "key-3", in: $0).add(bonus: 9) }
        }
        commit.calls = [JournaledCall(afterOffset: kept.offset, entity: "Counter", key: "key-3", call: bonus.encoded())]
        try store.commit(commit)
        store.close()

        if rebuild { configuration.store.undecodableSnapshots = .rebuildFromJournal }
        let totals = try await runCounterNode(broker, configuration, last, outputs: first.count + (rebuild ? 1 : 0))
        if rebuild {
            let decoded = try totals.map { try JSONDecoder().decode(CounterTotal.self, from: Data($0.value!.array)) }
            let rebuilt = try #require(decoded.first { $0.key == "key-3" && $0.seq == 5 })
            #expect(rebuilt.count == 6 && rebuilt.sum == workload.expected["key-3"]?.sum, "the rebuilt state took the event")
            let reopened = try PartitionStore(readingAt: configuration.storePath(for: partition))
            defer { reopened.close() }
            let saved = try #require(try reopened.snapshot(entity: "Counter", key: "key-3"))
            let state = try JSONDecoder().decode(Counter.State.self, from: Data(saved.state))
            #expect(state.bonus == 9, "the journaled call ran in the rebuild")
            #expect(saved.calls.map(\.id) == ["bonus-1"], "and its id is remembered: \(saved.calls.map(\.id))")
        } else {
            let letters = try await readTopic(broker, "shoal-dead-letters", count: 1)
            let reason = try #require(letters.first?.headers.string(for: "shoal-dlq-reason"))
            #expect(reason.contains("Counter key-3") && reason.contains("version 1"), "\(reason)")
        }
    }
}
