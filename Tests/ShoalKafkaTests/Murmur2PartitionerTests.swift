import ShoalKafka
import Testing

@Suite("Murmur2 partitioner")
struct Murmur2PartitionerTests {
    /// Reference values of the Java client's `Utils.murmur2`, as signed 32-bit numbers.
    @Test(arguments: [
        ("21", -973_932_308),
        ("foobar", -790_332_482),
        ("a-little-bit-long-string", -985_981_536),
        ("a-little-bit-longer-string", -1_486_304_829),
        ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
        ("abc", 479_470_107),
    ])
    func matchesTheJavaClient(key: String, expected: Int32) {
        #expect(Int32(bitPattern: Murmur2Partitioner.murmur2(Array(key.utf8))) == expected)
    }

    @Test func partitionIsThePositiveHashModuloTheCount() {
        // Java: toPositive(murmur2(key)) % partitions.
        let hash = Int64(UInt32(bitPattern: -973_932_308) & 0x7fff_ffff)
        #expect(Murmur2Partitioner.partition(for: "21", partitionCount: 8) == Int32(hash % 8))
        #expect(Murmur2Partitioner.partition(for: "21", partitionCount: 1) == 0)
    }

    @Test func emptyKeyHashesLikeJava() {
        // Java's murmur2 of an empty array is 275646681.
        #expect(Murmur2Partitioner.murmur2([UInt8]()) == 275_646_681)
    }
}
