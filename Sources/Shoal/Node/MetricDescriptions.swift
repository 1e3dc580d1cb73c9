import Synchronization

/// What each metric measures: the `# HELP` line a Prometheus backend
/// exports with it.
///
/// swift-metrics has no place for a description, so the runtime keeps its
/// own here, and an application describes the metrics it adds with
/// ``describe(_:_:)`` before the first scrape. Prometheus' tools reject a
/// metric without help text.
public enum MetricDescriptions {
    /// The description of the metric named `name`: the runtime's own, or
    /// one an application gave with ``describe(_:_:)``.
    public static func help(for name: String) -> String? {
        runtime[name] ?? described.withLock { $0[name] }
    }

    /// Describes an application's metric `name` (one line of plain text),
    /// before the metric is first made: a metric keeps the help text it
    /// was first exported with.
    public static func describe(_ name: String, _ help: String) {
        described.withLock { $0[name] = help }
    }

    private static let described = Mutex<[String: String]>([:])

    /// The runtime's metrics, by name.
    static let runtime: [String: String] = [
        "shoal_records_in_total": "Input records handed to entities.",
        "shoal_handler_duration_seconds": "Time an entity's handler took for one record, timer or call.",
        "shoal_resident_entities": "Entities held in memory.",
        "shoal_paused_partitions": "Input partitions paused by backpressure or while restoring.",
        "shoal_consumer_lag_records": "Records in the owned input partitions not yet read, in all.",
        "shoal_partition_lag_records": "Records in one input partition not yet read.",
        "shoal_shard_buffered_records": "Records a partition's shard accepted and has not finished.",
        "shoal_rebalances_total": "Consumer-group rebalances this node took part in.",
        "shoal_store_faults_total": "Times a partition stopped on a state-file error (corrupt, locked or full).",
        "shoal_checkpoint_duration_seconds": "One shard's commit: its SQLite transaction and the publishing after it.",
        "shoal_changelog_records_total": "Records written to the changelog topic.",
        "shoal_changelog_images_total": "Full images of a partition's state written to the changelog.",
        "shoal_restore_records_total": "Changelog records read while restoring partitions.",
        "shoal_restore_bytes_total": "Changelog bytes read while restoring partitions.",
        "shoal_restore_duration_seconds": "Time one partition's restore from the changelog took.",
        "shoal_restore_failures_total": "Restores that failed and left their partition paused.",
        "shoal_restores_total": "Partition restores, by kind: full, tail or current.",
        "shoal_restoring_partitions": "Partitions being restored now.",
        "shoal_standby_partitions": "Partitions this node keeps warm standby copies of.",
        "shoal_standby_lag_records": "Changelog records the standby copies were behind at their last catch-up.",
        "shoal_standby_records_total": "Changelog records applied to standby copies.",
        "shoal_misplaced_records_total": "Records found in another partition than their key's, by outcome.",
        "shoal_dead_letters_total": "Records and timers sent to the dead-letter topic.",
        "shoal_timers_fired_total": "Entity timers fired.",
        "shoal_timer_failures_total": "Timers whose handler threw, sent to the dead-letter topic.",
        "shoal_states_expired_total": "Entity states removed by their time to live.",
        "shoal_late_events_total": "Events behind the watermark, by the policy applied.",
        "shoal_table_records_total": "Records read into global tables.",
        "shoal_table_keys": "Keys held in global tables.",
        "shoal_calls_total": "Entity calls, by direction (in, out) and outcome.",
        "shoal_call_duration_seconds": "Entity calls' time, by direction: served here (in) or sent (out).",
        "shoal_calls_forwarded_total": "Calls this node forwarded to the key's owner.",
        "shoal_call_retries_total": "Calls retried after their partition moved.",
        "shoal_calls_refused_total": "Connections or calls refused, by reason.",
    ]
}
