/// An error raised by Shoal's runtime, with a stable code and a reason that
/// names what is wrong (the setting, the entity, the topic).
public struct ShoalError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let name: String

        /// A route, node or command setting is invalid.
        public static let configuration = Code(name: "configuration")
        /// A distributed call could not be encoded, decoded or delivered.
        public static let invocation = Code(name: "invocation")
        /// The entity's key belongs to a partition this node does not own.
        public static let notOwned = Code(name: "notOwned")
        /// A record could not be decoded into its route's event type.
        public static let decoding = Code(name: "decoding")
        /// An entity's handler or a remote call failed.
        public static let handler = Code(name: "handler")
        /// A journal to replay is malformed, truncated or from another application.
        public static let journal = Code(name: "journal")
        /// The node is shutting down.
        public static let shutDown = Code(name: "shutDown")
        /// The entity has no state (no event or call changed it yet).
        public static let notFound = Code(name: "notFound")
        /// A call found no owner for its key, or no reply, within its timeout.
        public static let timedOut = Code(name: "timedOut")
        /// A peer did not prove the shared call secret, or the reply's
        /// sender did not.
        public static let unauthenticated = Code(name: "unauthenticated")

        public var description: String { name }
    }

    public let code: Code
    public let reason: String

    public init(code: Code, reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "ShoalError.\(code): \(reason)" }
}
