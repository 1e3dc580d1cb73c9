import Foundation
import Shoal
import Testing
@testable import CounterApp

extension NodeTests {
    /// An erase removes the key's state, journal and outputs from its
    /// owner's file, leaving no byte of it in the file or its WAL; the key's
    /// later events start a new entity; a node restoring every partition
    /// from the changelog on an empty directory brings nothing of it back;
    /// every other key is untouched.
    @Test func anErasedKeyLeavesNoTraceInTheFileOrARestore() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let configuration = try testNodeConfiguration(broker, group: "erase")
        let workload = CounterWorkload(keys: 20, perKey: 5)
        let erased = EntityID(type: "Counter", key: "key-7")
        let node = ShoalNode(configuration: configuration, topology: CounterApp.topology, logger: testLogger)
        try await withRunningNode(node) {
            #expect(await eventually { node.ownedPartitions.count == 8 })
            try await produce(broker, topic: "counter-events", workload.messages)
            _ = try await readTopic(broker, "counter-totals", count: workload.messages.count)
            let owner = try #require(try await node.actorSystem.state(of: erased)).partition
            #expect(filesHolding("key-7", in: configuration.dataDirectory).count == 1, "the key is in its partition's file before")

            try await node.actorSystem.erase(erased, requester: "a test")

            #expect(try await node.actorSystem.state(of: erased) == nil)
            #expect(filesHolding("key-7", in: configuration.dataDirectory) == [])
            let changelog = TopicPartition(configuration.changelogTopic, try #require(Int32(owner.split(separator: "-").last ?? "")))
            let afterImage = try await changelogFromLastImage(broker, changelog)
            #expect(!afterImage.isEmpty && !afterImage.contains { $0.range(of: Data("key-7".utf8)) != nil }, "a restore reads nothing of it")
            let other = try #require(try await node.actorSystem.state(of: EntityID(type: "Counter", key: "key-8")))
            #expect(String(decoding: other.state, as: UTF8.self).contains("\"count\":5"))
            // Its next event starts a new entity.
            try await produce(broker, topic: "counter-events", [("key-7", "{\"key\":\"key-7\",\"seq\":9,\"amount\":1}")])
            let totals = try await readTopic(broker, "counter-totals", count: workload.messages.count + 1)
                .compactMap { try? JSONDecoder().decode(CounterTotal.self, from: Data($0.value?.array ?? [])) }
            let next = try #require(totals.first { $0.key == "key-7" && $0.seq == 9 })
            #expect(next.count == 1 && next.sum == 1)
        }

        // Every partition restored from the changelog on an empty directory.
        var fresh = configuration
        fresh.dataDirectory = try temporaryDirectory().path
        let restoring = ShoalNode(configuration: fresh, topology: CounterApp.topology, logger: testLogger)
        try await withRunningNode(restoring) {
            #expect(await eventually { restoring.ownedPartitions.count == 8 })
            let revived = try #require(try await restoring.actorSystem.state(of: erased))
            #expect(String(decoding: revived.state, as: UTF8.self).contains("\"count\":1"), "only the entity after the erase")
            for key in 0..<20 where key != 7 {
                let state = try #require(try await restoring.actorSystem.state(of: EntityID(type: "Counter", key: "key-\(key)")))
                let sum = workload.expected["key-\(key)"]?.sum ?? -1
                #expect(String(decoding: state.state, as: UTF8.self).contains("\"sum\":\(sum)"), "key-\(key)")
            }
        }
    }
}
