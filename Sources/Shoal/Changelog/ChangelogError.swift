/// An error of state replication: a changelog that cannot be read, does
/// not belong to this application, or cannot restore a partition. Its
/// reason names the changelog topic and partition, and the offset where one
/// is concerned. The partition it concerns stays paused: nothing is folded
/// onto empty state.
public struct ChangelogError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The category of a ``ChangelogError``.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let name: String

        /// A changelog record does not decode.
        public static let undecodable = Code(name: "undecodable")
        /// The changelog was written by another application (another group).
        public static let foreignApplication = Code(name: "foreignApplication")
        /// The changelog was written by a newer version of Shoal.
        public static let newerFormat = Code(name: "newerFormat")
        /// The changelog topic is missing or its partition count differs from the input's.
        public static let topic = Code(name: "topic")
        /// The changelog lost records (retention) and holds no complete
        /// image after them: the state cannot be rebuilt.
        public static let incomplete = Code(name: "incomplete")
        /// Neither the local file nor the changelog holds the partition's
        /// state, yet the group committed offsets for it.
        public static let stateMissing = Code(name: "stateMissing")
        /// Reading the changelog from Kafka failed.
        public static let kafka = Code(name: "kafka")

        public var description: String { name }
    }

    public let code: Code
    public let reason: String

    public init(code: Code, reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "ChangelogError.\(code): \(reason)" }
}
