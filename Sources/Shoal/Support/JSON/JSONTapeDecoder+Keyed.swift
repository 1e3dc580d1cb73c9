extension JSONTapeDecoder {
    /// An object's members by name.
    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        // Not retained, as in `JSONTapeDecoder`.
        unowned(unsafe) let document: JSONTapeDocument
        let object: Int
        let codingPath: [any CodingKey]

        var allKeys: [Key] { document.members(of: object).compactMap { Key(stringValue: $0.name) } }

        func contains(_ key: Key) -> Bool { document.member(of: object, named: key.stringValue) != nil }

        private func value(_ key: Key) throws(Unsupported) -> Int {
            guard let node = document.member(of: object, named: key.stringValue) else { throw document.unsupported() }
            return node
        }

        private func decoder(_ key: Key) throws -> JSONTapeDecoder {
            JSONTapeDecoder(document: document, node: try value(key), codingPath: codingPath + [key])
        }

        func decodeNil(forKey key: Key) throws -> Bool { document.kind(try value(key)) == .null }
        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try document.bool(value(key)) }
        func decode(_ type: String.Type, forKey key: Key) throws -> String { try document.string(value(key)) }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try document.double(value(key)) }
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try document.float(value(key)) }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try document.integer(value(key), as: type) }
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try document.integer(value(key), as: type) }
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try document.integer(value(key), as: type) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try document.integer(value(key), as: type) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try document.integer(value(key), as: type) }
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try document.integer(value(key), as: type) }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try document.integer(value(key), as: type) }
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try document.integer(value(key), as: type) }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try document.integer(value(key), as: type) }
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try document.integer(value(key), as: type) }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            try JSONTapeDecoder.decode(type, in: document, at: value(key), path: codingPath + [key])
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            try decoder(key).container(keyedBy: type)
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try decoder(key).unkeyedContainer()
        }

        func superDecoder() throws -> any Decoder {
            guard let key = Key(stringValue: "super") else { throw document.unsupported() }
            return try decoder(key)
        }

        func superDecoder(forKey key: Key) throws -> any Decoder { try decoder(key) }
    }
}
