import ArgumentParser

@main
struct ShoalBenchmarks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shoal-benchmarks",
        abstract: "Shoal's benchmarks; each prints ratios measured side by side in one run.",
        subcommands: [CallsBenchmark.self, ConsumeBenchmark.self, BacklogBenchmark.self, MailboxBenchmark.self, StoreBenchmark.self, RestartBenchmark.self, ReplayBenchmark.self, JSONBenchmark.self, PatternStateBenchmark.self, NodeThroughputBenchmark.self, EntityMemoryBenchmark.self, LatencyBenchmark.self, PipelineBenchmark.self, RestoreBenchmark.self, BacklogNode.self]
    )
}
