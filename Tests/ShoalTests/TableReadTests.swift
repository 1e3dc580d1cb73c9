import Shoal
import ShoalKafka
import Testing

@Suite("Journaled lookups and stored headers")
struct TableReadTests {
    @Test func lookupsRoundTripAndDamagedBytesAreRefused() throws {
        let reads = [
            TableRead(table: "products", key: "p1", value: Array(#"{"price":10}"#.utf8)),
            TableRead(table: "products", key: "p9", value: nil),
            TableRead(table: "profiles", key: "", value: []),
        ]
        let bytes = try #require(TableRead.encode(reads))
        #expect(TableRead.decode(bytes) == reads)
        #expect(TableRead.encode([]) == nil && TableRead.decode(nil) == [], "no lookups, no bytes")
        #expect(TableRead.decode(Array(bytes.dropLast())) == nil, "a truncated list")
        #expect(TableRead.decode(bytes + [0]) == nil, "bytes after the list")
        #expect(TableRead.decode([255, 255, 255, 255, 255, 255, 255, 127]) == nil, "a count larger than the bytes")
    }

    @Test func headersRoundTrip() {
        let headers = [KafkaHeader(key: "shoal-origin", string: "payments/3/41"), KafkaHeader(key: "empty", value: nil)]
        var entry = OutboxEntry(sourceOffset: 1, position: 0, topic: "t", key: nil, value: nil, headers: OutboxEntry.encode(headers: headers))
        #expect(entry.decodedHeaders == headers)
        entry.headers = [1, 2, 3]
        #expect(entry.decodedHeaders == nil, "damaged headers are reported, not dropped silently")
    }
}
