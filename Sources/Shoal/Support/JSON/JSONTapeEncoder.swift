import Foundation

/// An `Encoder` writing into one node of a ``JSONTapeWriter``.
struct JSONTapeEncoder: Encoder {
    typealias Unsupported = JSONTape.Unsupported

    // Not retained: the writer outlives every encoder and container of its
    // encode call (`CanonicalJSON.encode` holds it).
    unowned(unsafe) let writer: JSONTapeWriter
    let node: Int
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(Keyed(writer: writer, object: writer.object(at: node), codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        Unkeyed(writer: writer, array: writer.array(at: node), codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValue(writer: writer, node: node, codingPath: codingPath)
    }

    /// Encodes `value` into `node`. Types Foundation's encoder writes its own
    /// way (`Date`, `Data`, `URL`, `Decimal`) are left to it.
    static func encode<T: Encodable>(_ value: T, into node: Int, of writer: JSONTapeWriter, path: [any CodingKey]) throws {
        if T.self == Date.self || T.self == Data.self || T.self == URL.self || T.self == Decimal.self { throw writer.unsupported() }
        try value.encode(to: JSONTapeEncoder(writer: writer, node: node, codingPath: path))
        // A value that encoded nothing: Foundation decides what that is.
        if case .pending = writer.nodes[node] { throw writer.unsupported() }
    }
}

extension JSONTapeEncoder {
    /// A single value, written into the encoder's node.
    struct SingleValue: SingleValueEncodingContainer, JSONTapeScalarWriting {
        unowned(unsafe) let writer: JSONTapeWriter
        let node: Int
        let codingPath: [any CodingKey]

        func put(_ write: (inout [UInt8]) throws -> Void) throws {
            try writer.setScalar(node, write)
        }

        mutating func encode<T: Encodable>(_ value: T) throws {
            // Foundation refuses a second value here; so does this path.
            guard case .pending = writer.nodes[node] else { throw writer.unsupported() }
            try JSONTapeEncoder.encode(value, into: node, of: writer, path: codingPath)
        }
    }
}

/// A container whose scalars each go to one place (a single value's node,
/// an array's next element): the scalar encodings, written once for both.
protocol JSONTapeScalarWriting {
    func put(_ write: (inout [UInt8]) throws -> Void) throws
}

extension JSONTapeScalarWriting {
    mutating func encodeNil() throws { try put { $0.append(contentsOf: "null".utf8) } }
    mutating func encode(_ value: Bool) throws { try put { $0.append(contentsOf: (value ? "true" : "false").utf8) } }
    mutating func encode(_ value: String) throws { try put { JSONTapeWriter.appendString(value, to: &$0) } }
    mutating func encode(_ value: Double) throws { try put { try JSONTapeWriter.appendFloat(value, to: &$0) } }
    mutating func encode(_ value: Float) throws { try put { try JSONTapeWriter.appendFloat(value, to: &$0) } }
    mutating func encode(_ value: Int) throws { try put { JSONTapeWriter.appendInteger(value, to: &$0) } }
    mutating func encode(_ value: Int8) throws { try put { JSONTapeWriter.appendInteger(value, to: &$0) } }
    mutating func encode(_ value: Int16) throws { try put { JSONTapeWriter.appendInteger(value, to: &$0) } }
    mutating func encode(_ value: Int32) throws { try put { JSONTapeWriter.appendInteger(value, to: &$0) } }
    mutating func encode(_ value: Int64) throws { try put { JSONTapeWriter.appendInteger(value, to: &$0) } }
    mutating func encode(_ value: UInt) throws { try put { JSONTapeWriter.appendInteger(value, to: &$0) } }
    mutating func encode(_ value: UInt8) throws { try put { JSONTapeWriter.appendInteger(value, to: &$0) } }
    mutating func encode(_ value: UInt16) throws { try put { JSONTapeWriter.appendInteger(value, to: &$0) } }
    mutating func encode(_ value: UInt32) throws { try put { JSONTapeWriter.appendInteger(value, to: &$0) } }
    mutating func encode(_ value: UInt64) throws { try put { JSONTapeWriter.appendInteger(value, to: &$0) } }
}
