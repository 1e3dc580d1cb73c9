import ShoalKafka

/// When the commit loop starts a shard's commit: a shard with nothing new
/// is passed over; one that keeps up commits on every tick
/// (`checkpointInterval`), for the latency of its outputs; one that is
/// behind commits every `backlogCheckpointInterval`, for throughput, and
/// so does one whose file refused its last commit (no retry storm).
struct CheckpointSchedule {
    private let backlogInterval: Duration
    private let backlogThreshold: Int
    private var lastStarted: [TopicPartition: ContinuousClock.Instant] = [:]

    init(backlogInterval: Duration, backlogThreshold: Int) {
        self.backlogInterval = backlogInterval
        self.backlogThreshold = backlogThreshold
    }

    init(configuration: ShoalNodeConfiguration) {
        self.init(backlogInterval: configuration.store.backlogCheckpointInterval, backlogThreshold: configuration.backpressure.lowWatermark)
    }

    /// Whether `shard`'s commit should start now.
    func isDue(_ shard: Shard, at now: ContinuousClock.Instant) -> Bool {
        let outlook = shard.commitOutlook
        return outlook.hasWork && isDue(shard.partition, buffered: outlook.buffered, faulted: outlook.faulted, at: now)
    }

    /// Whether a commit of `partition`, which has work to commit and
    /// `buffered` records waiting, should start now.
    func isDue(_ partition: TopicPartition, buffered: Int, faulted: Bool = false, at now: ContinuousClock.Instant) -> Bool {
        guard buffered > backlogThreshold || faulted, let last = lastStarted[partition] else { return true }
        return now - last >= backlogInterval
    }

    mutating func started(_ partition: TopicPartition, at now: ContinuousClock.Instant) {
        lastStarted[partition] = now
    }

    /// Forgets the partitions no longer owned (revoked, or moved away) once
    /// it remembers more than are owned: the table stays about the size of
    /// the owned set without a set built on every tick.
    mutating func keep(only owned: some Collection<TopicPartition>) {
        guard lastStarted.count > owned.count else { return }
        let owned = Set(owned)
        lastStarted = lastStarted.filter { owned.contains($0.key) }
    }

    /// How many partitions it remembers a commit start of.
    var remembered: Int { lastStarted.count }
}

/// A shard's state as the commit loop weighs it (see `Shard.commitOutlook`).
struct CommitOutlook: Sendable {
    var hasWork: Bool
    var buffered: Int
    var faulted: Bool
}
