import Synchronization
import ShoalKafka

/// Changelog readers kept between restores: each restore borrows one
/// instead of opening a client of its own (connecting, fetching metadata),
/// so a node restoring dozens of partitions opens only as many readers as
/// restore at once.
final class RestoreReaders: Sendable {
    private let idle = Mutex<[KafkaPartitionReader]>([])

    /// An idle reader, or a new one from `make`.
    func borrow(_ make: () throws -> KafkaPartitionReader) rethrows -> KafkaPartitionReader {
        if let reader = idle.withLock({ $0.popLast() }) { return reader }
        return try make()
    }

    func giveBack(_ reader: KafkaPartitionReader) {
        idle.withLock { $0.append(reader) }
    }

    /// Closes the idle readers (when the node stops).
    func removeAll() {
        let readers = idle.withLock { idle in
            defer { idle.removeAll() }
            return idle
        }
        withExtendedLifetime(readers) {}
    }
}
