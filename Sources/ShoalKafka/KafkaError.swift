import CRdKafka

/// An error raised by Shoal's Kafka layer.
///
/// Errors carry a stable ``Code`` to switch on and a human-readable reason
/// that names what went wrong: the configuration property, the topic and
/// partition, or librdkafka's own explanation.
public struct KafkaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The category of a ``KafkaError``.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Base: String, Sendable, Hashable {
            case invalidConfiguration
            case clientCreation
            case brokerUnreachable
            case timedOut
            case subscription
            case assignment
            case commit
            case queueFull
            case delivery
            case offsetOutOfRange
            case shutDown
            case broker
            case embeddedBroker
            case underlying
        }
        let base: Base

        /// A configuration property was rejected; the reason names it.
        public static let invalidConfiguration = Code(base: .invalidConfiguration)
        /// librdkafka could not create a client handle.
        public static let clientCreation = Code(base: .clientCreation)
        /// No broker of the bootstrap list answered in time.
        public static let brokerUnreachable = Code(base: .brokerUnreachable)
        /// An operation did not complete within its bounded wait.
        public static let timedOut = Code(base: .timedOut)
        /// Subscribing to topics failed.
        public static let subscription = Code(base: .subscription)
        /// Assigning or revoking partitions failed.
        public static let assignment = Code(base: .assignment)
        /// Committing offsets failed.
        public static let commit = Code(base: .commit)
        /// The producer's local queue is full.
        public static let queueFull = Code(base: .queueFull)
        /// A produced message could not be delivered.
        public static let delivery = Code(base: .delivery)
        /// A fetch offset fell off the log: the broker no longer holds it.
        public static let offsetOutOfRange = Code(base: .offsetOutOfRange)
        /// The client was already shut down.
        public static let shutDown = Code(base: .shutDown)
        /// The broker or librdkafka reported an error.
        public static let broker = Code(base: .broker)
        /// The embedded broker could not start or create a topic.
        public static let embeddedBroker = Code(base: .embeddedBroker)
        /// Any other librdkafka error.
        public static let underlying = Code(base: .underlying)

        public var description: String { base.rawValue }
    }

    /// The error's category.
    public let code: Code
    /// What went wrong, in words.
    public let reason: String
    /// librdkafka's numeric error code, when the error came from librdkafka.
    public let rdKafkaCode: Int32?

    public init(code: Code, reason: String, rdKafkaCode: Int32? = nil) {
        self.code = code
        self.reason = reason
        self.rdKafkaCode = rdKafkaCode
    }

    public var description: String { "KafkaError.\(code): \(reason)" }
}

extension KafkaError {
    /// Wraps a librdkafka response code, with `context` saying what was being done.
    static func rdKafka(_ error: rd_kafka_resp_err_t, _ context: String, code: Code? = nil) -> KafkaError {
        let name = String(cString: rd_kafka_err2str(error))
        return KafkaError(
            code: code ?? Self.classify(error),
            reason: "\(context): \(name)",
            rdKafkaCode: error.rawValue
        )
    }

    /// Takes ownership of a `rd_kafka_error_t` and destroys it.
    static func consuming(_ error: OpaquePointer, _ context: String) -> KafkaError {
        defer { rd_kafka_error_destroy(error) }
        let code = rd_kafka_error_code(error)
        let text = String(cString: rd_kafka_error_string(error))
        return KafkaError(code: classify(code), reason: "\(context): \(text)", rdKafkaCode: code.rawValue)
    }

    static func classify(_ error: rd_kafka_resp_err_t) -> Code {
        switch error {
        case RD_KAFKA_RESP_ERR__QUEUE_FULL: .queueFull
        case RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT: .timedOut
        case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__TRANSPORT,
             RD_KAFKA_RESP_ERR__RESOLVE: .brokerUnreachable
        case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET, RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE: .offsetOutOfRange
        case RD_KAFKA_RESP_ERR__INVALID_ARG, RD_KAFKA_RESP_ERR__CONFLICT: .invalidConfiguration
        default: .underlying
        }
    }
}
