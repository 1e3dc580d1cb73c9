import ArgumentParser
import Foundation
import Logging
import ShoalKafka

/// Memory per resident entity with a small state (a count and a sum): two
/// node processes read the same number of records, one over few keys and
/// one over many, all kept resident; the difference of their settled RSS
/// over the difference of their keys is what one more entity costs.
struct EntityMemoryBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "entity-memory",
        abstract: "Bytes of node memory per resident entity with a small state."
    )

    @Option(help: "Records each run reads.")
    var records: Int = 400_000

    @Option(help: "Keys of the small run.")
    var fewKeys: Int = 40_000

    @Option(help: "Keys of the large run (every record a new key).")
    var manyKeys: Int = 400_000

    @Option(help: "Partitions.")
    var partitions: Int32 = 32

    func run() async throws {
        var logger = Logger(label: "shoal.benchmarks")
        logger.logLevel = .warning
        var settled: [Int: Int] = [:]
        for keys in [fewKeys, manyKeys] {
            let broker = try EmbeddedBroker(topics: [.init(name: "backlog", partitions: partitions)], logger: logger)
            try await NodeRun.preload(broker.bootstrapServers, records: records, keys: keys, logger: logger)
            let report = try await NodeRun.measure(
                bootstrap: broker.bootstrapServers, records: records, handlerMicros: 0, logLevel: "warning",
                extraArguments: ["--max-resident", "\(manyKeys * 2)"]
            )
            settled[keys] = report.settledRSS
            print(String(format: "%d keys resident: node RSS %.1f MiB after %d records", keys, Double(report.settledRSS) / 1_048_576, report.processed))
        }
        let perEntity = Double(settled[manyKeys]! - settled[fewKeys]!) / Double(manyKeys - fewKeys)
        print(String(format: "memory per resident entity: %.0f bytes ((RSS %d keys - RSS %d keys) / %d keys)", perEntity, manyKeys, fewKeys, manyKeys - fewKeys))
    }
}
