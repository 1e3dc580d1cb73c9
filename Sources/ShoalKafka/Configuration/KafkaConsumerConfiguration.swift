/// Configuration of a ``KafkaConsumer``: a member of a consumer group.
public struct KafkaConsumerConfiguration: Sendable, Hashable {
    /// How the group divides partitions among its members.
    public enum AssignmentStrategy: String, Sendable, Hashable {
        /// Incremental: only moved partitions are revoked (the default).
        case cooperativeSticky = "cooperative-sticky"
        /// Eager range assignment: every rebalance revokes everything.
        case range = "range"
        /// Eager round-robin assignment.
        case roundRobin = "roundrobin"
    }

    /// Where to start a partition that has neither a start offset from the
    /// runtime nor a committed offset.
    public enum InitialOffset: Sendable, Hashable {
        case earliest
        case latest
    }

    /// What to do when a fetch offset fell off the log. Shoal always reports
    /// it (an event and an error log); this says what happens next.
    public enum OffsetOutOfRangePolicy: Sendable, Hashable {
        /// Continue from the oldest record the broker still holds.
        case resetToEarliest
        /// Continue from the end of the log.
        case resetToLatest
        /// Leave the partition stopped: no more records from it until it is
        /// assigned again. For runtimes that must not skip data unattended.
        case stop
    }

    /// Fetch and prefetch-queue tuning.
    public struct Fetch: Sendable, Hashable {
        /// librdkafka's `queued.min.messages`: records prefetched per partition.
        /// Raised from librdkafka's default because consuming is about four
        /// times faster with a deep prefetch queue.
        public var queuedMinMessages: Int
        /// `queued.max.messages.kbytes`: the prefetch queue's size cap.
        public var queuedMaxKilobytes: Int
        /// `fetch.max.bytes`.
        public var maxBytes: Int
        /// `max.partition.fetch.bytes`.
        public var maxPartitionBytes: Int
        /// `fetch.wait.max.ms`: how long the broker may hold a fetch for data.
        public var maxWait: Duration
        /// Records handed to the application per batch, at most.
        public var batchSize: Int
        /// Records buffered between the poll thread and the application before
        /// the consumer pauses its partitions (it keeps polling).
        public var bufferHighWatermark: Int
        /// Buffered records below which paused-for-flow partitions resume.
        public var bufferLowWatermark: Int
        /// How long the poll thread waits for the reader to make room before
        /// it pauses the partitions. Rebalances wait at most this long too.
        public var flowPauseDelay: Duration

        public init(
            queuedMinMessages: Int = 1_000_000,
            queuedMaxKilobytes: Int = 32_768,
            maxBytes: Int = 52_428_800,
            maxPartitionBytes: Int = 1_048_576,
            maxWait: Duration = .milliseconds(100),
            batchSize: Int = 1_024,
            bufferHighWatermark: Int = 16_384,
            bufferLowWatermark: Int = 4_096,
            flowPauseDelay: Duration = .seconds(1)
        ) {
            self.queuedMinMessages = queuedMinMessages
            self.queuedMaxKilobytes = queuedMaxKilobytes
            self.maxBytes = maxBytes
            self.maxPartitionBytes = maxPartitionBytes
            self.maxWait = maxWait
            self.batchSize = batchSize
            self.bufferHighWatermark = bufferHighWatermark
            self.bufferLowWatermark = bufferLowWatermark
            self.flowPauseDelay = flowPauseDelay
        }
    }

    /// Brokers, identity, security and raw properties.
    public var client: KafkaClientConfiguration
    /// The consumer group's id.
    public var groupID: String
    /// The topics to subscribe to.
    public var topics: [String]
    /// `session.timeout.ms`: how long the group waits for a silent member.
    public var sessionTimeout: Duration
    /// `heartbeat.interval.ms`.
    public var heartbeatInterval: Duration
    /// `max.poll.interval.ms`. Shoal polls continuously, even while every
    /// partition is paused, so only a stuck rebalance hook can exceed it.
    public var maxPollInterval: Duration
    /// The partition assignment strategy.
    public var assignmentStrategy: AssignmentStrategy
    /// Start of partitions with no runtime start offset and no committed offset.
    public var initialOffset: InitialOffset
    /// What follows a reported offset-out-of-range.
    public var offsetOutOfRange: OffsetOutOfRangePolicy
    /// The longest the consumer waits for the runtime's rebalance hooks
    /// (flush before revocation, start offsets on assignment).
    public var rebalanceHookTimeout: Duration
    /// Fetch tuning.
    public var fetch: Fetch
    /// Topics that follow a subscribed one, by the subscribed topic: when
    /// the group assigns partition N of the subscribed topic, partition N
    /// of each follower is assigned with it, and revoked with it. The
    /// followers are not subscribed, so the group's assignor never places
    /// them elsewhere: co-partitioned topics stay on one member.
    public var followers: [String: [String]] = [:]

    public init(
        client: KafkaClientConfiguration,
        groupID: String,
        topics: [String],
        sessionTimeout: Duration = .seconds(45),
        heartbeatInterval: Duration = .seconds(3),
        maxPollInterval: Duration = .seconds(300),
        assignmentStrategy: AssignmentStrategy = .cooperativeSticky,
        initialOffset: InitialOffset = .earliest,
        offsetOutOfRange: OffsetOutOfRangePolicy = .resetToEarliest,
        rebalanceHookTimeout: Duration = .seconds(30),
        fetch: Fetch = Fetch()
    ) {
        self.client = client
        self.groupID = groupID
        self.topics = topics
        self.sessionTimeout = sessionTimeout
        self.heartbeatInterval = heartbeatInterval
        self.maxPollInterval = maxPollInterval
        self.assignmentStrategy = assignmentStrategy
        self.initialOffset = initialOffset
        self.offsetOutOfRange = offsetOutOfRange
        self.rebalanceHookTimeout = rebalanceHookTimeout
        self.fetch = fetch
    }

    var properties: [(String, String)] {
        // The `cgrp` debug context is always on: the consumer reads the
        // group's join state from it, to hold commits while it rejoins.
        let debug = Set(client.debugContexts).union(["cgrp"]).sorted().joined(separator: ",")
        return client.properties.filter { $0.0 != "debug" } + [("debug", debug)] + [
            ("group.id", groupID),
            ("session.timeout.ms", sessionTimeout.milliseconds.description),
            ("heartbeat.interval.ms", heartbeatInterval.milliseconds.description),
            ("max.poll.interval.ms", maxPollInterval.milliseconds.description),
            ("partition.assignment.strategy", assignmentStrategy.rawValue),
            // Commits are the runtime's decision, made after its effects are durable.
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            // Out-of-range offsets must surface, never reset silently; the
            // consumer applies `offsetOutOfRange` itself after reporting.
            ("auto.offset.reset", "error"),
            ("enable.partition.eof", "false"),
            ("queued.min.messages", fetch.queuedMinMessages.description),
            ("queued.max.messages.kbytes", fetch.queuedMaxKilobytes.description),
            ("fetch.max.bytes", fetch.maxBytes.description),
            ("max.partition.fetch.bytes", fetch.maxPartitionBytes.description),
            ("fetch.wait.max.ms", fetch.maxWait.milliseconds.description),
        ]
    }
}
