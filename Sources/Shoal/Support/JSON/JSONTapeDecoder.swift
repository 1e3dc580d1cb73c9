import Foundation

/// A `Decoder` over one node of a scanned document: the fast path of
/// ``CanonicalJSON/decode(_:from:)``. Every failure throws
/// ``JSONTape/Unsupported`` and Foundation's decoder decodes the value again,
/// so what decodes, and every error's wording, stay Foundation's.
struct JSONTapeDecoder: Decoder, SingleValueDecodingContainer {
    typealias Unsupported = JSONTape.Unsupported

    // Not retained: the document outlives every decoder and container of
    // its decode call (`CanonicalJSON.tapeDecode` holds it), as the bytes it
    // points into must; a retain and a release per container copy were a
    // tenth of a replay's time (`perf`, `ShoalBenchmarks replay`).
    unowned(unsafe) let document: JSONTapeDocument
    let node: Int
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard document.kind(node) == .object else { throw document.unsupported() }
        return KeyedDecodingContainer(Keyed(document: document, object: node, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard document.kind(node) == .array else { throw document.unsupported() }
        return Unkeyed(document: document, array: node, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    /// `type` decoded from `node`. Foundation's decoder reads some types
    /// its own way (`Data` as base64, `URL` as a string, `Decimal` as a
    /// number); those are left to it.
    static func decode<T: Decodable>(_ type: T.Type, in document: JSONTapeDocument, at node: Int, path: [any CodingKey]) throws -> T {
        if T.self == Data.self || T.self == URL.self || T.self == Decimal.self { throw document.unsupported() }
        return try T(from: JSONTapeDecoder(document: document, node: node, codingPath: path))
    }

    // MARK: SingleValueDecodingContainer

    func decodeNil() -> Bool { document.kind(node) == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try document.bool(node) }
    func decode(_ type: String.Type) throws -> String { try document.string(node) }
    func decode(_ type: Double.Type) throws -> Double { try document.double(node) }
    func decode(_ type: Float.Type) throws -> Float { try document.float(node) }
    func decode(_ type: Int.Type) throws -> Int { try document.integer(node, as: type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try document.integer(node, as: type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try document.integer(node, as: type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try document.integer(node, as: type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try document.integer(node, as: type) }
    func decode(_ type: UInt.Type) throws -> UInt { try document.integer(node, as: type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try document.integer(node, as: type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try document.integer(node, as: type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try document.integer(node, as: type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try document.integer(node, as: type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try Self.decode(type, in: document, at: node, path: codingPath)
    }
}

/// A coding path element for an array position.
struct JSONTapeIndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }
    init(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}
