import ArgumentParser
import Foundation
import Logging
import ShoalKafka

/// Memory per resident entity with a small state (a count and a sum): two
/// node processes read the same number of records, one over few keys and
/// one over many, all kept resident; the difference of their settled RSS
/// over the difference of their keys is what one more entity costs. RSS
/// moves by a few hundred bytes per entity between runs of one binary (it
/// holds what the allocator keeps free in its arenas), so the pair runs
/// `--rounds` times and the median is the figure.
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

    @Option(help: "Rounds (each runs both nodes); the median is reported.")
    var rounds: Int = 3

    func run() async throws {
        var logger = Logger(label: "shoal.benchmarks")
        logger.logLevel = .warning
        var perEntity: [Double] = []
        for round in 1...rounds {
            var settled: [Int: Int] = [:]
            for keys in [fewKeys, manyKeys] {
                settled[keys] = try await settledRSS(keys: keys, logger: logger)
            }
            perEntity.append(Double(settled[manyKeys]! - settled[fewKeys]!) / Double(manyKeys - fewKeys))
            print(String(format: "round %d: %.0f bytes per resident entity (RSS %.1f MiB with %d keys, %.1f MiB with %d)", round, perEntity.last!,
                         Double(settled[fewKeys]!) / 1_048_576, fewKeys, Double(settled[manyKeys]!) / 1_048_576, manyKeys))
        }
        print(String(format: "memory per resident entity: %.0f bytes (median of %d rounds of (RSS %d keys - RSS %d keys) / %d keys)",
                     median(perEntity), rounds, manyKeys, fewKeys, manyKeys - fewKeys))
    }

    /// A node's RSS a second after it read `records` over `keys` keys, all resident.
    private func settledRSS(keys: Int, logger: Logger) async throws -> Int {
        let broker = try EmbeddedBroker(topics: [.init(name: "backlog", partitions: partitions)], logger: logger)
        try await NodeRun.preload(broker.bootstrapServers, records: records, keys: keys, logger: logger)
        let report = try await NodeRun.measure(
            bootstrap: broker.bootstrapServers, records: records, handlerMicros: 0, logLevel: "warning",
            extraArguments: ["--max-resident", "\(manyKeys * 2)"]
        )
        return report.settledRSS
    }
}
