import Foundation
import ShoalKafka
import Synchronization

/// Rebalances on the embedded broker wait session.timeout.ms − 1 s: keep it short.
public let testSessionTimeout = Duration.seconds(6)

public func consumerConfiguration(
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
public func withProducer<Result: Sendable>(
    _ broker: EmbeddedBroker,
    partitioner: Partitioner = .murmur2,
    _ body: (KafkaProducer) async throws -> Result
) async throws -> Result {
    var configuration = KafkaProducerConfiguration(client: .init(bootstrapServers: [broker.bootstrapServers]))
    configuration.partitioner = partitioner
    let producer = try KafkaProducer(configuration: configuration, logger: testLogger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await producer.run() }
        do {
            let result = try await body(producer)
            try await producer.flush(timeout: .seconds(60))
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
public func withConsumer<Result: Sendable>(
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
public func collect(_ consumer: KafkaConsumer, count: Int, timeout: Duration = .seconds(60)) async -> [KafkaRecord] {
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

public final class RecordSink: Sendable {
    private let storage = Mutex<[KafkaRecord]>([])

    public init() {}

    /// Appends and returns the total so far.
    public func append(_ batch: [KafkaRecord]) -> Int {
        storage.withLock { $0 += batch; return $0.count }
    }

    public var records: [KafkaRecord] { storage.withLock { $0 } }
}

