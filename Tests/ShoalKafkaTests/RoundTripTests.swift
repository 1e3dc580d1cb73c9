import Foundation
import ShoalKafka
import Testing

@Suite("Round trip through the embedded broker")
struct RoundTripTests {
    @Test(.timeLimit(.minutes(2)))
    func keyedRecordsKeepKeysHeadersTimestampsAndJavaPartitions() async throws {
        let partitions: Int32 = 8
        let broker = try EmbeddedBroker(topics: [.init(name: "round-trip", partitions: partitions)], logger: testLogger)
        let count = 10_000
        let baseTime: Int64 = 1_700_000_000_000
        let sent = (0..<count).map { index in
            KafkaProducerMessage(
                topic: "round-trip",
                key: Array("account-\(index % 997)".utf8),
                value: Array("{\"n\":\(index)}".utf8),
                headers: [KafkaHeader(key: "index", string: "\(index)"), KafkaHeader(key: "empty", value: nil)],
                timestamp: baseTime + Int64(index)
            )
        }
        try await withProducer(broker) { producer in
            for message in sent { try await producer.enqueue(message) }
        }
        let received = try await withConsumer(consumerConfiguration(broker, group: uniqueName("rt"), topics: ["round-trip"])) {
            await collect($0, count: count)
        }
        #expect(received.count == count)
        let byIndex = Dictionary(uniqueKeysWithValues: received.map { (Int($0.headers.string(for: "index")!)!, $0) })
        #expect(byIndex.count == count, "every record arrived exactly once")
        for (index, message) in sent.enumerated() {
            guard let record = byIndex[index] else { continue }
            #expect(record.key?.array == message.key)
            #expect(record.value?.array == message.value)
            #expect(record.timestamp == KafkaTimestamp(milliseconds: baseTime + Int64(index), kind: .createTime))
            #expect(record.headers == message.headers)
            #expect(record.partition == Murmur2Partitioner.partition(for: message.key!, partitionCount: partitions))
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func eachPartitionArrivesInOffsetOrderAndSendReportsWhereItLanded() async throws {
        let broker = try EmbeddedBroker(topics: [.init(name: "ordered", partitions: 4)], logger: testLogger)
        let report = try await withProducer(broker) { producer in
            for index in 0..<2_000 {
                try await producer.enqueue(KafkaProducerMessage(topic: "ordered", key: "k\(index % 13)", value: "\(index)"))
            }
            return try await producer.send(KafkaProducerMessage(topic: "ordered", key: "k0", value: "last"))
        }
        #expect(report.partition == Murmur2Partitioner.partition(for: "k0", partitionCount: 4))
        let received = try await withConsumer(consumerConfiguration(broker, group: uniqueName("order"), topics: ["ordered"])) {
            await collect($0, count: 2_001)
        }
        #expect(received.count == 2_001)
        for partition in 0..<Int32(4) {
            let offsets = received.filter { $0.partition == partition }.map(\.offset)
            #expect(offsets == Array(0..<Int64(offsets.count)), "partition \(partition) in offset order, no gaps")
        }
        let last = received.first { $0.valueString == "last" }
        #expect(last?.offset == report.offset)
        for key in 0..<13 {
            let values = received.filter { $0.keyString == "k\(key)" && $0.valueString != "last" }.compactMap { Int($0.valueString!) }
            #expect(values == values.sorted(), "key k\(key) in produced order")
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func lagIsHighWatermarkMinusPosition() async throws {
        let broker = try EmbeddedBroker(topics: [.init(name: "lagging", partitions: 1)], logger: testLogger)
        try await withProducer(broker) { producer in
            for index in 0..<500 { try await producer.enqueue(KafkaProducerMessage(topic: "lagging", key: "k", value: "\(index)")) }
        }
        let lagAfterAll = try await withConsumer(consumerConfiguration(broker, group: uniqueName("lag"), topics: ["lagging"])) { consumer in
            let records = await collect(consumer, count: 500)
            #expect(records.count == 500)
            _ = await eventually { consumer.lag()[TopicPartition("lagging", 0)] == 0 }
            return consumer.lag()
        }
        #expect(lagAfterAll == [TopicPartition("lagging", 0): 0])
    }
}
