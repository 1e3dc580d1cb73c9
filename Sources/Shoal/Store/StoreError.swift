/// An error of the state store. Its reason names the database file, and the
/// entity type, key and version where one is concerned.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The category of a ``StoreError``.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let name: String

        /// The file is not a Shoal store, or SQLite found it damaged.
        public static let corrupt = Code(name: "corrupt")
        /// Another process holds the partition's file past the bounded wait.
        public static let locked = Code(name: "locked")
        /// The disk (or the database's page limit) is full.
        public static let full = Code(name: "full")
        /// Reading or writing the file failed.
        public static let io = Code(name: "io")
        /// The file was written by a newer version of Shoal.
        public static let newerSchema = Code(name: "newerSchema")
        /// A snapshot the entity's current state type cannot decode.
        public static let undecodableSnapshot = Code(name: "undecodableSnapshot")
        /// Any other SQLite failure.
        public static let sqlite = Code(name: "sqlite")

        public var description: String { name }
    }

    public let code: Code
    public let reason: String
    /// SQLite's extended result code, when SQLite reported the error.
    public let sqliteCode: Int32?

    public init(code: Code, reason: String, sqliteCode: Int32? = nil) {
        self.code = code
        self.reason = reason
        self.sqliteCode = sqliteCode
    }

    public var description: String { "StoreError.\(code): \(reason)" }
}

/// How hard SQLite pushes each commit to the disk.
public enum StoreSynchronous: String, Sendable {
    /// Survives a crash of the process (kill -9); a power loss can undo
    /// the last commits, never corrupt the file. WAL's usual setting.
    case normal = "NORMAL"
    /// Every commit reaches the disk before it returns.
    case full = "FULL"
}
