import Foundation
import Shoal
import Testing
@testable import CounterApp

extension NodeTests {
    /// A node keeps at most `maxResidentEntities` entities in memory,
    /// releasing the least recently used; a released entity's next event
    /// finds its state as it was.
    @Test func passivatedEntitiesComeBackWithTheirState() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        var configuration = try testNodeConfiguration(broker, group: "passivation")
        configuration.passivation = .init(idleTimeout: .seconds(600), maxResidentEntities: 16)
        configuration.maintenanceInterval = .milliseconds(200)
        let node = ShoalNode(configuration: configuration, topology: CounterApp.topology, logger: testLogger)
        let workload = CounterWorkload(keys: 100, perKey: 4)
        let messages = workload.messages
        let totals = try await withRunningNode(node) {
            #expect(await eventually { node.ownedPartitions.count == 8 })
            try await produce(broker, topic: "counter-events", Array(messages[..<200]))
            _ = try await readTopic(broker, "counter-totals", count: 200)
            // Two per partition: the limit is shared by the node's shards.
            #expect(await eventually { node.residentEntities <= 16 })
            try await produce(broker, topic: "counter-events", Array(messages[200...]))
            return try await readTopic(broker, "counter-totals", count: messages.count)
        }
        let last = try totals.map { try JSONDecoder().decode(CounterTotal.self, from: Data($0.value?.array ?? [])) }.filter { $0.seq == 3 }
        #expect(last.count == 100)
        for total in last {
            #expect(total.count == 4 && total.sum == workload.expected[total.key]?.sum, "\(total)")
        }
    }
}
