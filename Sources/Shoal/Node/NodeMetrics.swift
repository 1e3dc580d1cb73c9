import Metrics
import ShoalKafka

/// The runtime's metrics, through swift-metrics (exported by whatever
/// backend the application bootstraps; Prometheus in the samples).
struct NodeMetrics: Sendable {
    let recordsIn = Counter(label: "shoal_records_in_total")
    let handlerLatency = Metrics.Timer(label: "shoal_handler_duration_seconds")
    let residentEntities = Meter(label: "shoal_resident_entities")
    let pausedPartitions = Meter(label: "shoal_paused_partitions")
    let lag = Gauge(label: "shoal_consumer_lag_records")
    let rebalances = Counter(label: "shoal_rebalances_total")
    let storeFaults = Counter(label: "shoal_store_faults_total")
    /// One shard's commit (its SQLite transaction and the publishing after it).
    let checkpointDuration = Metrics.Timer(label: "shoal_checkpoint_duration_seconds")
    let changelogRecords = Counter(label: "shoal_changelog_records_total")
    let changelogImages = Counter(label: "shoal_changelog_images_total")
    let restoreRecords = Counter(label: "shoal_restore_records_total")
    let restoreBytes = Counter(label: "shoal_restore_bytes_total")
    let restoreDuration = Metrics.Timer(label: "shoal_restore_duration_seconds")
    let restoreFailures = Counter(label: "shoal_restore_failures_total")
    let restoringPartitions = Meter(label: "shoal_restoring_partitions")
    let standbyPartitions = Gauge(label: "shoal_standby_partitions")
    /// Changelog records the standby copies were behind at their last catch-up.
    let standbyLag = Gauge(label: "shoal_standby_lag_records")
    let standbyRecords = Counter(label: "shoal_standby_records_total")

    /// Records found in another partition than their entity key's, by what
    /// became of them: `repartitioned` or `dead_lettered`.
    func misplaced(_ outcome: String) -> Counter {
        Counter(label: "shoal_misplaced_records_total", dimensions: [("outcome", outcome)])
    }

    /// Restores by kind: `full` (rebuilt from the changelog), `tail` (a
    /// replica brought up to date), `current` (the file was up to date).
    func restores(_ kind: String) -> Counter {
        Counter(label: "shoal_restores_total", dimensions: [("kind", kind)])
    }

    /// A partition's consumer lag: records in the log it has not read yet.
    func lag(of partition: TopicPartition) -> Gauge {
        Gauge(label: "shoal_partition_lag_records", dimensions: [("partition", partition.description)])
    }

    /// A shard's records accepted and not yet complete (its mailboxes' fill).
    func buffered(in partition: TopicPartition) -> Gauge {
        Gauge(label: "shoal_shard_buffered_records", dimensions: [("partition", partition.description)])
    }
}

extension Metrics.Timer {
    func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
