import Foundation
import Shoal
import Testing
@testable import CounterApp

extension NodeTests {
    /// Counter events produced three ways: a third without a record key
    /// (any partition), a third keyed by a producer with librdkafka's
    /// default partitioner (CRC-32: most keys in another partition than
    /// murmur2's), a third keyed as the topology expects. Only the events
    /// of sequence numbers from `first` on.
    static func misplacedCounterEvents(_ broker: EmbeddedBroker, _ workload: CounterWorkload, from first: Int = 0) async throws {
        let messages = workload.messages.dropFirst(first * workload.keys).enumerated()
        try await withProducer(broker) { producer in
            for (index, message) in messages where index % 3 != 1 {
                let key = index % 3 == 0 ? nil : Array(message.key.utf8)
                try await producer.enqueue(KafkaProducerMessage(topic: "counter-events", key: key, value: Array(message.value.utf8)))
            }
        }
        try await withProducer(broker, partitioner: .consistentRandom) { producer in
            for (index, message) in messages where index % 3 == 1 {
                try await producer.enqueue(KafkaProducerMessage(topic: "counter-events", key: message.key, value: message.value))
            }
        }
    }

    /// Each counter's snapshot in the group's files, by key, with the
    /// partitions of the files that hold one.
    static func counterStates(_ configuration: ShoalNodeConfiguration) throws -> [String: [(partition: Int32, state: Counter.State)]] {
        var states: [String: [(Int32, Counter.State)]] = [:]
        for partition in Int32(0)..<8 {
            let path = configuration.storePath(for: TopicPartition("counter-events", partition))
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let store = try PartitionStore(readingAt: path)
            defer { store.close() }
            for snapshot in try store.snapshots(entity: "Counter") {
                states[snapshot.key, default: []].append((partition, try JSONDecoder().decode(Counter.State.self, from: Data(snapshot.state))))
            }
        }
        return states
    }

    /// Records in another partition than their entity key's are forwarded
    /// through the repartition topic: each key ends in exactly one entity,
    /// in its murmur2 partition's file, with the count and sum of correctly
    /// keyed input; one output per event; the repartition topic holds the
    /// forwarded records with their origin; a replay of each file repeats
    /// its outputs and states.
    @Test(.timeLimit(.minutes(4)))
    func misplacedRecordsAreRepartitionedToTheirKeysEntity() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let configuration = try testNodeConfiguration(broker, group: "misplaced")
        let repartition = ShoalNodeConfiguration.repartitionTopic(group: configuration.group, lead: "counter-events")
        try broker.createTopic(repartition, partitions: 8)
        let workload = CounterWorkload(keys: 300, perKey: 6)
        let node = ShoalNode(configuration: configuration, topology: CounterApp.topology, logger: testLogger)
        let outputs = try await withRunningNode(node) {
            #expect(await eventually { node.ownedPartitions.count == 8 })
            try await Self.misplacedCounterEvents(broker, workload)
            return try await readTopic(broker, "counter-totals", count: workload.messages.count)
        }
        let ids = Set(outputs.compactMap { $0.headers.string(for: "shoal-id") })
        #expect(ids.count == workload.messages.count, "one output per event")

        let states = try Self.counterStates(configuration)
        #expect(states.count == workload.keys)
        var split: [String] = []
        var wrong: [String] = []
        for (key, expected) in workload.expected {
            let found = states[key] ?? []
            if found.count != 1 || found.first?.partition != Partitioner.murmur2.partition(for: key, partitionCount: 8) { split.append(key) }
            if let state = found.first?.state, state.count != expected.count || state.sum != expected.sum { wrong.append(key) }
        }
        #expect(split.isEmpty, "each key in exactly one entity, in its own partition: \(split.prefix(5))")
        #expect(wrong.isEmpty, "the count and sum of correctly keyed input: \(wrong.prefix(5))")

        let forwarded = try await readTopic(broker, repartition, count: workload.messages.count / 3, timeout: .seconds(30))
        #expect(forwarded.count >= workload.messages.count / 3, "at least the unkeyed third went through the repartition topic")
        #expect(forwarded.allSatisfy { $0.headers.string(for: "shoal-origin")?.hasPrefix("counter-events/") == true })
        try await expectReplaysRepeatTheRecordedCounters(configuration)
    }

    /// A replay of each partition file: the same outputs with the same ids,
    /// the same states.
    private func expectReplaysRepeatTheRecordedCounters(_ configuration: ShoalNodeConfiguration) async throws {
        let replay = try Replay(CounterApp.topology)
        for partition in Int32(0)..<8 {
            let path = configuration.storePath(for: TopicPartition("counter-events", partition))
            let recorded = try RecordedPartition(at: path, entityTypes: replay.entityTypes)
            let result = try await replay.run(recorded.events)
            #expect(result.outputs.map(\.source) == recorded.outputs.map(\.source), "partition \(partition): the same output ids")
            #expect(result.outputs.map(\.value) == recorded.outputs.map(\.value), "partition \(partition): the same outputs")
            #expect(result.states == recorded.states, "partition \(partition): the same states")
        }
    }

    /// A topic that says so dead-letters misplaced records, and so does
    /// one whose repartition topic is missing, each with a reason naming
    /// the key, its partition and (when missing) the repartition topic;
    /// correctly placed records are applied.
    @Test(.timeLimit(.minutes(3)), arguments: ["deadLetter", "missing"])
    func misplacedRecordsAreDeadLetteredWhenTheyCannotBeForwarded(policy: String) async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics + [.init(name: "shoal-dead-letters", partitions: 1)], logger: testLogger)
        let configuration = try testNodeConfiguration(broker, group: "letters")
        let repartition = ShoalNodeConfiguration.repartitionTopic(group: configuration.group, lead: "counter-events")
        var topology = CounterApp.topology
        if policy == "deadLetter" {
            try broker.createTopic(repartition, partitions: 8)
            topology.partitioning(of: "counter-events", misplaced: .deadLetter)
        }
        let keys = (0..<40).map { "key-\($0)" }
        let misplaced = keys.filter { Partitioner.consistentRandom.partition(for: $0, partitionCount: 8) != Partitioner.murmur2.partition(for: $0, partitionCount: 8) }
        let node = ShoalNode(configuration: configuration, topology: topology, logger: testLogger)
        let letters = try await withRunningNode(node) {
            #expect(await eventually { node.ownedPartitions.count == 8 })
            try await withProducer(broker, partitioner: .consistentRandom) { producer in
                for key in keys {
                    try await producer.enqueue(KafkaProducerMessage(topic: "counter-events", key: key, value: "{\"key\":\"\(key)\",\"seq\":0,\"amount\":1}"))
                }
            }
            _ = try await readTopic(broker, "counter-totals", count: keys.count - misplaced.count)
            return try await readTopic(broker, "shoal-dead-letters", count: misplaced.count)
        }
        #expect(!misplaced.isEmpty)
        #expect(Set(letters.compactMap(\.keyString)) == Set(misplaced), "exactly the misplaced records")
        let reasons = letters.compactMap { $0.headers.string(for: "shoal-dlq-reason") }
        #expect(reasons.count == misplaced.count)
        for (letter, reason) in zip(letters, reasons) {
            let key = letter.keyString ?? ""
            let belongs = Partitioner.murmur2.partition(for: key, partitionCount: 8)
            #expect(reason.contains("the entity key \(key) belongs in partition \(belongs) of counter-events"), "\(reason)")
            #expect(reason.contains("the record was in partition \(letter.headers.string(for: "shoal-dlq-partition") ?? "?")"), "\(reason)")
            if policy == "missing" { #expect(reason.contains("the repartition topic \(repartition) does not exist"), "\(reason)") }
        }
        let states = try Self.counterStates(configuration)
        #expect(Set(states.keys) == Set(keys).subtracting(misplaced), "no entity for a misplaced record")
    }

    /// Topics of one entity type must share a partitioner: a node refuses
    /// a topology that declares two, naming them.
    @Test func topicsOfOneEntityTypeMustShareAPartitioner() throws {
        var topology = NodeTests.basketTopology
        topology.partitioning(of: "basket-orders", by: .consistentRandom)
        let error = try #require(throws: ShoalError.self) { _ = try Replay(topology) }
        #expect(error.reason.contains("basket-orders (consistentRandom)") && error.reason.contains("basket-items (murmur2)"), "\(error.reason)")
    }
}
