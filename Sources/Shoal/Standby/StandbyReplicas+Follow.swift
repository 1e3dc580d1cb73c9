import Foundation
import ShoalKafka
import Synchronization

extension StandbyReplicas {
    /// Releases the copies no longer wanted, opens the new ones, and brings
    /// every copy up to its changelog's end.
    func follow(_ wanted: Set<Int32>, reader: KafkaPartitionReader) async {
        let before = withCopies { Set($0.keys) }
        let dropped = takeCopies { !wanted.contains($0) }
        for copy in dropped { await copy.release() }
        var behind: Int64 = 0
        for partition in wanted.sorted() {
            guard let copy = copy(of: partition) else { continue }
            behind += await catchUp(copy, reader: reader)
        }
        let held = withCopies { Set($0.keys) }
        if held != before {
            // Operators (and tests) see which partitions a failover here would restore from a copy.
            logger.info("Standby copies kept", metadata: ["partitions": "\(held.sorted())"])
        }
        node.metrics.standbyPartitions.record(held.count)
        node.metrics.standbyLag.record(behind)
    }

    /// The copy of `partition`, opened if new, unless its files are in use
    /// or the partition was claimed meanwhile.
    private func copy(of partition: Int32) -> StandbyCopy? {
        if let copy = withCopies({ $0[partition] }) { return copy }
        var stores: [String: PartitionStore] = [:]
        do {
            try FileManager.default.createDirectory(
                atPath: node.configuration.storeDirectory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
            for (topic, count) in topics where partition < count {
                let path = node.configuration.storePath(for: TopicPartition(topic, partition))
                stores[topic] = try PartitionStore(path: path, lockTimeout: .milliseconds(100), synchronous: node.configuration.store.synchronous)
            }
        } catch {
            for store in stores.values { store.close() }
            note(error, for: partition)
            return nil
        }
        let copy = StandbyCopy(partition: partition, stores: stores)
        guard adopt(copy) else {
            for store in stores.values { store.close() }
            return nil
        }
        return copy
    }

    /// Folds the changelog records after each file's position; returns how
    /// many records the copy was behind.
    private func catchUp(_ copy: StandbyCopy, reader: KafkaPartitionReader) async -> Int64 {
        var behind: Int64 = 0
        for (topic, store) in copy.stores.sorted(by: { $0.key < $1.key }) {
            let restore = ChangelogRestore(
                reader: reader, changelog: TopicPartition(node.configuration.changelogTopic, copy.partition), store: store,
                storeName: topic, group: node.configuration.group, idleTimeout: node.configuration.changelog.readIdleTimeout,
                logger: node.logger
            )
            let result = ResultBox()
            await copy.run { result.set(await Result { try await restore.catchUp() }) }
            switch result.value {
            case .success(let outcome):
                behind += outcome.behind
                node.metrics.standbyRecords.increment(by: outcome.records)
                cleared(copy.partition)
            case .failure(let error) where !(error is CancellationError):
                note(error, for: copy.partition)
            case .failure, nil:
                break
            }
        }
        return behind
    }
}

/// A catch-up's result, handed out of the copy's task.
private final class ResultBox: Sendable {
    private let result = Mutex<Result<ChangelogRestore.Outcome, any Error>?>(nil)

    func set(_ value: Result<ChangelogRestore.Outcome, any Error>) {
        result.withLock { $0 = value }
    }

    var value: Result<ChangelogRestore.Outcome, any Error>? { result.withLock { $0 } }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
