import Foundation
import Shoal
import Testing
@testable import CounterApp

extension NodeTests {
    static let basketTopology = Topology { Basket.routes(into: &$0) }

    /// Every basket event of `seqs` on each of the basket topics, for `keys` baskets.
    static func basketEvents(keys: Int, seqs: Range<Int>) -> [(topic: String, key: String, value: String)] {
        seqs.flatMap { seq in
            (0..<keys).flatMap { key in
                Basket.topics.map { ($0, "basket-\(key)", "{\"basket\":\"basket-\(key)\",\"seq\":\(seq)}") }
            }
        }
    }

    static func produceBaskets(_ broker: EmbeddedBroker, _ events: [(topic: String, key: String, value: String)]) async throws {
        try await withProducer(broker) { producer in
            for event in events {
                try await producer.enqueue(KafkaProducerMessage(topic: event.topic, key: event.key, value: event.value))
            }
        }
    }

    /// Three co-partitioned topics feed one entity type: one shard (and one
    /// partition file, named after the first topic) per partition number,
    /// every event applied once and each topic's events in their order; a
    /// replay of each file repeats the interleaving the node recorded
    /// (the same outputs with the same ids, the same states); a node on an
    /// empty directory restores the shards from the changelog and goes on
    /// from each topic's own offset.
    @Test(.timeLimit(.minutes(4)))
    func coPartitionedTopicsFeedOneShardAndReplayRepeatsTheirOrder() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let first = try testNodeConfiguration(broker, group: "baskets")
        let (keys, firstSeqs, laterSeqs) = (120, 0..<3, 3..<6)
        let node = ShoalNode(configuration: first, topology: Self.basketTopology, logger: testLogger)
        try await withRunningNode(node) {
            #expect(await eventually { node.ownedPartitions.count == 8 })
            #expect(node.ownedPartitions.allSatisfy { $0.topic == "basket-items" }, "the first declared topic leads")
            try await Self.produceBaskets(broker, Self.basketEvents(keys: keys, seqs: firstSeqs))
            _ = try await readTopic(broker, "basket-steps", count: keys * 3 * firstSeqs.count)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: first.storeDirectory).filter { $0.hasSuffix(".sqlite") }
        #expect(Set(files) == Set((0..<8).map { "basket-items-\($0).sqlite" }), "one file per partition number")
        try await expectReplaysRepeatTheRecordedBaskets(first)

        // Another machine: an empty directory, restored from the changelog.
        var second = first
        second.dataDirectory = try temporaryDirectory().path
        let restored = ShoalNode(configuration: second, topology: Self.basketTopology, logger: testLogger)
        let total = keys * 3 * (firstSeqs.count + laterSeqs.count)
        let steps = try await withRunningNode(restored) {
            #expect(await eventually { restored.ownedPartitions.count == 8 })
            try await Self.produceBaskets(broker, Self.basketEvents(keys: keys, seqs: laterSeqs))
            return try await readTopic(broker, "basket-steps", count: total)
        }
        var byID: [String: BasketStep] = [:]
        for record in steps {
            let id = try #require(record.headers.string(for: "shoal-id"))
            byID[id] = try JSONDecoder().decode(BasketStep.self, from: Data(record.value!.array))
        }
        #expect(byID.count == total, "one output per event, none repeated under another id")
        for partition in Int32(0)..<8 {
            let store = try PartitionStore(readingAt: second.storePath(for: TopicPartition("basket-items", partition)))
            defer { store.close() }
            for snapshot in try store.snapshots() {
                let heard = try JSONDecoder().decode(Basket.State.self, from: Data(snapshot.state)).heard
                for topic in Basket.topics {
                    let seqs = heard.filter { $0.hasPrefix("\(topic):") }.map { Int($0.dropFirst(topic.count + 1))! }
                    #expect(seqs == Array(0..<6), "\(snapshot.key): each of \(topic)'s events once, in order")
                }
            }
        }
    }

    /// Replays each basket file of `configuration`'s directory: the outputs
    /// (with their ids) and the states the node recorded.
    private func expectReplaysRepeatTheRecordedBaskets(_ configuration: ShoalNodeConfiguration) async throws {
        let replay = try Replay(Self.basketTopology)
        var interleaved = 0
        for partition in Int32(0)..<8 {
            let path = configuration.storePath(for: TopicPartition("basket-items", partition))
            let events = try ReplayJournal.partitionFile(at: path, entityTypes: replay.entityTypes)
            #expect(Set(events.map(\.topic)) == Set(Basket.topics), "the journal names each event's own topic")
            interleaved += zip(events, events.dropFirst()).filter { $0.topic != $1.topic }.count
            let result = try await replay.run(events)
            let store = try PartitionStore(readingAt: path)
            defer { store.close() }
            let recorded = try store.outputHistory().sorted { ($0.sourceOffset, $0.position) < ($1.sourceOffset, $1.position) }
                .map { "\(OutputID(source: TopicPartition("basket-items", partition), offset: $0.sourceOffset, position: $0.position)) \(String(decoding: $0.value ?? [], as: UTF8.self))" }
            let replayed = result.outputs.map { "\($0.id) \(String(decoding: $0.value, as: UTF8.self))" }
            #expect(replayed == recorded, "partition \(partition): the same outputs, ids and order")
            let recordedStates = try store.snapshots().map { "\($0.key) \(String(decoding: $0.state, as: UTF8.self))" }
            let replayedStates = result.states.sorted { $0.key.key < $1.key.key }.map { "\($0.key.key) \(String(decoding: $0.value, as: UTF8.self))" }
            #expect(replayedStates == recordedStates, "partition \(partition): the same states")
        }
        #expect(interleaved > 0, "the topics' events interleave in the journals")
    }

    /// A backlog on two topics of one entity type, produced one topic after
    /// the other: the shard takes their records in event-time order (here
    /// the records' timestamps), not in the order the topics were written
    /// or fetched, each topic's own order kept.
    @Test(.timeLimit(.minutes(3)))
    func aSharedShardTakesItsTopicsInEventTimeOrder() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let configuration = try testNodeConfiguration(broker, group: "aligned")
        let (baskets, seqs) = (40, 0..<5)
        try await withProducer(broker) { producer in
            // Orders first on the wire, though each happened 5 ms after its item.
            for (topic, lag) in [("basket-orders", Int64(5)), ("basket-items", 0)] {
                for seq in seqs {
                    for basket in 0..<baskets {
                        try await producer.enqueue(KafkaProducerMessage(
                            topic: topic, key: "basket-\(basket)", value: "{\"basket\":\"basket-\(basket)\",\"seq\":\(seq)}",
                            timestamp: 1_767_225_600_000 + Int64(seq) * 10 + lag
                        ))
                    }
                }
            }
        }
        let node = ShoalNode(configuration: configuration, topology: Self.basketTopology, logger: testLogger)
        try await withRunningNode(node) {
            _ = try await readTopic(broker, "basket-steps", count: baskets * seqs.count * 2)
        }
        let expected = seqs.flatMap { ["basket-items:\($0)", "basket-orders:\($0)"] }
        var wrong: [String] = []
        for partition in Int32(0)..<8 {
            let store = try PartitionStore(readingAt: configuration.storePath(for: TopicPartition("basket-items", partition)))
            defer { store.close() }
            for snapshot in try store.snapshots() where try JSONDecoder().decode(Basket.State.self, from: Data(snapshot.state)).heard != expected {
                wrong.append(snapshot.key)
            }
        }
        #expect(wrong.isEmpty, "each basket heard its items and orders in time order: \(wrong.prefix(3))")
    }

    /// Topics that feed one entity type with different partition counts
    /// cannot be co-partitioned: the node refuses to start, naming them.
    @Test(.timeLimit(.minutes(2)))
    func topicsOfOneEntityWithDifferentPartitionCountsAreRefused() async throws {
        let topics: [EmbeddedBroker.Topic] = [
            .init(name: "basket-items", partitions: 8), .init(name: "basket-orders", partitions: 4), .init(name: "basket-notes", partitions: 8),
        ]
        let broker = try EmbeddedBroker(topics: topics, logger: testLogger)
        let node = ShoalNode(configuration: try testNodeConfiguration(broker, group: "mismatch"), topology: Self.basketTopology, logger: testLogger)
        let error = try await #require(throws: ShoalError.self) { try await node.run() }
        #expect(error.code == .configuration)
        #expect(error.reason.contains("basket-orders (4 partitions)") && error.reason.contains("basket-items (8 partitions)"), "\(error.reason)")
    }
}
