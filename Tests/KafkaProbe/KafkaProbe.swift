import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import ShoalKafka
import Synchronization

/// A consumer-group member as its own process, for the tests: it writes
/// every record it processes to a file, commits what it processed when
/// partitions are revoked, and leaves cleanly on SIGTERM.
@main
struct KafkaProbe: AsyncParsableCommand {
    @Option var brokers: String
    @Option var group: String
    @Option var topic: String
    @Option(help: "File that receives one line per processed record: partition offset key.")
    var output: String
    @Option var sessionTimeoutMs: Int = 6_000

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: "kafka-probe")
        logger.logLevel = .notice
        FileManager.default.createFile(atPath: output, contents: nil)
        let sink = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        let ledger = ProbeLedger(sink: sink)
        let consumer = try KafkaConsumer(
            configuration: .init(
                client: .init(bootstrapServers: [brokers], clientID: "probe-\(getpid())"),
                groupID: group, topics: [topic],
                sessionTimeout: .milliseconds(sessionTimeoutMs), heartbeatInterval: .milliseconds(500)
            ),
            listener: ledger,
            logger: logger
        )
        ledger.consumer.withLock { $0 = consumer }
        let processing = Task {
            for await batch in consumer.records { ledger.process(batch) }
        }
        let services = ServiceGroup(services: [consumer], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await services.run()
        await processing.value
        announce("exited")
    }
}

func announce(_ line: String) {
    print(line)
    fflush(nil)
}

/// What the probe processed, and the hooks that commit it on revocation.
final class ProbeLedger: KafkaRebalanceListener {
    private struct State {
        var owned: Set<TopicPartition> = []
        var next: [TopicPartition: Int64] = [:]
    }

    private let state = Mutex(State())
    private let sink: FileHandle
    let consumer = Mutex<KafkaConsumer?>(nil)

    init(sink: FileHandle) {
        self.sink = sink
    }

    func process(_ batch: [KafkaRecord]) {
        state.withLock { state in
            var lines = ""
            for record in batch where state.owned.contains(record.topicPartition) {
                lines += "\(record.partition) \(record.offset) \(record.keyString ?? "-")\n"
                state.next[record.topicPartition] = record.offset + 1
            }
            sink.write(Data(lines.utf8))
        }
    }

    func partitionsAssigned(_ partitions: [TopicPartition]) async -> [TopicPartition: KafkaStartOffset] {
        state.withLock { $0.owned.formUnion(partitions) }
        announce("assigned \(partitions.map { String($0.partition) }.sorted().joined(separator: ","))")
        return [:]
    }

    func partitionsRevoked(_ partitions: [TopicPartition]) async {
        let offsets = state.withLock { state -> [TopicPartition: Int64] in
            state.owned.subtract(partitions)
            return state.next.filter { partitions.contains($0.key) }
        }
        do {
            try await consumer.withLock { $0 }?.commit(offsets)
            announce("revoked \(partitions.map { String($0.partition) }.sorted().joined(separator: ",")) committed \(offsets.count)")
        } catch {
            announce("commit failed: \(error)")
        }
    }
}
