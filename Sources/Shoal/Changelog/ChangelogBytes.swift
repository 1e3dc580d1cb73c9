import Foundation

/// Appends the changelog's binary fields: fixed-width little-endian
/// integers and length-prefixed byte strings. Hand-written rather than
/// JSON: a restore decodes every record of a partition's state, and a
/// length-prefixed field is read without scanning.
struct ChangelogWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 64) {
        bytes.reserveCapacity(capacity)
    }

    mutating func byte(_ value: UInt8) {
        bytes.append(value)
    }

    mutating func int64(_ value: Int64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func optionalInt64(_ value: Int64?) {
        byte(value == nil ? 0 : 1)
        if let value { int64(value) }
    }

    mutating func data(_ value: [UInt8]) {
        length(value.count)
        bytes.append(contentsOf: value)
    }

    mutating func optionalData(_ value: [UInt8]?) {
        byte(value == nil ? 0 : 1)
        if let value { data(value) }
    }

    mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            length(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }

    /// The rest of the record, unprefixed.
    /// Offsets by topic: a count, then each topic and offset, by topic.
    mutating func offsets(_ offsets: [String: Int64]) {
        int64(Int64(offsets.count))
        for (topic, offset) in offsets.sorted(by: { $0.key < $1.key }) {
            string(topic)
            int64(offset)
        }
    }

    mutating func tail(_ value: [UInt8]) {
        bytes.append(contentsOf: value)
    }

    private mutating func length(_ count: Int) {
        withUnsafeBytes(of: UInt32(count).littleEndian) { bytes.append(contentsOf: $0) }
    }
}

/// Reads what ``ChangelogWriter`` wrote; any field past the end throws.
struct ChangelogReader {
    struct Truncated: Error {}

    private let bytes: UnsafeRawBufferPointer
    private(set) var position = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { position == bytes.count }

    mutating func byte() throws(Truncated) -> UInt8 {
        guard position < bytes.count else { throw Truncated() }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func int64() throws(Truncated) -> Int64 {
        guard bytes.count - position >= 8 else { throw Truncated() }
        defer { position += 8 }
        return Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: Int64.self))
    }

    mutating func optionalInt64() throws(Truncated) -> Int64? {
        try byte() == 0 ? nil : try int64()
    }

    mutating func data() throws(Truncated) -> [UInt8] {
        let count = try length()
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    mutating func optionalData() throws(Truncated) -> [UInt8]? {
        try byte() == 0 ? nil : try data()
    }

    mutating func string() throws(Truncated) -> String {
        let count = try length()
        defer { position += count }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)]), as: UTF8.self)
    }

    /// Reads a length-prefixed string and tells whether its bytes are
    /// `expected`, without copying them.
    mutating func matches(_ expected: [UInt8]) throws(Truncated) -> Bool {
        let count = try length()
        defer { position += count }
        guard count == expected.count else { return false }
        guard count > 0 else { return true }
        return expected.withUnsafeBytes { expected in
            memcmp(expected.baseAddress!, bytes.baseAddress!.advanced(by: position), count) == 0
        }
    }

    /// Everything left.
    mutating func offsets() throws(Truncated) -> [String: Int64] {
        let count = try int64()
        guard (0...10_000).contains(count) else { throw Truncated() }
        var offsets: [String: Int64] = [:]
        for _ in 0..<count {
            let topic = try string()
            offsets[topic] = try int64()
        }
        return offsets
    }

    mutating func tail() -> [UInt8] {
        defer { position = bytes.count }
        return Array(bytes[position...])
    }

    private mutating func length() throws(Truncated) -> Int {
        guard bytes.count - position >= 4 else { throw Truncated() }
        let count = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self)))
        position += 4
        guard bytes.count - position >= count else { throw Truncated() }
        return count
    }
}

extension ChangelogWriter {
    /// `items` as a count and each item's fields; nil for none.
    static func list<Item>(_ items: [Item], _ write: (inout ChangelogWriter, Item) -> Void) -> [UInt8]? {
        guard !items.isEmpty else { return nil }
        var writer = ChangelogWriter()
        writer.int64(Int64(items.count))
        for item in items { write(&writer, item) }
        return writer.bytes
    }
}

extension ChangelogReader {
    /// The items ``ChangelogWriter/list(_:_:)`` wrote (none for nil);
    /// nil when the bytes do not decode to exactly that.
    static func list<Item>(_ bytes: [UInt8]?, _ read: (inout ChangelogReader) throws(Truncated) -> Item) -> [Item]? {
        guard let bytes else { return [] }
        return bytes.withUnsafeBytes { buffer -> [Item]? in
            var reader = ChangelogReader(buffer)
            do {
                let count = try reader.int64()
                guard count >= 0, count <= Int64(buffer.count) else { return nil }
                var items: [Item] = []
                for _ in 0..<count { items.append(try read(&reader)) }
                return reader.isAtEnd ? items : nil
            } catch {
                return nil
            }
        }
    }
}
