/// The identity of an entity: its type and its key. One actor exists per id
/// at a time, on the node that owns the key's partition.
public struct EntityID: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The entity type's name, as routes and persisted state name it.
    public var type: String
    /// The entity's key, such as an account or device id.
    public var key: String

    public init(type: String, key: String) {
        self.type = type
        self.key = key
    }

    public var description: String { "\(type)/\(key)" }
}
