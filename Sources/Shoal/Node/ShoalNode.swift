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
/// let topology = Topology { topology in
///     topology.route(topic: "payments", to: Account.self, key: .field(\Payment.account))
/// }
/// let node = ShoalNode(
///     configuration: .init(brokers: [address], group: "fraud", dataDirectory: "data"), topology: topology, logger: logger
/// )
/// try await node.run()
/// ```
public final class ShoalNode: Service, Sendable {
    public let configuration: ShoalNodeConfiguration
    /// The actor system entities of this node live in; resolve references with it.
    public let actorSystem = ShoalActorSystem()
    let logger: Logger
    let metrics = NodeMetrics()
    let callMetrics = CallMetrics()
    let restoreGate: RestoreGate
    let restoreReaders = RestoreReaders()
    let state = Mutex(NodeState())

    struct NodeState {
        var topology = Topology()
        /// Set when the node starts: its routes no longer change.
        var routesFixed = false
        var shards: [TopicPartition: Shard] = [:]
        var consumer: KafkaConsumer?
        var services: ShardServices?
        /// Where calls find their keys' partitions, while the node runs.
        var keyPartitions: KeyPartitions?
        var committed: [TopicPartition: Int64] = [:]
        var running = false
        /// The keeper of this node's standby copies, when it keeps any.
        var standbys: StandbyReplicas?
        /// The node's announcer on the members topic, when it has one.
        var board: MembersBoard?
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

    /// A node running `topology`'s routes.
    public convenience init(configuration: ShoalNodeConfiguration, topology: Topology, logger: Logger) {
        self.init(configuration: configuration, logger: logger)
        state.withLock { $0.topology = topology }
    }

    /// Adds routes to the node's topology before it runs (for a program
    /// that builds its node by hand; an application declares a ``Topology``).
    /// - Throws: ``ShoalError`` with code `configuration` once the node
    ///   runs: its routes are fixed when it starts.
    public func route(_ declare: (inout Topology) throws -> Void) throws {
        // Declared on a copy, outside the lock (`declare` may ask the node
        // things), then merged: routes added at the same time are all kept.
        var added = Topology()
        try declare(&added)
        try state.withLock { state throws(ShoalError) in
            guard !state.routesFixed else {
                throw ShoalError(code: .configuration, reason: "routes are declared before the node runs")
            }
            state.topology.add(contentsOf: added)
        }
    }

    /// The topics the routes read.
    public var inputTopics: [String] { state.withLock { $0.topology.inputTopics } }

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

    /// The routes, checked, fixed from now on.
    func validatedRoutes() throws -> [String: Route] {
        try state.withLock { state in
            let routes = try state.topology.validated()
            state.routesFixed = true
            return routes
        }
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
