import Logging
import Metrics
import ShoalKafka
import Synchronization

/// A node's tables (see ``Topology/table(_:)``): every partition of each
/// table topic, read to the end of its log before the node processes
/// records, then followed; the latest value of each key in memory.
final class GlobalTables: TableLookup, Sendable {
    let partitions: [TopicPartition]
    private let topics: Set<String>
    private let values = Mutex<[String: [String: [UInt8]]]>([:])
    private let next = Mutex<[TopicPartition: Int64]>([:])
    private let logger: Logger
    private let records = Counter(label: "shoal_table_records_total")
    private let keys = Gauge(label: "shoal_table_keys")

    /// The tables of `topics`, with their partition counts.
    init(counts: [String: Int], logger: Logger) {
        topics = Set(counts.keys)
        partitions = counts.keys.sorted().flatMap { topic in (0..<Int32(counts[topic] ?? 0)).map { TopicPartition(topic, $0) } }
        self.logger = logger
    }

    func value(in table: String, key: String) -> [UInt8]?? {
        guard topics.contains(table) else { return nil }
        return .some(values.withLock { $0[table]?[key] })
    }

    /// How many keys `table` holds.
    func count(of table: String) -> Int { values.withLock { $0[table]?.count ?? 0 } }

    /// Reads every partition from where it stands to the end of its log as
    /// it is now. Records that fell off the log before they were read are
    /// reported, not skipped silently.
    func catchUp(_ reader: KafkaPartitionReader) async throws {
        for partition in partitions {
            let (low, high) = try await reader.watermarks(of: partition)
            let held = next.withLock { $0[partition] }
            if let held, held < low {
                logger.warning("Table records fell off the log before they were read: the table lacks their keys", metadata: [
                    "partition": "\(partition)", "from": "\(held)", "oldest": "\(low)",
                ])
            } else if held == nil, low > 0 {
                logger.notice("Table read from its oldest retained record", metadata: ["partition": "\(partition)", "oldest": "\(low)"])
            }
            let start = max(held ?? 0, low)
            guard start < high else { continue }
            // The position moves with each batch: a read that fails halfway
            // resumes after what it applied, never re-applying older values.
            try await reader.read(partition, from: start, until: high) { [self] batch in
                apply(batch)
                if let last = batch.last { next.withLock { $0[partition] = last.offset + 1 } }
            }
            next.withLock { $0[partition] = high }
        }
    }

    /// Follows the tables while `running` says so, every `interval`.
    func follow(_ reader: KafkaPartitionReader, interval: Duration, running: @Sendable () -> Bool) async {
        while running() {
            do {
                try await catchUp(reader)
            } catch where running() && !Task.isCancelled {
                logger.warning("Reading a table failed; retrying", metadata: ["error": "\(error)"])
            } catch {
                return
            }
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }

    /// The latest value per key; a record without a value deletes its key,
    /// one without a key has no place in a table.
    private func apply(_ batch: [KafkaRecord]) {
        var unkeyed = 0
        let total = values.withLock { values -> Int in
            for record in batch {
                guard let key = record.keyString else {
                    unkeyed += 1
                    continue
                }
                values[record.topic, default: [:]][key] = TableRead.tableValue(record.value?.array)
            }
            return values.values.reduce(0) { $0 + $1.count }
        }
        records.increment(by: batch.count)
        keys.record(total)
        if unkeyed > 0 {
            logger.warning("Table records without a key were ignored", metadata: ["count": "\(unkeyed)", "topic": "\(batch[0].topic)"])
        }
    }
}
