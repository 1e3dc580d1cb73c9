import Foundation

/// JSON as Shoal writes it: keys sorted, so that the same value is always
/// the same bytes (snapshots, outputs, state lines, golden files).
enum CanonicalJSON {
    /// For `Encodable` values: outputs, states, replay events.
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    /// One decoder for events and states; it holds no per-call state.
    static let decoder = JSONDecoder()

    /// A parsed JSON value (any fragment) from `bytes`.
    static func object(_ bytes: some Sequence<UInt8>) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    }

    /// A parsed JSON value written back with sorted keys and unescaped slashes.
    static func data(_ object: Any) throws -> Data {
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
    }

    /// `object` as one line of text, or "" if it is not JSON.
    static func line(_ object: Any) -> String {
        (try? data(object)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}
