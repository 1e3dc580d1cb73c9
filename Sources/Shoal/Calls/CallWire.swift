import Foundation

/// The bytes of a remote call and its reply: length-prefixed fields in a
/// fixed order. Hand-written rather than JSON because every remote call
/// encodes and decodes two of these on its hot path.
struct WireWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 128) {
        bytes.reserveCapacity(capacity)
    }

    mutating func write(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func write(_ value: Int64) {
        write(UInt64(bitPattern: value))
    }

    mutating func write(_ value: UInt8) {
        bytes.append(value)
    }

    mutating func write(_ data: some Collection<UInt8>) {
        write(UInt64(data.count))
        bytes.append(contentsOf: data)
    }

    mutating func write(_ string: String) {
        write(string.utf8)
    }
}

/// Reads what a ``WireWriter`` wrote; every read checks the bounds, so
/// truncated or hostile bytes fail with an error rather than a crash.
struct WireReader {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { index == bytes.count }

    mutating func readByte() throws -> UInt8 {
        guard index < bytes.count else { throw Self.truncated }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func readVarint() throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte()
            guard shift < 64, shift < 63 || byte <= 1 else {
                throw ShoalError(code: .invocation, reason: "a remote call's integer field is too long")
            }
            value |= UInt64(byte & 0x7f) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }

    mutating func readInt64() throws -> Int64 {
        Int64(bitPattern: try readVarint())
    }

    mutating func readBytes() throws -> [UInt8] {
        let count = try readVarint()
        guard count <= UInt64(bytes.count - index) else { throw Self.truncated }
        defer { index += Int(count) }
        return Array(bytes[index..<index + Int(count)])
    }

    mutating func readString() throws -> String {
        let raw = try readBytes()
        guard let string = String(validating: raw, as: UTF8.self) else {
            throw ShoalError(code: .invocation, reason: "a remote call's text field is not UTF-8")
        }
        return string
    }

    mutating func readCount(limit: Int) throws -> Int {
        let count = try readVarint()
        guard count <= UInt64(limit) else {
            throw ShoalError(code: .invocation, reason: "a remote call names \(count) items, more than the \(limit) allowed")
        }
        return Int(count)
    }

    private static let truncated = ShoalError(code: .invocation, reason: "a remote call's bytes end early")
}
