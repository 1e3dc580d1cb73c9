import Foundation
import ShoalKafka

/// Starts a shard per assigned partition and hands revoked ones off before
/// the group gives them to another node.
struct NodeRebalanceListener: KafkaRebalanceListener {
    let node: ShoalNode

    func partitionsAssigned(_ partitions: [TopicPartition]) async -> [TopicPartition: KafkaStartOffset] {
        // Every rebalance ends with an assignment (empty or not) under both
        // protocols, so this counts each rebalance once.
        node.metrics.rebalances.increment()
        let (services, consumer, owned, standbys) = node.state.withLock {
            ($0.services, $0.consumer, Set($0.shards.keys).union($0.restoring.keys), $0.standbys)
        }
        guard let services else { return [:] }
        // One shard per lead partition; the consumer assigns the followers'
        // partitions of the same number with it.
        let shards = partitions.filter { services.coPartitioning.shard(of: $0) == $0 && !owned.contains($0) }
        // A standby copy of a partition becomes its file: released first.
        await standbys?.claim(shards)
        var starts: [TopicPartition: Int64] = [:]
        var unusable: [TopicPartition] = []
        var restoring: [(TopicPartition, PartitionStore)] = []
        for partition in shards {
            do {
                guard services.changelog == nil else {
                    // Restored after this callback returns: the group's
                    // rebalance never waits for a restore.
                    let store = try openStore(partition)
                    starts.merge(services.inputStarts(of: partition, progress: try store.progress())) { $1 }
                    restoring.append((partition, store))
                    continue
                }
                let (shard, progress) = try await openShard(partition, services: services)
                // The previous owner's undelivered outputs go out before any new ones.
                await shard.persistence.resumePublishing()
                node.state.withLock { $0.shards[partition] = shard }
                shard.wakeDueTimers(at: shard.currentClocks)
                starts.merge(services.inputStarts(of: partition, progress: progress)) { $1 }
            } catch {
                node.logger.error("Cannot open the partition's state file: the partition stays paused", metadata: [
                    "partition": "\(partition)", "error": "\(error)",
                ])
                unusable.append(partition)
            }
        }
        // A shard stopped while full left its partition paused, and the
        // consumer keeps a pause across rebalances: the new shard starts open.
        let paused = Set((unusable + restoring.map(\.0)).flatMap(services.coPartitioning.inputs(of:)))
        consumer?.resume(partitions.filter { !paused.contains($0) })
        consumer?.pause(partitions.filter { paused.contains($0) })
        for (partition, store) in restoring {
            node.startRestore(partition, store: store, services: services)
        }
        node.state.withLock { $0.board }?.ownershipChanged()
        node.logger.info("Shards started", metadata: ["partitions": "\(partitions.sorted())", "starts": "\(starts)"])
        return starts.mapValues { .offset($0) }
    }

    /// Opens the partition's file, waiting for a previous owner to release it.
    private func openStore(_ partition: TopicPartition) throws -> PartitionStore {
        let configuration = node.configuration
        try FileManager.default.createDirectory(
            atPath: configuration.storeDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]
        )
        return try PartitionStore(
            path: configuration.storePath(for: partition), lockTimeout: configuration.store.lockTimeout,
            synchronous: configuration.store.synchronous
        )
    }

    /// Opens the partition's file (waiting for a previous owner to release
    /// it) and a shard over it; returns the file's progress, if any.
    private func openShard(_ partition: TopicPartition, services: ShardServices) async throws -> (Shard, StoreProgress?) {
        let store = try openStore(partition)
        let progress = try store.progress()
        let shard = try Shard(lead: partition, services: services, store: store, progress: progress)
        shard.restoreTime(maxEventTime: progress?.maxEventTime, timers: try store.timers())
        return (shard, progress)
    }

    func partitionsRevoked(_ partitions: [TopicPartition]) async {
        let offsets = await stop(partitions)
        if let consumer = node.state.withLock({ $0.consumer }) {
            await node.commitProcessed(consumer, only: offsets)
        }
        node.logger.info("Shards handed off", metadata: ["partitions": "\(partitions.sorted())", "committed": "\(offsets)"])
    }

    func partitionsLost(_ partitions: [TopicPartition]) async {
        // Another node may own them already: stop, but commit nothing to
        // Kafka and replicate nothing more to the changelog.
        _ = await stop(partitions, lost: true)
        node.logger.warning("Shards lost without a hand-off", metadata: ["partitions": "\(partitions.sorted())"])
    }

    private func stop(_ partitions: [TopicPartition], lost: Bool = false) async -> [TopicPartition: Int64] {
        let (shards, restores, standbys) = node.state.withLock { state in
            (
                partitions.compactMap { partition in state.shards.removeValue(forKey: partition) },
                partitions.compactMap { partition in
                    state.unrestorable[partition] = nil
                    let restoring = state.restoring.removeValue(forKey: partition)
                    if lost { restoring?.markLost() }
                    return restoring
                },
                state.standbys
            )
        }
        // Once closed here, the files may serve as standby copies.
        defer {
            standbys?.unclaim(partitions)
            node.state.withLock { $0.board }?.ownershipChanged()
        }
        // A partition still restoring has nothing to hand off: its file
        // is closed for the next owner, who restores it in turn.
        var offsets: [TopicPartition: Int64] = [:]
        await withTaskGroup(of: [TopicPartition: Int64].self) { group in
            for restore in restores {
                group.addTask {
                    await restore.stop()
                    return [:]
                }
            }
            for shard in shards {
                group.addTask { await shard.stop(replicating: !lost) }
            }
            for await stopped in group {
                offsets.merge(stopped) { $1 }
            }
        }
        return offsets
    }
}
