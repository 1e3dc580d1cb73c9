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
    let checkpointDuration = Metrics.Timer(label: "shoal_checkpoint_duration_seconds")

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
