import Foundation
import Shoal
import Testing
@testable import CounterApp

extension NodeTests {
    /// With watermarks of a few records every shard pauses and resumes its
    /// partition many times (the consumer's calls made outside the shard's
    /// lock, in the order decided): a resume lost or overtaken by its pause
    /// would leave a partition stopped, and its keys' totals would not all
    /// arrive.
    @Test(.timeLimit(.minutes(3)))
    func partitionsPausedAndResumedOftenLoseNoRecord() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        var configuration = try testNodeConfiguration(broker, group: "pauses")
        configuration.backpressure = .init(highWatermark: 8, lowWatermark: 2)
        let workload = CounterWorkload(keys: 40, perKey: 50)
        let node = ShoalNode(configuration: configuration, topology: CounterApp.topology, logger: testLogger)
        // In two waves: records fetched before a pause still arrive, so only
        // the second wave shows a partition that was never resumed.
        let half = workload.messages.count / 2
        let totals = try await withRunningNode(node) {
            #expect(await eventually { node.ownedPartitions.count == 8 })
            try await produce(broker, topic: "counter-events", Array(workload.messages[..<half]))
            #expect(try await readTopic(broker, "counter-totals", count: half).count == half)
            try await produce(broker, topic: "counter-events", Array(workload.messages[half...]))
            return try await readTopic(broker, "counter-totals", count: workload.messages.count, timeout: .seconds(60))
        }
        #expect(totals.count == workload.messages.count)
        let decoded = try totals.map { try JSONDecoder().decode(CounterTotal.self, from: Data($0.value?.array ?? [])) }
        var last: [String: CounterTotal] = [:]
        for total in decoded where total.count > (last[total.key]?.count ?? 0) { last[total.key] = total }
        #expect(last.count == 40)
        #expect(last.allSatisfy { key, total in
            total.count == 50 && total.sum == workload.expected[key]?.sum
        })
    }
}
