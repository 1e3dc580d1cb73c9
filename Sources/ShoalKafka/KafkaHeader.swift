/// A Kafka record header: a name and an optional byte value.
public struct KafkaHeader: Sendable, Hashable {
    /// The header's name.
    public var key: String
    /// The header's value; `nil` is a header without a value.
    public var value: [UInt8]?

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    /// A header whose value is the UTF-8 bytes of `string`.
    public init(key: String, string: String) {
        self.init(key: key, value: Array(string.utf8))
    }

    /// The value decoded as UTF-8, when there is one.
    public var stringValue: String? {
        value.map { String(decoding: $0, as: UTF8.self) }
    }
}

extension Array where Element == KafkaHeader {
    /// The value of the last header named `key`, decoded as UTF-8.
    public func string(for key: String) -> String? {
        last { $0.key == key }?.stringValue
    }
}
