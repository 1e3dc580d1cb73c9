/// Settings every Kafka client of Shoal shares: where the brokers are, who
/// the client is, and how it authenticates.
public struct KafkaClientConfiguration: Sendable, Hashable {
    /// `host:port` addresses of one or more brokers to bootstrap from.
    public var bootstrapServers: [String]
    /// The client id brokers log and quota by.
    public var clientID: String
    /// Transport security and authentication.
    public var security: KafkaSecurity
    /// How long a request to a broker may take before it fails.
    public var socketTimeout: Duration
    /// How long after the last successful connection the client gives up on
    /// reaching any broker and reports them unreachable.
    public var connectionTimeout: Duration
    /// librdkafka's debug contexts (for example `["consumer", "cgrp"]`), logged
    /// at debug level.
    public var debugContexts: [String]
    /// The escape hatch: librdkafka properties set verbatim, after and over
    /// every typed setting. Each is checked, and a rejected one is an error
    /// naming the property.
    public var rawProperties: [String: String]

    public init(
        bootstrapServers: [String],
        clientID: String = "shoal",
        security: KafkaSecurity = .plaintext,
        socketTimeout: Duration = .seconds(30),
        connectionTimeout: Duration = .seconds(10),
        debugContexts: [String] = [],
        rawProperties: [String: String] = [:]
    ) {
        self.bootstrapServers = bootstrapServers
        self.clientID = clientID
        self.security = security
        self.socketTimeout = socketTimeout
        self.connectionTimeout = connectionTimeout
        self.debugContexts = debugContexts
        self.rawProperties = rawProperties
    }

    var properties: [(String, String)] {
        var result: [(String, String)] = [
            ("bootstrap.servers", bootstrapServers.joined(separator: ",")),
            ("client.id", clientID),
            ("socket.timeout.ms", socketTimeout.milliseconds.description),
            // Idle connections are closed and reopened as a matter of course;
            // real failures still surface through the error callback.
            ("log.connection.close", "false"),
        ]
        if !debugContexts.isEmpty {
            result.append(("debug", debugContexts.joined(separator: ",")))
        }
        result += security.properties
        return result
    }
}

extension Duration {
    /// The duration in whole milliseconds, rounded down, as librdkafka wants it.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// The duration in milliseconds clamped to `Int32`, for C timeouts.
    var timeoutMilliseconds: Int32 {
        Int32(clamping: milliseconds)
    }
}
