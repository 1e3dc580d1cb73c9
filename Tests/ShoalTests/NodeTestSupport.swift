import Foundation
import Logging
import ServiceLifecycle
import Shoal
import Synchronization
import Testing
@testable import CounterApp
@_exported import TestSupport

/// Runs `node` in a service group for the duration of `body`, then shuts it
/// down gracefully (hand-off and commit) and waits for it.
func withRunningNode<Result: Sendable>(
    _ node: ShoalNode, _ body: () async throws -> Result
) async throws -> Result {
    let group = ServiceGroup(services: [node], logger: testLogger)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        do {
            let result = try await body()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
    }
}

/// A node configuration for tests: the embedded broker, a fresh data
/// directory, a short session timeout.
/// The group's changelog topic is created with `changelogPartitions`.
func testNodeConfiguration(_ broker: EmbeddedBroker, group prefix: String, changelogPartitions: Int32 = 8) throws -> ShoalNodeConfiguration {
    let group = uniqueName(prefix)
    try broker.createChangelog(group: group, partitions: changelogPartitions)
    return ShoalNodeConfiguration(
        brokers: [broker.bootstrapServers], group: group,
        dataDirectory: try temporaryDirectory().path, sessionTimeout: .seconds(6)
    )
}

/// Runs a CounterApp node until `outputs` totals are on the output topic
/// after `messages` were produced, then stops it; returns those totals.
@discardableResult
func runCounterNode(
    _ broker: EmbeddedBroker, _ configuration: ShoalNodeConfiguration,
    _ messages: [(key: String, value: String)], outputs: Int? = nil
) async throws -> [KafkaRecord] {
    let node = ShoalNode(configuration: configuration, topology: CounterApp.topology, logger: testLogger)
    return try await withRunningNode(node) {
        #expect(await eventually { node.ownedPartitions.count == 8 })
        try await produce(broker, topic: "counter-events", messages)
        return try await readTopic(broker, "counter-totals", count: outputs ?? messages.count)
    }
}

/// Produces JSON values under string keys.
func produce(_ broker: EmbeddedBroker, topic: String, _ messages: [(key: String, value: String)]) async throws {
    try await withProducer(broker) { producer in
        for message in messages {
            try await producer.enqueue(KafkaProducerMessage(topic: topic, key: message.key, value: message.value))
        }
    }
}

/// Reads a topic from the beginning in a fresh group until `count` records
/// arrived or `timeout` passed.
func readTopic(_ broker: EmbeddedBroker, _ topic: String, count: Int, timeout: Duration = .seconds(120)) async throws -> [KafkaRecord] {
    try await withConsumer(consumerConfiguration(broker, group: uniqueName("reader"), topics: [topic])) { consumer in
        await collect(consumer, count: count, timeout: timeout)
    }
}

/// A test's counter events: `keys` keys, `perKey` events each, interleaved.
struct CounterWorkload {
    let keys: Int
    let perKey: Int

    var messages: [(key: String, value: String)] {
        var result: [(String, String)] = []
        result.reserveCapacity(keys * perKey)
        for seq in 0..<perKey {
            for key in 0..<keys {
                result.append(("key-\(key)", "{\"key\":\"key-\(key)\",\"seq\":\(seq),\"amount\":\(Self.amount(key, seq))}"))
            }
        }
        return result
    }

    static func amount(_ key: Int, _ seq: Int) -> Int { (key * 31 + seq * 7) % 100 }

    /// The reference fold: per key, the count and the sum of amounts.
    var expected: [String: (count: Int, sum: Int)] {
        var result: [String: (Int, Int)] = [:]
        for key in 0..<keys {
            result["key-\(key)"] = (perKey, (0..<perKey).reduce(0) { $0 + Self.amount(key, $1) })
        }
        return result
    }
}
