/// How a producer places a keyed record among a topic's partitions. A
/// consumer that knows a topic's partitioner knows which partition each
/// key belongs in, without asking a broker.
public enum Partitioner: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The Java client's default: murmur2 of the key (``Murmur2Partitioner``);
    /// librdkafka's `murmur2_random` computes the same.
    case murmur2
    /// librdkafka's default (`consistent_random`, what kcat and most
    /// non-Java clients use): CRC-32 of the key (``CRC32Partitioner``).
    case consistentRandom

    /// The partition of a keyed record with `key` in a topic of
    /// `partitionCount` partitions. Records without a key go to a random
    /// partition under either partitioner: they have no right partition.
    public func partition(for key: UnsafeRawBufferPointer, partitionCount: Int32) -> Int32 {
        precondition(partitionCount > 0, "a topic has at least one partition")
        switch self {
        case .murmur2: return Int32(bitPattern: Murmur2Partitioner.murmur2(key) & 0x7fff_ffff) % partitionCount
        case .consistentRandom: return Int32(CRC32Partitioner.crc32(key) % UInt32(partitionCount))
        }
    }

    /// The partition of a UTF-8 string key.
    public func partition(for key: String, partitionCount: Int32) -> Int32 {
        var key = key
        return key.withUTF8 { partition(for: UnsafeRawBufferPointer($0), partitionCount: partitionCount) }
    }

    /// The partition of a key's bytes.
    public func partition(for key: [UInt8], partitionCount: Int32) -> Int32 {
        key.withUnsafeBytes { partition(for: $0, partitionCount: partitionCount) }
    }

    /// librdkafka's name for it (its `partitioner` setting).
    public var librdkafkaName: String {
        switch self {
        case .murmur2: "murmur2_random"
        case .consistentRandom: "consistent_random"
        }
    }

    public var description: String { rawValue }
}

/// librdkafka's default key partitioner: the key's CRC-32 (the zlib
/// polynomial, reflected) modulo the partition count.
public enum CRC32Partitioner {
    /// CRC-32 of `bytes`, as zlib's `crc32` computes it.
    public static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xffff_ffff
        for byte in bytes {
            crc = table[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8)
        }
        return crc ^ 0xffff_ffff
    }

    /// CRC-32 of a byte collection.
    public static func crc32(_ bytes: some Collection<UInt8>) -> UInt32 {
        Array(bytes).withUnsafeBytes { crc32($0) }
    }

    private static let table: [UInt32] = (0..<256).map { index in
        var entry = UInt32(index)
        for _ in 0..<8 {
            entry = entry & 1 == 1 ? 0xedb8_8320 ^ (entry >> 1) : entry >> 1
        }
        return entry
    }
}
