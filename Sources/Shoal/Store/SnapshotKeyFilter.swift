/// Which entities may have a snapshot in a partition's file: a Bloom
/// filter over (entity type, key). A "no" is certain, so activating a key
/// the file never held costs no query; a "maybe" asks the file.
///
/// With 1,000,000 keys nearly every record of `ShoalBenchmarks pipeline`
/// activates a new entity, and its lookup (a read transaction of its own)
/// took 13% of the node's time.
struct SnapshotKeyFilter: Sendable {
    private var bits: [UInt64]
    private let mask: UInt64
    /// Keys added that the filter did not hold yet (a snapshot written again
    /// counts once); past `capacity` the false-positive rate climbs, and
    /// the store builds a larger filter from the file.
    private(set) var count = 0
    let capacity: Int

    /// 16 bits and 4 probes per key: about one "maybe" in 400 for a key
    /// the file does not hold.
    private static let bitsPerKey = 16
    private static let probes: UInt64 = 4

    /// An empty filter sized for `capacity` keys (at least 4,096).
    init(capacity: Int) {
        self.capacity = max(4_096, capacity)
        let wanted = self.capacity * Self.bitsPerKey
        let words = max(1, (1 << (Int.bitWidth - (wanted - 1).leadingZeroBitCount)) / 64)
        bits = Array(repeating: 0, count: words)
        mask = UInt64(words * 64 - 1)
    }

    var isFull: Bool { count > capacity }

    mutating func insert(entity: String, key: String) {
        let (first, step) = Self.hashes(entity, key)
        var added = false
        for probe in 0..<Self.probes {
            let bit = (first &+ probe &* step) & mask
            let word = Int(bit >> 6)
            let flag: UInt64 = 1 << (bit & 63)
            if bits[word] & flag == 0 {
                bits[word] |= flag
                added = true
            }
        }
        if added { count += 1 }
    }

    func mayContain(entity: String, key: String) -> Bool {
        let (first, step) = Self.hashes(entity, key)
        for probe in 0..<Self.probes {
            let bit = (first &+ probe &* step) & mask
            if bits[Int(bit >> 6)] & (1 << (bit & 63)) == 0 { return false }
        }
        return true
    }

    /// Two hashes for double hashing: FNV-1a over the type, a separator
    /// and the key, and a mix of it (odd, so every probe differs).
    private static func hashes(_ entity: String, _ key: String) -> (UInt64, UInt64) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in entity.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        hash = (hash ^ 0xff) &* 0x0000_0100_0000_01b3
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        var mixed = hash ^ (hash >> 33)
        mixed = mixed &* 0xff51_afd7_ed55_8ccd
        mixed ^= mixed >> 33
        return (hash, mixed | 1)
    }
}
