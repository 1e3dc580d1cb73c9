import ArgumentParser
import Foundation
import Logging
import Shoal

/// A node on an empty data directory restoring 1,000,000 keys' state from
/// the changelog, to the first record processed on every partition; next
/// to the same start with no state to restore, and to a plain C librdkafka
/// loop reading the changelog's bytes, in the same run.
struct RestoreBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore of 1,000,000 keys' state from the changelog, next to a plain librdkafka read of the same records."
    )

    @Option(help: "Keys whose state the changelog holds.")
    var keys: Int = 1_000_000

    @Option(help: "Partitions (the embedded broker keeps ~5 MiB of each changelog partition).")
    var partitions: Int32 = 64

    @Option(help: "Rounds of each.")
    var rounds: Int = 3

    @Option(help: "Partitions a node restores at once; a list measures each side by side (e.g. 2,64); default: the node's.")
    var concurrency: String?

    @Option(help: "Log level of the restoring nodes (info shows each partition's restore).")
    var logLevel: String = "warning"

    func run() async throws {
        var logger = Logger(label: "shoal.benchmarks")
        logger.logLevel = .warning
        var nodeLogger = logger
        nodeLogger.logLevel = Logger.Level(rawValue: logLevel) ?? .warning
        let broker = try EmbeddedBroker(
            topics: [.init(name: "restore", partitions: partitions), .init(name: "restore-empty", partitions: partitions)], logger: logger
        )
        let group = "restore"
        try broker.createChangelog(group: group, partitions: partitions)
        print("seeding: \(keys) keys' state through a node with the changelog on")
        try await NodeRun.preload(broker.bootstrapServers, topic: "restore", records: keys, keys: keys, logger: logger)
        _ = try await RestoringNode(broker: broker, topic: "restore", partitions: partitions, group: group, logger: logger).measure(expect: keys)
        let changelog = try await changelogSize(broker, group: group)
        print("changelog: \(changelog) records in \(partitions) partitions")
        let widths = concurrency.map { $0.split(separator: ",").compactMap { Int($0) } } ?? [ShoalNodeConfiguration.Changelog().restoreConcurrency]
        var restored: [Int: [Double]] = [:]
        var restoredBytes: [Int: Int] = [:]
        var spans: [Int: [Double]] = [:]
        var plain: [Double] = []
        var bytes = 0
        for round in 1...rounds {
            let emptyGroup = "restore-empty-\(round)"
            try broker.createChangelog(group: emptyGroup, partitions: partitions)
            try await produceProbes(broker, topic: "restore-empty", round: round, logger: logger)
            let none = try await RestoringNode(broker: broker, topic: "restore-empty", partitions: partitions, group: emptyGroup, logger: logger)
                .measure(expect: Int(partitions))
            for width in widths {
                try await produceProbes(broker, topic: "restore", round: round * 100 + width, logger: logger)
                let full = try await RestoringNode(broker: broker, topic: "restore", partitions: partitions, group: group, logger: nodeLogger, concurrency: width)
                    .measure(expect: Int(partitions), countingKeys: true)
                guard full.keys >= keys else { throw ValidationError("the restored files hold \(full.keys) keys, not \(keys)") }
                restored[width, default: []].append(full.seconds - none.seconds)
                restoredBytes[width] = full.restoredBytes
                spans[width, default: []].append(full.restoreSpan)
                print(String(
                    format: "round %d, %d at once: start to a record processed on every partition: restoring %d keys %.3f s, no state %.3f s; restore %.3f s",
                    round, width, full.keys, full.seconds, none.seconds, full.seconds - none.seconds
                ))
            }
            let c = await CBaseline.consumeCounting(
                bootstrap: broker.bootstrapServers, topic: ShoalNodeConfiguration.changelogTopic(group: group),
                group: "c-restore-\(round)", records: changelog
            )
            guard c.seconds > 0 else { throw ValidationError("the C baseline failed") }
            bytes = c.bytes
            plain.append(c.seconds)
            print(String(format: "round %d: C loop over the changelog %.3f s", round, c.seconds))
        }
        let megabytes = Double(bytes) / 1_000_000
        print(String(format: "C loop: median %.3f s, %.1f MB/s (%d records, %.1f MB)", median(plain), megabytes / median(plain), changelog, megabytes))
        for width in widths {
            let difference = median(restored[width] ?? [])
            let restore = median(spans[width] ?? [])
            let read = Double(restoredBytes[width] ?? 0) / 1_000_000
            // The restore reads from each partition's last image, less than
            // the whole log: the C loop's rate over the bytes the restore read.
            let cOverSameBytes = median(plain) * read / megabytes
            print(String(
                format: "median restore, %d at once: %.3f s first start to last end (start-time difference %.3f s), %.0f keys/s; read %.1f MB, %.1f MB/s; restore / C loop over the whole log = %.2f, over the same bytes = %.2f",
                width, restore, difference, Double(keys) / restore, read, read / restore, median(plain) / restore, cOverSameBytes / restore
            ))
        }
    }

    /// One record on each partition of `topic`, under keys no round used.
    private func produceProbes(_ broker: EmbeddedBroker, topic: String, round: Int, logger: Logger) async throws {
        var keys: [Int32: String] = [:]
        var index = 0
        while keys.count < partitions {
            let key = "probe-\(round)-\(index)"
            let partition = Murmur2Partitioner.partition(for: key, partitionCount: partitions)
            if keys[partition] == nil { keys[partition] = key }
            index += 1
        }
        let producer = try KafkaProducer(configuration: .init(client: .init(bootstrapServers: [broker.bootstrapServers])), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await producer.run() }
            for key in keys.values {
                try await producer.send(KafkaProducerMessage(topic: topic, key: key, value: #"{"reading":1}"#))
            }
            producer.triggerShutdown()
        }
    }

    /// Records retained in the changelog's partitions.
    private func changelogSize(_ broker: EmbeddedBroker, group: String) async throws -> Int {
        let reader = try KafkaPartitionReader(client: .init(bootstrapServers: [broker.bootstrapServers]), logger: Logger(label: "sizes"))
        var records = 0
        for partition in 0..<partitions {
            let (low, high) = try await reader.watermarks(of: TopicPartition(ShoalNodeConfiguration.changelogTopic(group: group), partition))
            records += Int(high - low)
        }
        return records
    }
}

/// A node in this process on a new, empty data directory, with the
/// changelog on: from its start until it processed `expect` records.
struct RestoringNode {
    let broker: EmbeddedBroker
    let topic: String
    let partitions: Int32
    let group: String
    let logger: Logger
    var concurrency: Int?

    struct Timing {
        var seconds: Double
        /// Keys in the node's files once it stopped (when counted).
        var keys = 0
        /// Changelog bytes the node's restores read.
        var restoredBytes = 0
        /// From the node's first restore's start to its last one's end.
        var restoreSpan = 0.0
    }

    func measure(expect: Int, countingKeys: Bool = false) async throws -> Timing {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-restore-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let configuration = ShoalNodeConfiguration(
            brokers: [broker.bootstrapServers], group: group, dataDirectory: directory.path, sessionTimeout: .seconds(6),
            passivation: .init(idleTimeout: .seconds(600), maxResidentEntities: 100_000),
            changelog: concurrency.map { .init(restoreConcurrency: $0) } ?? .init()
        )
        let node = ShoalNode(configuration: configuration, logger: logger)
        try node.route { topology in topology.route(topic: topic, to: Device.self) { device, reading, _ in
            device.record(reading, busy: .zero)
        } }
        let target = handled.load(ordering: .relaxed) + expect
        var restoredBytes = 0
        var restoreSpan = 0.0
        let start = ContinuousClock.now
        let seconds = try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await node.run() }
            while handled.load(ordering: .relaxed) < target {
                try await Task.sleep(for: .milliseconds(1))
            }
            let seconds = (ContinuousClock.now - start).seconds
            restoredBytes = node.restoreTotals.bytes
            restoreSpan = node.restoreTotals.span.seconds
            // A few checkpoints, so that every commit reaches the changelog
            // before the hand-off.
            try await Task.sleep(for: .seconds(1))
            tasks.cancelAll()
            while let _ = try? await tasks.next() {}
            return seconds
        }
        guard countingKeys else { return Timing(seconds: seconds, restoredBytes: restoredBytes, restoreSpan: restoreSpan) }
        var keys = 0
        for partition in 0..<partitions {
            let store = try PartitionStore(readingAt: configuration.storePath(for: TopicPartition(topic, partition)))
            keys += try store.snapshots().count
            store.close()
        }
        return Timing(seconds: seconds, keys: keys, restoredBytes: restoredBytes, restoreSpan: restoreSpan)
    }
}
