extension JSONTapeEncoder {
    /// An array's elements in order.
    struct Unkeyed: UnkeyedEncodingContainer, JSONTapeScalarWriting {
        unowned(unsafe) let writer: JSONTapeWriter
        let array: Int
        let codingPath: [any CodingKey]

        var count: Int { writer.count(of: array) }

        func put(_ write: (inout [UInt8]) throws -> Void) throws {
            writer.append(try writer.scalar(write), to: array)
        }

        private func element() -> Int {
            let node = writer.newNode()
            writer.append(node, to: array)
            return node
        }

        private var nextPath: [any CodingKey] { codingPath + [JSONTapeIndexKey(intValue: count)] }

        mutating func encode<T: Encodable>(_ value: T) throws {
            let path = nextPath
            try JSONTapeEncoder.encode(value, into: element(), of: writer, path: path)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            let path = nextPath
            return KeyedEncodingContainer(Keyed<NestedKey>(writer: writer, object: writer.object(at: element()), codingPath: path))
        }

        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            let path = nextPath
            return Unkeyed(writer: writer, array: writer.array(at: element()), codingPath: path)
        }

        mutating func superEncoder() -> any Encoder { JSONTapeEncoder.givenUp(writer, codingPath) }
    }
}
