/// A record's timestamp in milliseconds since the Unix epoch.
public struct KafkaTimestamp: Sendable, Hashable, Comparable {
    /// Who set the timestamp.
    public enum Kind: Sendable, Hashable {
        /// The producer set it when it created the record.
        case createTime
        /// The broker set it when it appended the record to the log.
        case logAppendTime
    }

    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var milliseconds: Int64
    /// Who set it.
    public var kind: Kind

    public init(milliseconds: Int64, kind: Kind = .createTime) {
        self.milliseconds = milliseconds
        self.kind = kind
    }

    public static func < (lhs: KafkaTimestamp, rhs: KafkaTimestamp) -> Bool {
        lhs.milliseconds < rhs.milliseconds
    }
}
