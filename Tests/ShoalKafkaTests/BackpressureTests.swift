import Foundation
import ShoalKafka
import Testing

@Suite("Backpressure")
struct BackpressureTests {
    /// A reader that stalls for longer than the group's max.poll.interval,
    /// then goes on slowly: the consumer pauses its partitions but keeps
    /// polling, so it stays in the group and every record arrives once.
    @Test(.timeLimit(.minutes(3)))
    func slowReaderKeepsItsPartitionsAndLosesNothing() async throws {
        let broker = try EmbeddedBroker(topics: [.init(name: "slow", partitions: 2)], logger: testLogger)
        let total = 3_000
        try await produce(broker, topic: "slow", count: total)
        var configuration = consumerConfiguration(broker, group: uniqueName("slow"), topics: ["slow"])
        configuration.maxPollInterval = .seconds(7)
        configuration.fetch.batchSize = 100
        configuration.fetch.bufferHighWatermark = 200
        configuration.fetch.bufferLowWatermark = 50
        configuration.fetch.flowPauseDelay = .milliseconds(100)
        let (records, events) = try await withConsumer(configuration) { consumer in
            let events = Task {
                var seen: [KafkaConsumerEvent] = []
                for await event in consumer.events { seen.append(event) }
                return seen
            }
            var records: [KafkaRecord] = []
            for await batch in consumer.records {
                if records.isEmpty {
                    // A stuck handler: longer than max.poll.interval.
                    try await Task.sleep(for: configuration.maxPollInterval + .seconds(2))
                }
                for record in batch {
                    records.append(record)
                    try await Task.sleep(for: .milliseconds(1))
                }
                if records.count >= total { break }
            }
            consumer.triggerShutdown()
            return (records, await events.value)
        }
        #expect(records.count == total)
        #expect(Set(records.map { "\($0.partition)/\($0.offset)" }).count == total, "each record once")
        let revocations = events.filter {
            switch $0 {
            case .revoked, .lost: true
            default: false
            }
        }
        #expect(revocations.count == 1, "partitions were given up only at shutdown: \(revocations)")
        #expect(!events.contains { if case .error = $0 { true } else { false } })
    }
}
