import Foundation
import Logging
import ServiceLifecycle
import ShoalKafka
import Synchronization

/// A Shoal process: it joins the consumer group, runs a shard for each
/// partition it is assigned, and hands partitions off cleanly — stop intake,
/// finish running work, passivate, commit — on a rebalance or SIGTERM.
///
/// ```swift
/// let node = ShoalNode(configuration: .init(brokers: [address], group: "fraud", dataDirectory: "data"), logger: logger)
/// node.route(topic: "payments", to: Account.self, key: .field(\Payment.account)) { account, payment, context in
///     try account.handle(payment, in: context)
/// }
/// try await node.run()
/// ```
public final class ShoalNode: Service, Sendable {
    public let configuration: ShoalNodeConfiguration
    /// The actor system entities of this node live in; resolve references with it.
    public let actorSystem = ShoalActorSystem()
    let logger: Logger
    let metrics = NodeMetrics()
    let restoreGate: RestoreGate
    let restoreReaders = RestoreReaders()
    let state = Mutex(NodeState())

    struct NodeState {
        var routes: [String: Route] = [:]
        var shards: [TopicPartition: Shard] = [:]
        var consumer: KafkaConsumer?
        var services: ShardServices?
        var partitionCounts: [String: Int32] = [:]
        var committed: [TopicPartition: Int64] = [:]
        var running = false
        /// The keeper of this node's standby copies, when it keeps any.
        var standbys: StandbyReplicas?
        /// Partitions assigned here whose files are being restored from the
        /// changelog: paused, with no shard yet.
        var restoring: [TopicPartition: RestoringPartition] = [:]
        /// Partitions assigned here that cannot be restored, with the reason.
        var unrestorable: [TopicPartition: String] = [:]
        var restoreTotals = RestoreTotals()
    }

    public init(configuration: ShoalNodeConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        restoreGate = RestoreGate(width: configuration.changelog.restoreConcurrency)
    }

    /// Routes a topic's records to an entity type. Each record is decoded
    /// (JSON by default), its key found, and `handler` run on the key's
    /// entity in the partition's order. One route per topic.
    public func route<E: Entity, Event: Sendable>(
        topic: String, to entity: E.Type, key: KeySource<Event>, decoder: EventDecoder<Event>,
        eventTime: EventTimePolicy<Event> = .recordTimestamp(),
        handler: @escaping @Sendable (isolated E, Event, EntityContext) async throws -> Void
    ) {
        add(Route(topic: topic, entity: entity, key: key, decoder: decoder, eventTime: eventTime, handler: .async(handler)))
    }

    /// Routes a topic's records to an entity type, with a handler that
    /// never suspends: it runs within the entity's turn without a task
    /// switch of its own. Swift picks this form for a closure without `await`.
    public func route<E: Entity, Event: Sendable>(
        topic: String, to entity: E.Type, key: KeySource<Event>, decoder: EventDecoder<Event>,
        eventTime: EventTimePolicy<Event> = .recordTimestamp(),
        handler: @escaping @Sendable (isolated E, Event, EntityContext) throws -> Void
    ) {
        add(Route(topic: topic, entity: entity, key: key, decoder: decoder, eventTime: eventTime, handler: .sync(handler)))
    }

    /// Routes a topic's JSON records to an entity type.
    public func route<E: Entity, Event: Decodable & Sendable>(
        topic: String, to entity: E.Type, key: KeySource<Event> = .recordKey,
        eventTime: EventTimePolicy<Event> = .recordTimestamp(),
        handler: @escaping @Sendable (isolated E, Event, EntityContext) async throws -> Void
    ) {
        route(topic: topic, to: entity, key: key, decoder: .json, eventTime: eventTime, handler: handler)
    }

    /// Routes a topic's JSON records to an entity type, with a handler that
    /// never suspends: it runs within the entity's turn without a task
    /// switch of its own.
    public func route<E: Entity, Event: Decodable & Sendable>(
        topic: String, to entity: E.Type, key: KeySource<Event> = .recordKey,
        eventTime: EventTimePolicy<Event> = .recordTimestamp(),
        handler: @escaping @Sendable (isolated E, Event, EntityContext) throws -> Void
    ) {
        route(topic: topic, to: entity, key: key, decoder: .json, eventTime: eventTime, handler: handler)
    }

    private func add(_ route: Route) {
        state.withLock { $0.routes[route.topic] = route }
    }

    /// The topics the routes read.
    public var inputTopics: [String] { state.withLock { $0.routes.keys.sorted() } }

    /// Resident entities across the node's shards.
    public var residentEntities: Int {
        state.withLock { Array($0.shards.values) }.reduce(0) { $0 + $1.residentCount }
    }

    /// Partitions whose file refuses commits now (full disk, I/O error):
    /// they stay paused until a commit succeeds.
    public var faultedPartitions: [TopicPartition] {
        state.withLock { $0.shards.values.filter(\.isFaulted).map(\.partition).sorted() }
    }

    /// Partitions assigned to this node whose state can be neither found
    /// locally nor restored from the changelog, with the reason: they stay
    /// paused and are not processed.
    public var unrestorablePartitions: [TopicPartition: String] { state.withLock { $0.unrestorable } }

    /// What this node's restores read from the changelog since it started.
    public var restoreTotals: RestoreTotals { state.withLock { $0.restoreTotals } }

    /// Whether the node's run is under way.
    var isRunning: Bool { state.withLock { $0.running } }

    /// Partitions this node owns now.
    public var ownedPartitions: [TopicPartition] { state.withLock { $0.shards.keys.sorted() } }

    func validatedRoutes() throws -> [String: Route] {
        let routes = state.withLock { $0.routes }
        guard !routes.isEmpty else {
            throw ShoalError(code: .configuration, reason: "the node has no routes: declare at least one with route(topic:to:)")
        }
        let topicsByEntity = Dictionary(grouping: routes.values, by: \.entity.name)
        for (entity, entityRoutes) in topicsByEntity where entityRoutes.count > 1 {
            let topics = entityRoutes.map(\.topic).sorted().joined(separator: ", ")
            throw ShoalError(
                code: .configuration,
                reason: "entity type \(entity) is routed from several topics (\(topics)); one topic per entity type is supported"
            )
        }
        return routes
    }
}

/// Changelog records and bytes a node's restores read, and how many
/// partitions they brought up to date.
public struct RestoreTotals: Sendable, Hashable {
    public var partitions = 0
    public var records = 0
    public var bytes = 0
    /// From the first restore's start to the last one's end.
    public var span: Duration = .zero
    var firstStart: ContinuousClock.Instant?
}
