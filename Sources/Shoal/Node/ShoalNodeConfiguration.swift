import Foundation
import ShoalKafka
import Tracing

/// Configuration of a ``ShoalNode``.
public struct ShoalNodeConfiguration: Sendable {
    /// Bounds on what a shard holds in memory.
    public struct Backpressure: Sendable, Hashable {
        /// Records buffered in a shard's mailboxes above which its partition pauses.
        public var highWatermark: Int
        /// Records below which a paused partition resumes.
        public var lowWatermark: Int

        public init(highWatermark: Int = 2_000, lowWatermark: Int = 500) {
            self.highWatermark = highWatermark
            self.lowWatermark = lowWatermark
        }
    }

    /// When resident entities are passivated.
    public struct Passivation: Sendable, Hashable {
        /// An entity idle this long is passivated (its state saved, its actor released).
        public var idleTimeout: Duration
        /// Resident entities per node; past it the least recently used go first.
        public var maxResidentEntities: Int

        public init(idleTimeout: Duration = .seconds(120), maxResidentEntities: Int = 100_000) {
            self.idleTimeout = idleTimeout
            self.maxResidentEntities = maxResidentEntities
        }
    }

    /// How partitions' state files are written.
    public struct Store: Sendable, Hashable {
        /// How often a shard that keeps up with its input commits its
        /// applied records, snapshots and outputs (one SQLite transaction).
        /// Outputs are published after their commit, so this bounds the
        /// latency a commit adds. A shard with nothing new is passed over.
        /// The default of 10 ms took the median latency from produce to
        /// output from 69 to 22–33 ms at 10,000 events/s against 100 ms
        /// (docs/benchmarks.md). With replication on, every commit writes
        /// the snapshots of the entities it changed and a progress record
        /// to the changelog: a key that changes on every event has up to
        /// one changelog record per interval, so a longer interval means
        /// fewer changelog records (and images) for hot keys.
        public var checkpointInterval: Duration
        /// How often a shard commits while it is behind (more records wait
        /// in it than the backpressure's low watermark): larger commits
        /// cost less per record, and the records waiting delay outputs
        /// more than the commits do. Committing every 10 ms under a
        /// backlog cost about a tenth of a node's throughput.
        public var backlogCheckpointInterval: Duration
        /// How long a node waits for another process to release a
        /// partition's file (a rebalance between two nodes on one machine).
        public var lockTimeout: Duration
        /// How hard each commit is pushed to the disk.
        public var synchronous: StoreSynchronous
        /// How long a hand-off waits for the outputs of its last commit to be
        /// delivered; undelivered ones are sent again by the next owner.
        public var publishTimeout: Duration
        /// What a shard does with a snapshot its entity's `State` cannot
        /// decode (after `upcast`).
        public var undecodableSnapshots: UndecodableSnapshotPolicy
        /// Journal rows kept per partition, counted back from its applied
        /// offset; older rows (and delivered outputs of those records) are
        /// deleted. The replay test kit reads what is kept.
        public var journalRetention: Int64
        /// How long a standby copy that no process holds, writes or lets go
        /// of (one the standby plan no longer keeps here) stays in the
        /// node's directory before the node deletes it: its state is in the
        /// changelog, and an erase since does not reach it. 10 minutes by
        /// default (at least a second), as Kafka Streams'
        /// `state.cleanup.delay.ms`; nil keeps such files. Only with the
        /// changelog on. An owner's file of a partition that moved away is
        /// kept: its last commit may not be in the changelog.
        public var staleFileDelay: Duration?

        public init(
            checkpointInterval: Duration = .milliseconds(10), backlogCheckpointInterval: Duration = .milliseconds(100),
            lockTimeout: Duration = .seconds(10),
            synchronous: StoreSynchronous = .normal, publishTimeout: Duration = .seconds(10),
            journalRetention: Int64 = 1_000_000,
            undecodableSnapshots: UndecodableSnapshotPolicy = .deadLetter,
            staleFileDelay: Duration? = .seconds(600)
        ) {
            self.checkpointInterval = checkpointInterval
            self.backlogCheckpointInterval = max(backlogCheckpointInterval, checkpointInterval)
            self.lockTimeout = lockTimeout
            self.synchronous = synchronous
            self.publishTimeout = publishTimeout
            self.journalRetention = journalRetention
            self.undecodableSnapshots = undecodableSnapshots
            self.staleFileDelay = staleFileDelay
        }
    }

    /// What to do with a snapshot that does not decode.
    public enum UndecodableSnapshotPolicy: Sendable, Hashable {
        /// The entity's records go to the dead-letter topic with the error
        /// (naming entity type, key and version); the snapshot is kept.
        case deadLetter
        /// The state is rebuilt by replaying the entity's journal rows into a
        /// fresh state (their outputs are not emitted again). Exact only
        /// while the journal still holds every event of the key (see
        /// `journalRetention`).
        case rebuildFromJournal
    }

    /// Replication of partitions' files to a changelog topic, from which a
    /// node on another machine restores a partition it takes over.
    public struct Changelog: Sendable, Hashable {
        /// Whether commits are replicated and partitions restored. Off, a
        /// partition's state lives only in the file of the node that
        /// processed it.
        public var enabled: Bool
        /// The changelog topic; nil: `<group>-state`. It needs as many
        /// partitions as the input topics and, on a real cluster,
        /// `cleanup.policy=compact`.
        public var topic: String?
        /// Changelog bytes a partition writes after which it writes a full
        /// image of its file (or after the size of the last image, when
        /// larger). Keeps a changelog that drops old records without
        /// compacting them (the embedded broker, ~5 MiB per partition)
        /// restorable; nil: no images, for a compacting cluster.
        public var imageThreshold: Int?
        /// How long a restore waits for the next changelog record before it
        /// gives up (and tries again).
        public var readIdleTimeout: Duration
        /// How many warm copies of each partition the group keeps beyond its
        /// owner; this node keeps those that fall to it (`--standbys N`).
        /// Nodes learn of each other from the members topic `<group>-members`.
        public var standbys: Int
        /// How often a node announces itself on the members topic and
        /// brings its standby copies up to the changelog's end. A node not
        /// heard from for three intervals counts as gone.
        public var standbyInterval: Duration
        /// How many partitions a node restores at once; the others wait,
        /// paused. Reading one changelog partition alone is bound by
        /// round trips, so several at once keep the cores busy; dozens at
        /// once (each with its own reader and prefetch) thrash and hold
        /// more memory (each reader may prefetch up to librdkafka's
        /// `queued.max.messages.kbytes`). `ShoalBenchmarks restore
        /// --concurrency` on 2 cores: 2 at once took 2.5× as long as 8, and
        /// 16 was as fast as 64 or faster (docs/benchmarks.md).
        public var restoreConcurrency: Int

        public init(
            enabled: Bool = true, topic: String? = nil, imageThreshold: Int? = 1 << 20,
            readIdleTimeout: Duration = .seconds(30), standbys: Int = 0, standbyInterval: Duration = .seconds(1),
            restoreConcurrency: Int = 16
        ) {
            self.enabled = enabled
            self.topic = topic
            self.imageThreshold = imageThreshold
            self.readIdleTimeout = readIdleTimeout
            self.standbys = standbys
            self.standbyInterval = standbyInterval
            self.restoreConcurrency = restoreConcurrency
        }
    }

    /// Brokers, identity and security.
    public var client: KafkaClientConfiguration
    /// The consumer group: nodes of one application share it.
    public var group: String
    /// Where the node keeps its state files.
    public var dataDirectory: String
    /// `session.timeout.ms` of the group membership.
    public var sessionTimeout: Duration
    public var backpressure: Backpressure
    /// The consumer's prefetch. librdkafka keeps up to this many records
    /// (and kilobytes) fetched ahead; each costs a few hundred bytes beyond
    /// its payload, so this is the largest term of a node's memory under a
    /// backlog. Lower than the bare consumer's default for that reason.
    public var fetch: KafkaConsumerConfiguration.Fetch
    public var passivation: Passivation
    public var store: Store
    /// How often processed offsets are committed and idle entities swept.
    public var maintenanceInterval: Duration
    /// Attempts of a throwing handler before its record is dead-lettered.
    public var handlerAttempts: Int
    /// Pause between handler attempts.
    public var retryBackoff: Duration
    /// Where records that cannot be decoded or handled go, with the reason.
    public var deadLetterTopic: String
    /// State replication to the changelog topic.
    public var changelog: Changelog
    /// How long a shard fed by several topics holds records back for a
    /// topic that has none queued but may have earlier ones (the consumer
    /// knows of records it has not delivered), so that it takes them in
    /// event-time order. 200 ms by default; zero takes records as they come.
    public var alignmentWait: Duration = .milliseconds(200)
    /// How long the producer of outputs (and changelog records) waits to
    /// fill a batch (`linger.ms`); 5 ms by default, librdkafka's own. A
    /// shorter linger sends outputs sooner in more, smaller requests; on
    /// the embedded broker 1 ms moved neither latency nor throughput
    /// measurably (docs/benchmarks.md).
    public var outputLinger: Duration = .milliseconds(5)
    /// Calls from other nodes and clients to this node's entities, and
    /// from this node's to others'. Off unless `calls.listen` is set.
    public var calls = CallConfiguration()
    /// The tracer of the node's spans (each handler turn, each call,
    /// each output sent), when not the one bootstrapped with `InstrumentationSystem`;
    /// with neither, the node traces nothing and pays nothing for it.
    public var tracer: (any Tracer)?

    /// Attempts of a throwing handler unless configured otherwise; a replay
    /// makes as many.
    public static let defaultHandlerAttempts = 3

    /// The dead-letter topic unless configured otherwise.
    public static let defaultDeadLetterTopic = "shoal-dead-letters"

    public init(
        brokers: [String], group: String, dataDirectory: String,
        sessionTimeout: Duration = .seconds(10),
        backpressure: Backpressure = Backpressure(),
        fetch: KafkaConsumerConfiguration.Fetch = .init(queuedMinMessages: 200_000, queuedMaxKilobytes: 16_384),
        passivation: Passivation = Passivation(),
        store: Store = Store(),
        maintenanceInterval: Duration = .seconds(1),
        handlerAttempts: Int = ShoalNodeConfiguration.defaultHandlerAttempts,
        retryBackoff: Duration = .milliseconds(50),
        deadLetterTopic: String = ShoalNodeConfiguration.defaultDeadLetterTopic,
        changelog: Changelog = Changelog()
    ) {
        self.changelog = changelog
        self.client = KafkaClientConfiguration(bootstrapServers: brokers, clientID: "shoal-\(group)")
        self.group = group
        self.dataDirectory = dataDirectory
        self.sessionTimeout = sessionTimeout
        self.backpressure = backpressure
        self.fetch = fetch
        self.passivation = passivation
        self.store = store
        self.maintenanceInterval = maintenanceInterval
        self.handlerAttempts = handlerAttempts
        self.retryBackoff = retryBackoff
        self.deadLetterTopic = deadLetterTopic
    }
}

extension ShoalNodeConfiguration {
    /// The changelog topic of `group`: `<group>-state`.
    public static func changelogTopic(group: String) -> String {
        "\(group)-state"
    }

    /// The repartition topic of `group` for the entity type that `lead`
    /// leads: `<group>-<lead>-repartition`, with as many partitions as
    /// `lead`. Records found in another partition than their entity key's
    /// are forwarded through it to their key's shard (see ``MisplacedRecords``).
    public static func repartitionTopic(group: String, lead: String) -> String {
        "\(group)-\(lead)-repartition"
    }

    /// The members topic of `group`: `<group>-members`, one partition,
    /// where nodes announce themselves and the partitions they own.
    public static func membersTopic(group: String) -> String {
        "\(group)-members"
    }

    /// The members topic this node announces itself on.
    public var membersTopic: String { Self.membersTopic(group: group) }

    /// The changelog topic this node writes and restores from.
    public var changelogTopic: String {
        changelog.topic ?? Self.changelogTopic(group: group)
    }

    /// The folder of this group's partition files: `DIR/<group>`.
    public var storeDirectory: String {
        (dataDirectory as NSString).appendingPathComponent(group)
    }

    /// A partition's state file: `DIR/<group>/<topic>-<partition>.sqlite`.
    public func storePath(for partition: TopicPartition) -> String {
        (storeDirectory as NSString).appendingPathComponent(PartitionStore.fileName(for: partition))
    }
}
