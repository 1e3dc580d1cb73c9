import Shoal
import ArgumentParser
import Foundation
import Logging
import ShoalKafka

/// `shoal stream-demo`: a keyed stream through the embedded broker and a consumer
/// group, with throughput and a per-key order check.
struct StreamDemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stream-demo",
        abstract: "Produce and consume a keyed stream through the embedded broker; print throughput."
    )

    @Option(name: .long, help: "Records to produce.")
    var records: Int = 400_000

    @Option(name: .long, help: "Distinct keys.")
    var keys: Int = 10_000

    @Option(name: .long, help: "Partitions of the demo topic.")
    var partitions: Int32 = 8

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard records > 0 else { throw ValidationError("--records must be positive") }
        guard keys > 0 else { throw ValidationError("--keys must be positive") }
        guard partitions > 0 else { throw ValidationError("--partitions must be positive") }
        // The embedded broker keeps about 100,000 records per partition.
        guard records / Int(partitions) <= 90_000 else {
            throw ValidationError("--records must stay below 90,000 per partition: the embedded broker drops older records")
        }
    }

    func run() async throws {
        let logger = try logging.makeLogger(label: "shoal.demo")
        let broker = try EmbeddedBroker(topics: [.init(name: "demo-events", partitions: partitions)], logger: logger)
        print("embedded broker at \(broker.bootstrapServers)")
        let demo = KeyedStreamDemo(
            bootstrap: broker.bootstrapServers, topic: "demo-events",
            records: records, keys: keys, logger: logger
        )
        let produced = try await demo.produce()
        print(String(format: "produced %d records over %d keys in %.2f s (%.0f records/s)",
                     records, keys, produced, Double(records) / produced))
        let consumed = try await demo.consume()
        print(String(format: "consumed %d records through group \"demo\" in %.2f s (%.0f records/s)",
                     consumed.count, consumed.seconds, Double(consumed.count) / consumed.seconds))
        print(consumed.inOrder
              ? "every key's records arrived in produced order"
              : "ORDER VIOLATION: some key's records arrived out of order")
        if !consumed.inOrder || consumed.count != records { throw ExitCode.failure }
    }
}
