import CRdKafka
import Logging
import ServiceLifecycle

/// A Kafka-protocol broker on loopback, in this process: librdkafka's mock
/// cluster. Clients reach it by its ``bootstrapServers`` exactly as they
/// would a real cluster.
///
/// Limits (see docs/embedded-broker.md): no admin API (topics are created
/// here), transactions are accepted but do nothing, ports are random, each
/// partition keeps only about 5 MiB or 100,000 records (older ones are
/// dropped), and a rebalance waits about `session.timeout.ms` − 1 s.
public final class EmbeddedBroker: Service, Sendable {
    /// A topic to create, with its partition count.
    public struct Topic: Sendable, Hashable, CustomStringConvertible {
        public var name: String
        public var partitions: Int32
        /// Topic configs a real cluster needs (`cleanup.policy=compact` for
        /// a changelog). The embedded broker keeps them for the record only:
        /// it applies none.
        public var configs: [String: String]

        public init(name: String, partitions: Int32, configs: [String: String] = [:]) {
            self.name = name
            self.partitions = partitions
            self.configs = configs
        }

        /// Parses `NAME:PARTITIONS[:CONFIG=VALUE,...]`, the form
        /// `shoal broker --topic` and `APP topics` use.
        public init(parsing text: String) throws(KafkaError) {
            let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count >= 2, !parts[0].isEmpty, let count = Int32(parts[1]), count > 0 else {
                throw KafkaError(
                    code: .invalidConfiguration,
                    reason: "topic \"\(text)\" is not NAME:PARTITIONS[:CONFIG=VALUE,...] with PARTITIONS a positive number"
                )
            }
            var configs: [String: String] = [:]
            for setting in parts.count == 3 ? parts[2].split(separator: ",") : [] {
                let pair = setting.split(separator: "=", maxSplits: 1)
                guard pair.count == 2, !pair[0].isEmpty else {
                    throw KafkaError(code: .invalidConfiguration, reason: "topic \"\(text)\" is not NAME:PARTITIONS[:CONFIG=VALUE,...]: \"\(setting)\" is not CONFIG=VALUE")
                }
                configs[String(pair[0])] = String(pair[1])
            }
            self.init(name: String(parts[0]), partitions: count, configs: configs)
        }

        /// `NAME:PARTITIONS[:CONFIG=VALUE,...]`.
        public var description: String {
            let settings = configs.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            return "\(name):\(partitions)" + (settings.isEmpty ? "" : ":\(settings)")
        }
    }

    /// The handle the mock cluster runs on; it owns the cluster's threads.
    private let client: RDKafkaClient
    /// Safe to share: the mock cluster's API is thread-safe, and the pointer
    /// is destroyed once, in `deinit`, before the client that owns its threads.
    nonisolated(unsafe) private let cluster: OpaquePointer
    private let logger: Logger

    /// The comma-separated `host:port` list clients bootstrap from.
    public let bootstrapServers: String

    /// Starts `brokers` brokers on loopback and creates `topics`.
    public init(brokers: Int = 1, topics: [Topic] = [], logger: Logger) throws(KafkaError) {
        guard (1...16).contains(brokers) else {
            throw KafkaError(code: .invalidConfiguration, reason: "--brokers must be between 1 and 16, not \(brokers)")
        }
        let config = try RDKafkaConfig(properties: [], raw: [:])
        // The cluster's host handle has no bootstrap servers of its own, which
        // librdkafka notes at every start: keep its chatter to warnings.
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)
        client = try RDKafkaClient(kind: .producer, config: config, context: RDKafkaContext(logger: quiet))
        guard let cluster = rd_kafka_mock_cluster_new(client.handle, Int32(brokers)) else {
            throw KafkaError(code: .embeddedBroker, reason: "the embedded broker could not start its listeners")
        }
        self.cluster = cluster
        self.logger = logger
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
        for topic in topics {
            try createTopic(topic)
        }
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
    }

    /// Creates a topic (replication factor 1).
    public func createTopic(_ topic: Topic) throws(KafkaError) {
        let error = rd_kafka_mock_topic_create(cluster, topic.name, topic.partitions, 1)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError.rdKafka(error, "cannot create topic \(topic.name)", code: .embeddedBroker)
        }
        logger.info("Created topic", metadata: ["topic": "\(topic.name)", "partitions": "\(topic.partitions)"])
    }

    /// Creates a topic with `partitions` partitions.
    public func createTopic(_ name: String, partitions: Int32) throws(KafkaError) {
        try createTopic(Topic(name: name, partitions: partitions))
    }

    /// Keeps the broker up until graceful shutdown or cancellation. The
    /// broker serves from the moment it is created; this only holds it.
    public func run() async throws {
        try? await gracefulShutdown()
    }
}
