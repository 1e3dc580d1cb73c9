import Foundation
@testable import Shoal
import Testing
@testable import CounterApp

extension NodeTests {
    /// The commit loop passes over shards with nothing new; a shard whose
    /// outputs were delivered after its last commit still has that to
    /// write: with no more input, the file comes to hold them as sent and
    /// its offset past the last record.
    @Test(.timeLimit(.minutes(3)))
    func anIdleShardStillCommitsItsDeliveries() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let node = ShoalNode(configuration: try testNodeConfiguration(broker, group: "idle-marks"), topology: CounterApp.topology, logger: testLogger)
        let partition = TopicPartition("counter-events", Murmur2Partitioner.partition(for: "k", partitionCount: 8))
        try await withRunningNode(node) {
            #expect(await eventually { node.ownedPartitions.count == 8 })
            let events = (0..<5).map { (key: "k", value: "{\"key\":\"k\",\"seq\":\($0),\"amount\":1}") }
            try await produce(broker, topic: "counter-events", events)
            let outputs = try await readTopic(broker, "counter-totals", count: events.count)
            #expect(outputs.count == events.count)
            let store = try #require(node.state.withLock { $0.shards[partition] }?.persistence.store)
            let marked = await eventually(timeout: .seconds(20)) { (try? store.pendingOutputs(limit: .max).isEmpty) == true }
            #expect(marked, "every delivered output is marked sent in the file without another record")
            #expect(try store.progress()?.nextOffset == 5)
        }
    }
}
