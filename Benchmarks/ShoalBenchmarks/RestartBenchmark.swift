import ArgumentParser
import Foundation
import Logging
import Shoal

/// A node restarting over partition files that hold many keys' states:
/// the time from its start to its first processed record, next to the same
/// restart over empty files in the same run (group join included in both).
struct RestartBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart",
        abstract: "Node start to first processed record with 1,000,000 keys' state, next to empty state."
    )

    @Option(help: "Keys whose state the files hold.")
    var keys: Int = 1_000_000

    @Option(help: "Partitions of the input topic.")
    var partitions: Int32 = 8

    @Option(help: "Rounds of each.")
    var rounds: Int = 3

    func run() async throws {
        var logger = Logger(label: "shoal.benchmarks")
        logger.logLevel = .warning
        var full: [Double] = []
        var empty: [Double] = []
        var afterJoin: [Double] = []
        for round in 1...rounds {
            let withState = try await measure(keys: keys, logger: logger)
            let withoutState = try await measure(keys: 0, logger: logger)
            full.append(withState.seconds)
            empty.append(withoutState.seconds)
            afterJoin.append(withState.afterJoin)
            print(String(
                format: "round %d: %d keys' state: first record after %.3f s (%.3f s after the group join); empty state: %.3f s",
                round, keys, withState.seconds, withState.afterJoin, withoutState.seconds
            ))
        }
        print(String(format: "median start to first processed record: %d keys %.3f s, empty %.3f s, difference %.3f s",
                     keys, median(full), median(empty), median(full) - median(empty)))
        print(String(format: "median group join (first shard started) to first processed record, %d keys: %.3f s",
                     keys, median(afterJoin)))
    }

    struct Timing {
        /// Node start to first processed record.
        var seconds: Double
        /// The group's assignment reaching the node (its first shard
        /// started) to the first processed record: Shoal's part.
        var afterJoin: Double
    }

    private func measure(keys: Int, logger: Logger) async throws -> Timing {
        let broker = try EmbeddedBroker(topics: [.init(name: "restart", partitions: partitions)], logger: logger)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-restart-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        // A restart on the machine that has the files: replication off, so
        // that the figure is the local restart's alone (`restore` measures
        // the changelog's).
        let configuration = ShoalNodeConfiguration(
            brokers: [broker.bootstrapServers], group: "restart", dataDirectory: directory.path, sessionTimeout: .seconds(6),
            changelog: .init(enabled: false)
        )
        try preloadStates(configuration, keys: keys)
        let producer = try KafkaProducer(configuration: .init(client: configuration.client), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await producer.run() }
            try await producer.send(KafkaProducerMessage(topic: "restart", key: "device-0", value: #"{"reading":1}"#))
            producer.triggerShutdown()
        }
        let node = ShoalNode(configuration: configuration, logger: logger)
        try node.route { topology in topology.route(topic: "restart", to: Device.self) { device, reading, _ in
            device.record(reading, busy: .zero)
        } }
        let before = handled.load(ordering: .relaxed)
        let start = ContinuousClock.now
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await node.run() }
            // The assignment hook opens the files one by one and registers a
            // shard after each: the first shard marks the join's end (less
            // the first file's opening, about a millisecond).
            var joined: ContinuousClock.Instant?
            while handled.load(ordering: .relaxed) == before {
                if joined == nil, !node.ownedPartitions.isEmpty { joined = .now }
                try await Task.sleep(for: .milliseconds(1))
            }
            let first = ContinuousClock.now
            group.cancelAll()
            while let _ = try? await group.next() {}
            return Timing(seconds: (first - start).seconds, afterJoin: (first - (joined ?? start)).seconds)
        }
    }

    /// Writes `keys` device states into the partition files, each key in its
    /// Kafka partition, as a node would have left them.
    private func preloadStates(_ configuration: ShoalNodeConfiguration, keys: Int) throws {
        try FileManager.default.createDirectory(atPath: configuration.storeDirectory, withIntermediateDirectories: true)
        let state = Array(#"{"count":5,"total":50}"#.utf8)
        var byPartition: [Int32: [Snapshot]] = [:]
        for index in 0..<keys {
            let key = "device-\(index)"
            let partition = Murmur2Partitioner.partition(for: key, partitionCount: partitions)
            byPartition[partition, default: []].append(Snapshot(entity: "Device", key: key, version: 1, offset: -1, state: state))
        }
        for partition in 0..<partitions {
            let store = try PartitionStore(path: configuration.storePath(for: TopicPartition("restart", partition)))
            var commit = StoreCommit(nextOffset: 0)
            commit.snapshots = byPartition[partition] ?? []
            commit.snapshotsComplete = true
            try store.commit(commit)
            store.close()
        }
    }
}
