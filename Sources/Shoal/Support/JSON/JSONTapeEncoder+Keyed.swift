extension JSONTapeEncoder {
    /// An object's members by name.
    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        unowned(unsafe) let writer: JSONTapeWriter
        let object: Int
        let codingPath: [any CodingKey]

        private func add(_ key: Key, _ write: (inout [UInt8]) throws -> Void) throws {
            writer.add(key.stringValue, try writer.scalar(write), to: object)
        }

        private func member(_ key: Key) -> Int {
            let node = writer.newNode()
            writer.add(key.stringValue, node, to: object)
            return node
        }

        mutating func encodeNil(forKey key: Key) throws { try add(key) { $0.append(contentsOf: "null".utf8) } }
        mutating func encode(_ value: Bool, forKey key: Key) throws { try add(key) { $0.append(contentsOf: (value ? "true" : "false").utf8) } }
        mutating func encode(_ value: String, forKey key: Key) throws { try add(key) { JSONTapeWriter.appendString(value, to: &$0) } }
        mutating func encode(_ value: Double, forKey key: Key) throws { try add(key) { try JSONTapeWriter.appendFloat(value, to: &$0) } }
        mutating func encode(_ value: Float, forKey key: Key) throws { try add(key) { try JSONTapeWriter.appendFloat(value, to: &$0) } }
        mutating func encode(_ value: Int, forKey key: Key) throws { try add(key) { JSONTapeWriter.appendInteger(value, to: &$0) } }
        mutating func encode(_ value: Int8, forKey key: Key) throws { try add(key) { JSONTapeWriter.appendInteger(value, to: &$0) } }
        mutating func encode(_ value: Int16, forKey key: Key) throws { try add(key) { JSONTapeWriter.appendInteger(value, to: &$0) } }
        mutating func encode(_ value: Int32, forKey key: Key) throws { try add(key) { JSONTapeWriter.appendInteger(value, to: &$0) } }
        mutating func encode(_ value: Int64, forKey key: Key) throws { try add(key) { JSONTapeWriter.appendInteger(value, to: &$0) } }
        mutating func encode(_ value: UInt, forKey key: Key) throws { try add(key) { JSONTapeWriter.appendInteger(value, to: &$0) } }
        mutating func encode(_ value: UInt8, forKey key: Key) throws { try add(key) { JSONTapeWriter.appendInteger(value, to: &$0) } }
        mutating func encode(_ value: UInt16, forKey key: Key) throws { try add(key) { JSONTapeWriter.appendInteger(value, to: &$0) } }
        mutating func encode(_ value: UInt32, forKey key: Key) throws { try add(key) { JSONTapeWriter.appendInteger(value, to: &$0) } }
        mutating func encode(_ value: UInt64, forKey key: Key) throws { try add(key) { JSONTapeWriter.appendInteger(value, to: &$0) } }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            try JSONTapeEncoder.encode(value, into: member(key), of: writer, path: codingPath + [key])
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            KeyedEncodingContainer(Keyed<NestedKey>(writer: writer, object: writer.object(at: member(key)), codingPath: codingPath + [key]))
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            Unkeyed(writer: writer, array: writer.array(at: member(key)), codingPath: codingPath + [key])
        }

        mutating func superEncoder() -> any Encoder { JSONTapeEncoder.givenUp(writer, codingPath) }

        mutating func superEncoder(forKey key: Key) -> any Encoder { JSONTapeEncoder.givenUp(writer, codingPath) }
    }

    /// Super encoders are Foundation's to write: the fast path gives up and
    /// hands out an encoder into a node that is never written out.
    static func givenUp(_ writer: JSONTapeWriter, _ path: [any CodingKey]) -> JSONTapeEncoder {
        writer.unsupported()
        return JSONTapeEncoder(writer: writer, node: writer.newNode(), codingPath: path)
    }
}
