import Shoal
import ArgumentParser
import Foundation

/// `APP demo`: the application end to end on one machine: the embedded
/// broker, node processes, the seeded load, alerts as they happen, a
/// progress line and a summary. Ctrl-C stops it cleanly.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the application on the embedded broker with its load generator; print alerts, progress and a summary."
    )

    @Option(help: "Node processes to start.")
    var nodes: Int = 2

    @Option(help: "Records the load generator produces.")
    var count: Int = 100_000

    @Option(help: "Records per second.")
    var rate: Int = 5_000

    @Option(help: "Seed of the load generator.")
    var seed: UInt64 = 1

    @Option(help: "Data directory the nodes share (emptied first, left for `state` and `replay`).")
    var data: String = "shoal-demo-data"

    @Option(help: "Metrics port of the first node; the next nodes take the ports after it.")
    var metricsPort: Int = 9464

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (1...8).contains(nodes) else { throw ValidationError("--nodes must be 1 to 8, not \(nodes)") }
        guard count > 0 else { throw ValidationError("--count must be positive, not \(count)") }
        // The embedded broker keeps about 5 MiB per partition: a larger
        // load could fall off its log before slow nodes read it.
        guard count <= 500_000 else { throw ValidationError("--count must be at most 500,000 on the embedded broker, not \(count)") }
        guard rate > 0 else { throw ValidationError("--rate must be positive, not \(rate)") }
        guard (1...65_535 - nodes).contains(metricsPort) else {
            throw ValidationError("--metrics-port must leave room for \(nodes) ports below 65536, not \(metricsPort)")
        }
    }

    func run() async throws {
        let application = try ShoalApplicationMain.application(for: "demo")
        let run = DemoRun(
            nodes: nodes, count: count, rate: rate, seed: seed, data: data, metricsPort: metricsPort,
            logger: try logging.makeLogger(label: "shoal.demo")
        )
        try await run.run(application)
    }
}
