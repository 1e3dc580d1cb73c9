import Foundation
import Logging
import ServiceLifecycle
import ShoalKafka
import Synchronization

/// Calls entities from a process that is not a node: an HTTP API server, a
/// command-line tool, a test. It learns which node owns each partition
/// from the group's members topic and sends each call straight there.
///
/// ```swift
/// let client = try ShoalClient(
///     configuration: .init(brokers: ["127.0.0.1:9092"], group: "accounts", secret: secret),
///     topology: topology, logger: logger
/// )
/// try await client.withRunning {
///     let account = try Account.reference(key: "alice", in: client.actorSystem)
///     print(try await account.balance())
/// }
/// ```
public final class ShoalClient: Service, Sendable {
    /// Where the group is and how calls travel.
    public struct Configuration: Sendable {
        /// Brokers, identity and security of the Kafka connection.
        public var client: KafkaClientConfiguration
        /// The nodes' consumer group.
        public var group: String
        /// The group's call secret, timeout and size bound (`listen` and
        /// `advertise` are a node's and ignored here).
        public var calls: CallConfiguration

        public init(brokers: [String], group: String, secret: CallSecret, timeout: Duration = .seconds(10)) {
            client = KafkaClientConfiguration(bootstrapServers: brokers, clientID: "shoal-client-\(group)")
            self.group = group
            calls = CallConfiguration(secret: secret, timeout: timeout)
        }
    }

    /// Resolve entity references with it; their calls go to the owning nodes.
    public let actorSystem = ShoalActorSystem()
    public let configuration: Configuration
    let topology: Topology
    let logger: Logger
    let members: GroupMembers
    let clients: CallClients
    let metrics = CallMetrics()
    private let reader: KafkaPartitionReader

    /// A client of the nodes that run `topology` (for its entity types'
    /// topics and partitioners). It calls nothing until ``run()``.
    /// - Throws: ``ShoalError`` `configuration` without a secret.
    public init(configuration: Configuration, topology: Topology, logger: Logger) throws {
        guard let secret = configuration.calls.secret else {
            throw ShoalError(code: .configuration, reason: "a client needs the group's call secret")
        }
        self.configuration = configuration
        self.topology = topology
        self.logger = logger
        // Nodes announce every standby interval (1 s by default, set per
        // node); a node not heard from for this long counts as gone. Of two
        // claims on a partition the newest wins, so a long timeout only
        // keeps a dead node's address longer (its calls fail over).
        members = GroupMembers(timeout: .seconds(15))
        clients = CallClients(secret: secret, maxMessageBytes: configuration.calls.maxMessageBytes)
        reader = try KafkaPartitionReader(client: configuration.client, logger: logger)
        let partitions = KeyPartitions(topology: topology, missingTopic: .configuration) { [reader] in try await reader.metadata().topics }
        actorSystem.install(CallDispatch(
            partition: { try await partitions.partition(of: $0) },
            local: { _, _, _ in nil }, members: members, clients: clients, selfNode: nil, timeout: configuration.calls.timeout,
            metrics: metrics, tracing: RecordTracing.active(nil)
        ))
    }

    /// Follows the members topic and keeps connections to the nodes until
    /// graceful shutdown or cancellation.
    public func run() async throws {
        let topic = ShoalNodeConfiguration.membersTopic(group: configuration.group)
        await withTaskCancellationOrGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.clients.run() }
                group.addTask { await self.follow(topic) }
            }
        } onCancelOrGracefulShutdown: {
            self.clients.shutdown()
        }
    }

    /// Runs the client while `body` runs, then stops it.
    public func withRunning<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.run() }
            defer { group.cancelAll() }
            // The first look at the members topic, so the first call goes straight to its owner.
            try? await awaitMembers()
            return try await body()
        }
    }

    private func awaitMembers() async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while members.live().isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private func follow(_ topic: String) async {
        var next: Int64?
        var failing = false
        while !Task.isCancelled, !clientsClosed {
            do {
                next = try await members.read(topic, with: reader, from: next, idleTimeout: .seconds(5))
                clients.prune(keeping: Set(members.live().compactMap(\.address)))
                failing = false
            } catch {
                if !failing { logger.warning("Cannot read the members topic", metadata: ["topic": "\(topic)", "error": "\(error)"]) }
                failing = true
            }
            try? await Task.sleep(for: MembersBoard.readInterval)
        }
    }

    private var clientsClosed: Bool { clients.isClosed }
}
