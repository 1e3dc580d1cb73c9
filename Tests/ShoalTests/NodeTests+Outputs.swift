import Foundation
@testable import Shoal
import Testing
@testable import CounterApp

extension NodeTests {
    /// Outputs carry their source record's timestamp, as in Kafka Streams:
    /// a next stage's record-time clock and end-to-end delays start there.
    @Test func outputsCarryTheirSourceRecordsTimestamp() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let node = ShoalNode(configuration: try testNodeConfiguration(broker, group: "stamp"), topology: CounterApp.topology, logger: testLogger)
        let stamps: [Int64] = [1_700_000_000_000, 1_700_000_000_007, 1_700_000_000_042]
        let outputs = try await withRunningNode(node) {
            #expect(await eventually { node.ownedPartitions.count == 8 })
            try await withProducer(broker) { producer in
                for (seq, stamp) in stamps.enumerated() {
                    try await producer.enqueue(KafkaProducerMessage(
                        topic: "counter-events", key: "k", value: "{\"key\":\"k\",\"seq\":\(seq),\"amount\":1}", timestamp: stamp
                    ))
                }
            }
            return try await readTopic(broker, "counter-totals", count: stamps.count)
        }
        #expect(outputs.compactMap { $0.timestamp?.milliseconds }.sorted() == stamps)
        let ids = outputs.compactMap { $0.headers.string(for: OutputID.header).flatMap(OutputID.init) }
        #expect(ids.count == stamps.count)
        #expect(ids.map(\.position) == [0, 0, 0])
        #expect(Set(ids.map(\.source.topic)) == ["counter-events"])
    }
}

/// The id header's bytes are the id's text, whatever the numbers.
@Test func outputIDHeaderBytesAreTheIDsText() {
    let source = TopicPartition("orders/eu", 7)
    for (offset, position) in [(Int64(0), Int64(0)), (9, 10), (1_234_567, 1 << 62 | 987_654 << 16 | 3), (.max, .min)] {
        let id = OutputID(source: source, offset: offset, position: position)
        let bytes = OutputID.headerValue(prefix: OutputID.headerPrefix(of: source), offset: offset, position: position)
        #expect(String(decoding: bytes, as: UTF8.self) == id.description)
    }
}
