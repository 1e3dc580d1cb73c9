import Shoal
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import ShoalKafka

/// `shoal broker`: the embedded Kafka-protocol broker as its own process.
struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run the embedded Kafka-protocol broker on loopback until SIGTERM or SIGINT.",
        discussion: "Prints the bootstrap address on its first line of output."
    )

    @Option(name: .long, help: "Number of brokers in the cluster.")
    var brokers: Int = 1

    @Option(name: .long, help: "A topic to create, as NAME:PARTITIONS[:CONFIG=VALUE,...] (configs are a real cluster's; the embedded broker ignores them). Repeat for more.")
    var topic: [String] = []

    @Option(name: .long, help: "Also write the bootstrap address to this file.")
    var addressFile: String?

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (1...16).contains(brokers) else {
            throw ValidationError("--brokers must be between 1 and 16, not \(brokers)")
        }
        for spec in topic {
            do { _ = try EmbeddedBroker.Topic(parsing: spec) } catch { throw ValidationError("--topic: \(error.reason)") }
        }
    }

    func run() async throws {
        let logger = try logging.makeLogger(label: "shoal.broker")
        let topics = try topic.map { spec throws(KafkaError) in try EmbeddedBroker.Topic(parsing: spec) }
        let broker = try EmbeddedBroker(brokers: brokers, topics: topics, logger: logger)
        print(broker.bootstrapServers)
        fflush(nil)
        if let addressFile {
            try Data((broker.bootstrapServers + "\n").utf8).write(to: URL(fileURLWithPath: addressFile), options: .atomic)
        }
        let group = ServiceGroup(
            services: [broker],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        try await group.run()
        logger.info("Embedded broker stopped")
    }
}
