import ArgumentParser
import Foundation
import Logging
import ShoalKafka

/// End to end: a node process doing a per-key stateful count with the
/// partition store on (journal, snapshots, offsets in SQLite), next to a
/// plain C librdkafka poll loop reading the same preloaded records.
struct NodeThroughputBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node-throughput",
        abstract: "Records/s of a node with a stateful count and journaling, next to a plain librdkafka consume."
    )

    @Option(help: "Records to preload.")
    var records: Int = 1_000_000

    @Option(help: "Partitions (the embedded broker keeps ~5 MiB each).")
    var partitions: Int32 = 64

    @Option(help: "Rounds of each.")
    var rounds: Int = 2

    @Flag(help: "Also run the node with state replication to the changelog on, next to it off.")
    var changelog = false

    @Option(help: "Each device keeps its last N readings in its state (a state that costs to encode, as a fraud check's window does); 0: a count and a sum.")
    var window = 0

    @Flag(help: "With --window: the states expire an hour after their last reading, as the samples' do.")
    var expiring = false

    func run() async throws {
        let handler = ["--window", "\(window)"] + (expiring ? ["--expiring"] : [])
        var logger = Logger(label: "shoal.benchmarks")
        logger.logLevel = .warning
        let broker = try EmbeddedBroker(topics: [.init(name: "backlog", partitions: partitions)], logger: logger)
        try await NodeRun.preload(broker.bootstrapServers, records: records, logger: logger)
        var plain: [Double] = []
        var node: [Double] = []
        var replicating: [Double] = []
        for round in 1...rounds {
            let seconds = await CBaseline.consume(bootstrap: broker.bootstrapServers, topic: "backlog", group: "c-\(round)", records: records)
            guard seconds > 0 else { throw ValidationError("the C baseline failed") }
            plain.append(Double(records) / seconds)
            let report = try await NodeRun.measure(
                bootstrap: broker.bootstrapServers, records: records, handlerMicros: 0, logLevel: "warning", extraArguments: handler
            )
            node.append(Double(report.processed) / report.seconds)
            print(String(format: "round %d: C poll loop %.0f records/s, node (count + journal) %.0f records/s, node CPU %.1f µs/record, RSS max %.1f MiB",
                         round, plain.last!, node.last!, report.cpuMicrosPerRecord, Double(report.maxRSS) / 1_048_576))
            guard changelog else { continue }
            let group = "node-changelog-\(round)"
            try broker.createChangelog(group: group, partitions: partitions)
            let replicated = try await NodeRun.measure(
                bootstrap: broker.bootstrapServers, records: records, handlerMicros: 0, logLevel: "warning",
                extraArguments: ["--changelog"] + handler, group: group
            )
            replicating.append(Double(replicated.processed) / replicated.seconds)
            print(String(format: "round %d: node with the changelog on %.0f records/s (on / off = %.2f), RSS max %.1f MiB",
                         round, replicating.last!, replicating.last! / node.last!, Double(replicated.maxRSS) / 1_048_576))
        }
        if changelog {
            print(String(format: "median: node with the changelog on %.0f records/s, off %.0f records/s, on / off = %.2f",
                         median(replicating), median(node), median(replicating) / median(node)))
        }
        print(String(format: "median: node %.0f records/s, C poll loop %.0f records/s, node / C = %.2f",
                     median(node), median(plain), median(node) / median(plain)))
    }
}
