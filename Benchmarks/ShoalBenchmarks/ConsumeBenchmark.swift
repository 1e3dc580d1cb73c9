import ArgumentParser
import Foundation
import Logging
import ShoalKafka

/// Swift consumer vs a plain C consume loop over the same records, in
/// alternating rounds within one process and one embedded broker.
struct ConsumeBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consume",
        abstract: "Consume throughput: KafkaConsumer next to a plain C librdkafka loop."
    )

    @Option(help: "Records to preload (stay below ~90,000 and ~4 MiB per partition).")
    var records: Int = 320_000

    @Option(help: "Partitions of the benchmark topic.")
    var partitions: Int32 = 16

    @Option(help: "Value size in bytes.")
    var valueSize: Int = 100

    @Option(help: "Alternating rounds of each consumer.")
    var rounds: Int = 3

    @Flag(help: "Run only the Swift consumer (for profiling).")
    var swiftOnly = false

    func validate() throws {
        // The embedded broker drops a partition's oldest records past ~5 MiB.
        let bytesPerPartition = records * (valueSize + 60) / Int(partitions)
        guard bytesPerPartition < 4 << 20, records / Int(partitions) < 90_000 else {
            throw ValidationError("too many records per partition for the embedded broker: raise --partitions")
        }
    }

    func run() async throws {
        var logger = Logger(label: "shoal.benchmarks")
        logger.logLevel = .warning
        let broker = try EmbeddedBroker(topics: [.init(name: "bench", partitions: partitions)], logger: logger)
        try await preload(broker.bootstrapServers, logger: logger)
        var rates: [String: [Double]] = [:]
        for round in 1...rounds {
            var line = "round \(round):"
            if !swiftOnly {
                for (name, batch) in [("C poll loop", false), ("C batch loop", true)] {
                    let seconds = await consumeWithC(broker.bootstrapServers, group: "c-\(batch)-\(round)", batch: batch)
                    guard seconds > 0 else { throw ValidationError("the C baseline failed") }
                    rates[name, default: []].append(Double(records) / seconds)
                    line += String(format: " %@ %.0f/s,", name, Double(records) / seconds)
                }
            }
            let seconds = try await consumeWithSwift(broker.bootstrapServers, group: "swift-\(round)", logger: logger)
            rates["Swift", default: []].append(Double(records) / seconds)
            print(line + String(format: " Swift KafkaConsumer %.0f/s", Double(records) / seconds))
        }
        let swift = median(rates["Swift"]!)
        print(String(format: "median records/s: Swift KafkaConsumer %.0f", swift))
        for name in ["C poll loop", "C batch loop"] {
            guard let values = rates[name] else { continue }
            print(String(format: "median records/s: %@ %.0f; Swift/%@ = %.2f", name, median(values), name, swift / median(values)))
        }
    }

    private func preload(_ bootstrap: String, logger: Logger) async throws {
        let producer = try KafkaProducer(configuration: .init(client: .init(bootstrapServers: [bootstrap])), logger: logger)
        let value = [UInt8](repeating: UInt8(ascii: "x"), count: valueSize)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await producer.run() }
            for index in 0..<records {
                try await producer.enqueue(KafkaProducerMessage(topic: "bench", key: Array("key-\(index % 10_000)".utf8), value: value))
            }
            try await producer.flush(timeout: .seconds(120))
            producer.triggerShutdown()
        }
    }

    private func consumeWithC(_ bootstrap: String, group: String, batch: Bool) async -> Double {
        await CBaseline.consume(bootstrap: bootstrap, topic: "bench", group: group, records: records, batch: batch)
    }

    /// Seconds from the first record to the last, like the C loop.
    private func consumeWithSwift(_ bootstrap: String, group: String, logger: Logger) async throws -> Double {
        let consumer = try KafkaConsumer(
            configuration: .init(
                client: .init(bootstrapServers: [bootstrap]), groupID: group, topics: ["bench"],
                sessionTimeout: .seconds(6), heartbeatInterval: .seconds(1)
            ),
            logger: logger
        )
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await consumer.run() }
            defer { consumer.triggerShutdown() }
            var count = 0
            var checksum = 0
            var first: ContinuousClock.Instant?
            for await batch in consumer.records {
                if first == nil { first = .now }
                for record in batch {
                    checksum &+= (record.key?.count ?? 0) + (record.value?.count ?? 0)
                }
                count += batch.count
                if count >= records { break }
            }
            return (ContinuousClock.now - first!).seconds
        }
    }
}
