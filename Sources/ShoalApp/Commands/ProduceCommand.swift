import Shoal
import ArgumentParser
import Foundation

/// `APP produce`: the application's seeded load generator, written to Kafka.
/// The same seed and count give the same records.
struct ProduceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce",
        abstract: "Produce the application's seeded load (the same seed gives the same records)."
    )

    @Option(help: "Bootstrap address of the Kafka cluster (host:port[,host:port...]); not with --journal.")
    var brokers: String?

    @Option(help: "Records to produce.")
    var count: Int = 100_000

    @Option(help: "Records per second (default: as fast as the producer takes them); not with --journal.")
    var rate: Int?

    @Option(help: "Seed of the generator.")
    var seed: UInt64 = 1

    @Flag(help: "Print the records as a JSON Lines journal (for `replay`) instead of producing them.")
    var journal = false

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard count > 0 else { throw ValidationError("--count must be positive, not \(count)") }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive, not \(rate)") }
        if !journal && (brokers ?? "").isEmpty { throw ValidationError("--brokers must name at least one host:port (or print a --journal)") }
        // A journal is printed, not produced: a flag that would be ignored is refused.
        if journal, brokers != nil { throw ValidationError("--brokers does not apply to --journal, which prints the records instead of producing them") }
        if journal, rate != nil { throw ValidationError("--rate does not apply to --journal, which prints the records instead of producing them") }
    }

    func run() async throws {
        let application = try ShoalApplicationMain.application(for: "produce")
        guard let records = application.load(seed: seed, count: count) else {
            throw ShoalError(code: .configuration, reason: "this application has no load generator (ShoalApplication.load(seed:count:))")
        }
        if journal {
            for event in try Replay(application).events(of: records) { print(event.journalLine) }
            return
        }
        let logger = try logging.makeLogger(label: "shoal.produce")
        let producer = LoadProducer(brokers: (brokers ?? "").split(separator: ",").map(String.init), logger: logger)
        let start = ContinuousClock.now
        let sent = try await producer.produce(records, rate: rate) { sent in
            FileHandle.standardError.write(Data("produced \(sent)/\(count)\n".utf8))
        }
        let seconds = (ContinuousClock.now - start).seconds
        print(String(format: "produced %d records (seed %llu) in %.1f s", sent, seed, seconds))
    }
}
