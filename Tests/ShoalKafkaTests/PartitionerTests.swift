import ShoalKafka
import Testing

@Suite("Partitioners")
struct PartitionerTests {
    /// zlib's CRC-32 check values.
    @Test(arguments: [("123456789", UInt32(0xcbf4_3926)), ("", 0), ("a", 0xe8b7_be43), ("abc", 0x3524_41c2)])
    func crc32MatchesZlib(text: String, expected: UInt32) {
        #expect(CRC32Partitioner.crc32(Array(text.utf8)) == expected)
    }

    @Test func eachPartitionerAgreesWithItsOwnFormula() {
        for key in ["21", "foobar", "account-7", "ü-ключ"] {
            let bytes = Array(key.utf8)
            #expect(Partitioner.murmur2.partition(for: key, partitionCount: 8) == Murmur2Partitioner.partition(for: bytes, partitionCount: 8))
            #expect(Partitioner.consistentRandom.partition(for: key, partitionCount: 8) == Int32(CRC32Partitioner.crc32(bytes) % 8))
        }
    }

    /// librdkafka places keyed records where each partitioner says: a
    /// producer configured with it reports the partition computed here.
    @Test(.timeLimit(.minutes(2)), arguments: Partitioner.allCases)
    func librdkafkaPlacesKeysWhereThePartitionerSays(partitioner: Partitioner) async throws {
        let broker = try EmbeddedBroker(topics: [.init(name: "placed", partitions: 7)], logger: testLogger)
        let keys = (0..<200).map { "key-\($0)" }
        let reports = try await withProducer(broker, partitioner: partitioner) { producer in
            var reports: [String: Int32] = [:]
            for key in keys {
                reports[key] = try await producer.send(KafkaProducerMessage(topic: "placed", key: key, value: "v")).partition
            }
            return reports
        }
        let misplaced = keys.filter { reports[$0] != partitioner.partition(for: $0, partitionCount: 7) }
        #expect(misplaced.isEmpty, "\(partitioner): \(misplaced.prefix(5))")
        let other: Partitioner = partitioner == .murmur2 ? .consistentRandom : .murmur2
        #expect(keys.contains { reports[$0] != other.partition(for: $0, partitionCount: 7) }, "the two partitioners differ")
    }
}
