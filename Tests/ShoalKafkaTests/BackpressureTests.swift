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

    /// Pausing and resuming partitions while they are read, over and over,
    /// neither skips nor repeats a record: each partition's offsets arrive
    /// once, in order, without a gap. (librdkafka 2.0's batch consume call
    /// skips records here; the consumer does not use it.)
    @Test(.timeLimit(.minutes(3)))
    func pauseAndResumeWhileReadingSkipNothing() async throws {
        let broker = try EmbeddedBroker(topics: [.init(name: "flicker", partitions: 4)], logger: testLogger)
        let total = 20_000
        try await produce(broker, topic: "flicker", count: total)
        var configuration = consumerConfiguration(broker, group: uniqueName("flicker"), topics: ["flicker"])
        configuration.fetch.batchSize = 64
        let (offsets, pauses) = try await withConsumer(configuration) { consumer in
            var offsets: [Int32: [Int64]] = [:]
            var pauses = 0
            var read = 0
            for await batch in consumer.records {
                for record in batch { offsets[record.partition, default: []].append(record.offset) }
                read += batch.count
                if read >= total { break }
                // Pause what was just read; resume it a moment later.
                let partitions = Array(Set(batch.map(\.topicPartition)))
                consumer.pause(partitions)
                pauses += 1
                Task {
                    try await Task.sleep(for: .milliseconds(2))
                    consumer.resume(partitions)
                }
            }
            consumer.triggerShutdown()
            return (offsets, pauses)
        }
        #expect(pauses > 100, "the partitions were paused many times")
        #expect(offsets.values.reduce(0) { $0 + $1.count } == total)
        for (partition, seen) in offsets.sorted(by: { $0.key < $1.key }) {
            let gaps = zip(seen, seen.dropFirst()).filter { $1 != $0 + 1 }
            #expect(seen.first == 0 && gaps.isEmpty, "partition \(partition): offsets in order, none skipped or repeated; breaks at \(gaps.prefix(5))")
        }
    }
}
