import Foundation
import Logging
import ShoalKafka
import Synchronization
import Testing
@_exported import TestSupport

/// Rebalances on the embedded broker wait session.timeout.ms − 1 s: keep it short.
let testSessionTimeout = Duration.seconds(6)

func consumerConfiguration(
    _ broker: EmbeddedBroker, group: String, topics: [String],
    strategy: KafkaConsumerConfiguration.AssignmentStrategy = .cooperativeSticky
) -> KafkaConsumerConfiguration {
    KafkaConsumerConfiguration(
        client: .init(bootstrapServers: [broker.bootstrapServers]),
        groupID: group, topics: topics,
        sessionTimeout: testSessionTimeout, heartbeatInterval: .milliseconds(500),
        assignmentStrategy: strategy
    )
}

/// Runs a producer for the duration of `body`, then flushes it.
func withProducer<Result: Sendable>(
    _ broker: EmbeddedBroker,
    _ body: (KafkaProducer) async throws -> Result
) async throws -> Result {
    let producer = try KafkaProducer(
        configuration: .init(client: .init(bootstrapServers: [broker.bootstrapServers])),
        logger: testLogger
    )
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await producer.run() }
        do {
            let result = try await body(producer)
            try await producer.flush(timeout: .seconds(30))
            producer.triggerShutdown()
            try await group.waitForAll()
            return result
        } catch {
            producer.triggerShutdown()
            throw error
        }
    }
}

/// Runs a consumer for the duration of `body`, then shuts it down (which
/// runs its revocation hook) and waits for it to leave the group.
func withConsumer<Result: Sendable>(
    _ configuration: KafkaConsumerConfiguration,
    listener: any KafkaRebalanceListener = NoRebalanceHooks(),
    _ body: (KafkaConsumer) async throws -> Result
) async throws -> Result {
    let consumer = try KafkaConsumer(configuration: configuration, listener: listener, logger: testLogger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await consumer.run() }
        do {
            let result = try await body(consumer)
            consumer.triggerShutdown()
            try await group.waitForAll()
            return result
        } catch {
            consumer.triggerShutdown()
            throw error
        }
    }
}

/// Reads records until `count` arrived or `timeout` passed. The consumer
/// keeps running either way.
func collect(_ consumer: KafkaConsumer, count: Int, timeout: Duration = .seconds(60)) async -> [KafkaRecord] {
    let collected = RecordSink()
    await withTaskGroup(of: Void.self) { group in
        group.addTask {
            for await batch in consumer.records {
                let total = collected.append(batch)
                if total >= count { break }
            }
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
        }
        await group.next()
        group.cancelAll()
    }
    return collected.records
}

final class RecordSink: Sendable {
    private let storage = Mutex<[KafkaRecord]>([])

    /// Appends and returns the total so far.
    func append(_ batch: [KafkaRecord]) -> Int {
        storage.withLock { $0 += batch; return $0.count }
    }

    var records: [KafkaRecord] { storage.withLock { $0 } }
}

/// A collector of things that happen in order, across tasks and threads.
final class Timeline: Sendable {
    private let entries = Mutex<[String]>([])

    func record(_ entry: String) {
        entries.withLock { $0.append(entry) }
    }

    var all: [String] { entries.withLock { $0 } }

    func index(of entry: String) -> Int? {
        all.firstIndex(of: entry)
    }
}

