/// The Java Kafka client's default key partitioner: murmur2 of the key bytes,
/// made positive, modulo the partition count. librdkafka's
/// `murmur2_random` partitioner computes the same, so a key's partition is
/// known without asking a broker.
public enum Murmur2Partitioner {
    /// The partition of `key` in a topic with `partitionCount` partitions.
    public static func partition(for key: some Collection<UInt8>, partitionCount: Int32) -> Int32 {
        Partitioner.murmur2.partition(for: Array(key), partitionCount: partitionCount)
    }

    /// The partition of a UTF-8 string key.
    public static func partition(for key: String, partitionCount: Int32) -> Int32 {
        Partitioner.murmur2.partition(for: key, partitionCount: partitionCount)
    }

    /// Murmur2, 32-bit, with the Java client's seed.
    public static func murmur2(_ key: some Collection<UInt8>) -> UInt32 {
        Array(key).withUnsafeBytes { murmur2($0) }
    }

    /// Murmur2 of raw bytes (no copy: a node checks every record's key).
    public static func murmur2(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        let multiplier: UInt32 = 0x5bd1_e995
        let shift: UInt32 = 24
        var hash: UInt32 = 0x9747_b28c ^ UInt32(truncatingIfNeeded: bytes.count)
        let blocks = bytes.count / 4
        for block in 0..<blocks {
            let index = block * 4
            var word = UInt32(bytes[index])
                | UInt32(bytes[index + 1]) << 8
                | UInt32(bytes[index + 2]) << 16
                | UInt32(bytes[index + 3]) << 24
            word &*= multiplier
            word ^= word >> shift
            word &*= multiplier
            hash &*= multiplier
            hash ^= word
        }
        let tail = blocks * 4
        switch bytes.count % 4 {
        case 3:
            hash ^= UInt32(bytes[tail + 2]) << 16
            fallthrough
        case 2:
            hash ^= UInt32(bytes[tail + 1]) << 8
            fallthrough
        case 1:
            hash ^= UInt32(bytes[tail])
            hash &*= multiplier
        default:
            break
        }
        hash ^= hash >> 13
        hash &*= multiplier
        hash ^= hash >> 15
        return hash
    }
}
