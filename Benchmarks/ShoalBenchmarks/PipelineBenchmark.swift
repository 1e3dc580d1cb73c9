import ArgumentParser
import Foundation
import Logging
import ShoalKafka

/// The whole path: records in, state committed, one output per record
/// published. A node process doing a per-key count that emits its count
/// with every record, next to a plain C librdkafka pipe (consume, produce
/// each record to an output topic, flush) over the same preloaded records.
/// Both are timed from their first record read to their last output
/// acknowledged by the broker.
struct PipelineBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Records/s from input to acknowledged output: a node (count, one output per record) next to a plain C pipe."
    )

    @Option(help: "Records to preload.")
    var records: Int = 1_000_000

    @Option(help: "Distinct keys; several values run one after another, each on a fresh broker.")
    var keys: [Int] = [10_000]

    @Option(help: "Bytes of each record's JSON value.")
    var valueBytes: Int = 100

    @Option(help: "Partitions of the input and each output topic (the embedded broker keeps ~5 MiB each).")
    var partitions: Int32 = 64

    @Option(help: "Rounds of each, alternating.")
    var rounds: Int = 2

    @Option(help: "Milliseconds between the node's commits (its outputs go out after theirs); the node's default when not given.")
    var checkpointMs: Int?

    @Option(help: "linger.ms of the node's output producer; the node's default when not given.")
    var outputLingerMs: Int?

    @Option(help: "Resident entities the node keeps before passivating the least recent.")
    var maxResident: Int = 100_000

    func run() async throws {
        var logger = Logger(label: "shoal.benchmarks")
        logger.logLevel = .warning
        for keyCount in keys {
            try await measure(keys: keyCount, logger: logger)
        }
    }

    private func measure(keys: Int, logger: Logger) async throws {
        let broker = try EmbeddedBroker(topics: [.init(name: "pipeline-in", partitions: partitions)], logger: logger)
        try await NodeRun.preload(broker.bootstrapServers, topic: "pipeline-in", records: records, keys: keys, valueBytes: valueBytes, logger: logger)
        let reader = try KafkaPartitionReader(client: .init(bootstrapServers: [broker.bootstrapServers]), logger: logger)
        var plain: [Double] = []
        var node: [Double] = []
        for round in 1...rounds {
            let cTopic = "pipeline-out-c-\(round)"
            try broker.createTopic(cTopic, partitions: partitions)
            let seconds = await CBaseline.pipe(
                bootstrap: broker.bootstrapServers, from: "pipeline-in", to: cTopic, group: "pipe-c-\(round)", records: records
            )
            guard seconds > 0 else { throw ValidationError("the C pipe failed") }
            plain.append(Double(records) / seconds)
            let nodeTopic = "pipeline-out-node-\(round)"
            try broker.createTopic(nodeTopic, partitions: partitions)
            let report = try await NodeRun.measure(
                bootstrap: broker.bootstrapServers, records: records, handlerMicros: 0, logLevel: "info",
                extraArguments: [
                    "--pipeline-output", nodeTopic, "--max-resident", "\(maxResident)",
                ] + (checkpointMs.map { ["--checkpoint-ms", "\($0)"] } ?? [])
                    + (outputLingerMs.map { ["--output-linger-ms", "\($0)"] } ?? []),
                acknowledged: { [partitions] in try await Self.held(in: nodeTopic, partitions: partitions, reader: reader) }
            )
            // A rebalance replays records and publishes their outputs again:
            // the output topic's ends would then count repeats.
            guard report.handOffs <= 0 else { throw ValidationError("the node's partitions moved during the run; its output counts repeats") }
            node.append(Double(records) / report.seconds)
            print(String(format: "%d keys, round %d: C pipe %.0f records/s, node (count, one output each) %.0f records/s, node / C = %.2f, node CPU %.1f µs/record, RSS max %.1f MiB",
                         keys, round, plain.last!, node.last!, node.last! / plain.last!, report.cpuMicrosPerRecord, Double(report.maxRSS) / 1_048_576))
        }
        print(String(format: "%d keys, median: node %.0f records/s, C pipe %.0f records/s, node / C = %.2f",
                     keys, median(node), median(plain), median(node) / median(plain)))
    }

    /// Records the broker holds in `topic`: the sum of its partitions' ends.
    private static func held(in topic: String, partitions: Int32, reader: KafkaPartitionReader) async throws -> Int {
        var total: Int64 = 0
        for partition in 0..<partitions {
            total += try await reader.watermarks(of: TopicPartition(topic, partition)).high
        }
        return Int(total)
    }
}
