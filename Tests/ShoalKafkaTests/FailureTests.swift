import Foundation
import ShoalKafka
import Testing

@Suite("Failures are reported clearly and in bounded time")
struct FailureTests {
    /// A loopback port nothing listens on.
    static let nowhere = KafkaClientConfiguration(bootstrapServers: ["127.0.0.1:1"])

    @Test(.timeLimit(.minutes(1)))
    func unreachableBrokerFailsTheConnectionCheck() async throws {
        let producer = try KafkaProducer(configuration: .init(client: Self.nowhere), logger: testLogger)
        let error = await #expect(throws: KafkaError.self) {
            try await producer.awaitConnection(timeout: .seconds(2))
        }
        #expect(error?.code == .brokerUnreachable)
        #expect(error?.reason.contains("no broker answered") == true)
    }

    @Test(.timeLimit(.minutes(1)))
    func sendToAnUnreachableBrokerFailsAfterTheDeliveryTimeout() async throws {
        let configuration = KafkaProducerConfiguration(client: Self.nowhere, deliveryTimeout: .seconds(2))
        let producer = try KafkaProducer(configuration: configuration, logger: testLogger)
        let running = Task { try await producer.run() }
        defer { producer.triggerShutdown() }
        let error = await #expect(throws: KafkaError.self) {
            try await producer.send(KafkaProducerMessage(topic: "t", key: "k", value: "v"))
        }
        #expect(error?.code == .delivery)
        #expect(error?.reason.contains("timed out") == true)
        producer.triggerShutdown()
        try await running.value
    }

    @Test(.timeLimit(.minutes(1)))
    func consumerReportsAnUnreachableBrokerAsAnEvent() async throws {
        let configuration = KafkaConsumerConfiguration(client: Self.nowhere, groupID: uniqueName("nowhere"), topics: ["t"])
        let reported = try await withConsumer(configuration) { consumer -> KafkaError? in
            for await event in consumer.events {
                if case .error(let error) = event, error.code == .brokerUnreachable { return error }
            }
            return nil
        }
        #expect(reported != nil)
    }

    @Test(.timeLimit(.minutes(2)), arguments: [
        KafkaConsumerConfiguration.AssignmentStrategy.cooperativeSticky, .range,
    ])
    func offsetThatFellOffTheLogIsReportedThenReset(strategy: KafkaConsumerConfiguration.AssignmentStrategy) async throws {
        let broker = try EmbeddedBroker(topics: [.init(name: "trimmed", partitions: 1)], logger: testLogger)
        let partition = TopicPartition("trimmed", 0)
        // ~8 MiB into one partition: the embedded broker keeps about 5 MiB.
        let value = [UInt8](repeating: 0x61, count: 10_000)
        try await withProducer(broker) { producer in
            for index in 0..<800 {
                try await producer.enqueue(KafkaProducerMessage(topic: "trimmed", key: Array("k\(index)".utf8), value: value))
            }
        }
        let listener = RecordingListener("A", timeline: Timeline(), starts: [partition: .offset(0)])
        let configuration = consumerConfiguration(broker, group: uniqueName("trimmed"), topics: ["trimmed"], strategy: strategy)
        let (event, first) = try await withConsumer(configuration, listener: listener) { consumer in
            var reported: KafkaConsumerEvent?
            for await event in consumer.events {
                if case .offsetOutOfRange = event {
                    reported = event
                    break
                }
            }
            return (reported, await collect(consumer, count: 1, timeout: .seconds(30)).first)
        }
        #expect(event == .offsetOutOfRange(partition, offset: 0))
        let resumedAt = try #require(first?.offset)
        #expect(resumedAt > 0, "continued from the oldest record the broker still holds")
    }
}
