import CRdKafka
import Synchronization

/// The single owner of one `rd_kafka_t` handle, destroyed exactly once in
/// `deinit`, and of the callback context librdkafka points back to.
final class RDKafkaClient: Sendable {
    enum Kind {
        case producer
        case consumer

        var rdKafkaType: rd_kafka_type_t {
            switch self {
            case .producer: RD_KAFKA_PRODUCER
            case .consumer: RD_KAFKA_CONSUMER
            }
        }
    }

    /// Safe to share: librdkafka's handle is thread-safe for every call made
    /// on it here, and the pointer itself never changes after `init`.
    nonisolated(unsafe) let handle: OpaquePointer
    let context: RDKafkaContext
    /// The retained opaque that librdkafka hands to our callbacks.
    nonisolated(unsafe) private let opaque: UnsafeMutableRawPointer

    init(kind: Kind, config: RDKafkaConfig, context: RDKafkaContext) throws(KafkaError) {
        let opaque = Unmanaged.passRetained(context).toOpaque()
        context.install(on: config, opaque: opaque)
        // librdkafka's own log level; swift-log filters what reaches the user.
        try config.set("log_level", context.logger.logLevel <= .debug ? "7" : "6")
        var reason = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(kind.rdKafkaType, config.unsafeHandle, &reason, reason.count) else {
            Unmanaged<RDKafkaContext>.fromOpaque(opaque).release()
            throw KafkaError(code: .clientCreation, reason: "cannot create Kafka client: \(String(errorBuffer: reason))")
        }
        _ = config.takeHandle()
        self.handle = handle
        self.context = context
        self.opaque = opaque
    }

    /// Set when destroying the handle would crash librdkafka: the handle and
    /// its context are then left to the process's exit.
    let leakOnDeinit = Atomic<Bool>(false)

    deinit {
        guard !leakOnDeinit.load(ordering: .acquiring) else { return }
        rd_kafka_destroy(handle)
        Unmanaged<RDKafkaContext>.fromOpaque(opaque).release()
    }

    /// Whether the consumer group runs the incremental (cooperative) protocol.
    var isCooperative: Bool {
        String(cString: rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE"
    }

    /// Wakes the consumer's poll thread if it waits in a poll, so that it
    /// re-checks its state (shutdown, room in the record buffer).
    func wakeConsumerPoll() {
        guard let queue = rd_kafka_queue_get_consumer(handle) else { return }
        rd_kafka_queue_yield(queue)
        rd_kafka_queue_destroy(queue)
    }

    /// Fetches cluster metadata, which proves a broker answers. Blocking: call
    /// it off the cooperative pool.
    func metadata(timeout: Duration) throws(KafkaError) -> ClusterMetadata {
        var pointer: UnsafePointer<rd_kafka_metadata>?
        let error = rd_kafka_metadata(handle, 1, nil, &pointer, timeout.timeoutMilliseconds)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR, let pointer else {
            let cause = context.latestError.map { " (\($0.reason))" } ?? ""
            throw KafkaError(
                code: .brokerUnreachable,
                reason: "no broker answered within \(timeout): \(String(cString: rd_kafka_err2str(error)))\(cause)",
                rdKafkaCode: error.rawValue
            )
        }
        defer { rd_kafka_metadata_destroy(pointer) }
        return ClusterMetadata(pointer.pointee)
    }
}

/// Brokers and topics as a broker reported them.
public struct ClusterMetadata: Sendable, Hashable {
    /// A broker's id and address.
    public struct Broker: Sendable, Hashable {
        public var id: Int32
        public var host: String
        public var port: Int32
    }

    public var brokers: [Broker]
    /// Each topic's partition count.
    public var topics: [String: Int]

    init(_ raw: rd_kafka_metadata) {
        brokers = (0..<Int(raw.broker_cnt)).map { index in
            let broker = raw.brokers[index]
            return Broker(id: broker.id, host: String(cString: broker.host), port: broker.port)
        }
        var topics: [String: Int] = [:]
        for index in 0..<Int(raw.topic_cnt) {
            let topic = raw.topics[index]
            guard topic.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
            topics[String(cString: topic.topic)] = Int(topic.partition_cnt)
        }
        self.topics = topics
    }
}
