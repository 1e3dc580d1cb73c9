import ArgumentParser
import Foundation
import Logging
import ShoalKafka

/// A node with a slow handler facing a large backlog: its memory must not
/// grow with the backlog, it must keep its partitions, and it must process
/// every record. Runs the node as its own process and samples its RSS, for
/// two backlog sizes side by side.
struct BacklogBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backlog",
        abstract: "Node RSS under a large backlog with a slow handler, next to a small backlog."
    )

    @Option(help: "Backlog sizes to compare, in records.")
    var backlogs: [Int] = [1_000_000, 2_000_000]

    @Option(help: "Partitions (the embedded broker keeps ~100,000 records and ~5 MiB each).")
    var partitions: Int32 = 64

    @Option(help: "Busy microseconds per handled record.")
    var handlerMicros: Int = 20

    @Option(help: "The node's log level.")
    var nodeLogLevel: String = "info"

    func run() async throws {
        var logger = Logger(label: "shoal.benchmarks")
        logger.logLevel = .warning
        var results: [(Int, NodeRun.Report)] = []
        for backlog in backlogs {
            let report = try await measure(backlog: backlog, logger: logger)
            results.append((backlog, report))
            print(String(format: "backlog %d: processed %d in %.1f s (%.0f records/s), node RSS max %.1f MiB, partitions given up %d",
                         backlog, report.processed, report.seconds, Double(report.processed) / report.seconds,
                         Double(report.maxRSS) / 1_048_576, report.handOffs))
        }
        if results.count == 2 {
            print(String(format: "RSS ratio (backlog %d / backlog %d): %.2f",
                         results[1].0, results[0].0, Double(results[1].1.maxRSS) / Double(results[0].1.maxRSS)))
        }
    }

    private func measure(backlog: Int, logger: Logger) async throws -> NodeRun.Report {
        let broker = try EmbeddedBroker(topics: [.init(name: "backlog", partitions: partitions)], logger: logger)
        try await NodeRun.preload(broker.bootstrapServers, records: backlog, logger: logger)
        return try await NodeRun.measure(
            bootstrap: broker.bootstrapServers, records: backlog, handlerMicros: handlerMicros, logLevel: nodeLogLevel
        )
    }
}
