extension JSONTapeDecoder {
    /// An array's elements in order.
    struct Unkeyed: UnkeyedDecodingContainer {
        // Not retained, as in `JSONTapeDecoder`.
        unowned(unsafe) let document: JSONTapeDocument
        let codingPath: [any CodingKey]
        let count: Int?
        private(set) var currentIndex = 0
        /// The node of the element at `currentIndex`.
        private var cursor: Int

        init(document: JSONTapeDocument, array: Int, codingPath: [any CodingKey]) {
            self.document = document
            self.codingPath = codingPath
            count = Int(document.nodes[array].count)
            cursor = array + 1
        }

        var isAtEnd: Bool { currentIndex >= count ?? 0 }

        /// The current element's node, moving past it.
        private mutating func next() throws(Unsupported) -> Int {
            guard !isAtEnd else { throw document.unsupported() }
            let node = cursor
            cursor = Int(document.nodes[node].next)
            currentIndex += 1
            return node
        }

        private mutating func nextPath() -> [any CodingKey] { codingPath + [JSONTapeIndexKey(intValue: currentIndex)] }

        mutating func decodeNil() throws -> Bool {
            guard !isAtEnd else { throw document.unsupported() }
            guard document.kind(cursor) == .null else { return false }
            _ = try next()
            return true
        }

        mutating func decode(_ type: Bool.Type) throws -> Bool { try document.bool(next()) }
        mutating func decode(_ type: String.Type) throws -> String { try document.string(next()) }
        mutating func decode(_ type: Double.Type) throws -> Double { try document.double(next()) }
        mutating func decode(_ type: Float.Type) throws -> Float { try document.float(next()) }
        mutating func decode(_ type: Int.Type) throws -> Int { try document.integer(next(), as: type) }
        mutating func decode(_ type: Int8.Type) throws -> Int8 { try document.integer(next(), as: type) }
        mutating func decode(_ type: Int16.Type) throws -> Int16 { try document.integer(next(), as: type) }
        mutating func decode(_ type: Int32.Type) throws -> Int32 { try document.integer(next(), as: type) }
        mutating func decode(_ type: Int64.Type) throws -> Int64 { try document.integer(next(), as: type) }
        mutating func decode(_ type: UInt.Type) throws -> UInt { try document.integer(next(), as: type) }
        mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try document.integer(next(), as: type) }
        mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try document.integer(next(), as: type) }
        mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try document.integer(next(), as: type) }
        mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try document.integer(next(), as: type) }
        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            let path = nextPath()
            return try JSONTapeDecoder.decode(type, in: document, at: next(), path: path)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            try nestedDecoder().container(keyedBy: type)
        }

        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            try nestedDecoder().unkeyedContainer()
        }

        mutating func superDecoder() throws -> any Decoder { try nestedDecoder() }

        private mutating func nestedDecoder() throws -> JSONTapeDecoder {
            let path = nextPath()
            return JSONTapeDecoder(document: document, node: try next(), codingPath: path)
        }
    }
}
