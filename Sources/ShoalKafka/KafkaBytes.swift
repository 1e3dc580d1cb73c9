/// Bytes of a record key or value: a zero-based view into storage that a
/// whole fetched batch shares, so a batch costs one allocation rather than
/// two per record (the consumer's hottest path; see docs/benchmarks.md).
public struct KafkaBytes: RandomAccessCollection, Sendable, Hashable, CustomStringConvertible {
    private let storage: [UInt8]
    private let lower: Int
    /// The number of bytes.
    public let count: Int

    /// Bytes that own their storage.
    public init(_ bytes: [UInt8]) {
        storage = bytes
        lower = 0
        count = bytes.count
    }

    /// The UTF-8 bytes of `string`.
    public init(_ string: String) {
        self.init(Array(string.utf8))
    }

    init(storage: [UInt8], range: Range<Int>) {
        self.storage = storage
        lower = range.lowerBound
        count = range.count
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(position: Int) -> UInt8 {
        precondition(position >= 0 && position < count, "KafkaBytes index out of range")
        return storage[lower + position]
    }

    /// Calls `body` with the bytes in contiguous memory, without copying.
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try storage.withUnsafeBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[lower..<(lower + count)]))
        }
    }

    /// A copy as an array that owns its storage.
    public var array: [UInt8] { Array(storage[lower..<(lower + count)]) }

    /// The bytes decoded as UTF-8 (invalid sequences become U+FFFD).
    public var string: String {
        withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }

    public var description: String { string }

    public static func == (lhs: KafkaBytes, rhs: KafkaBytes) -> Bool {
        lhs.count == rhs.count && lhs.elementsEqual(rhs)
    }

    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
