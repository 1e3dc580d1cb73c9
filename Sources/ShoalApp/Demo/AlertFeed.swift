import Shoal
import Foundation
import Logging
import ShoalKafka
import Synchronization

/// Reads the application's alert topics as a downstream consumer would,
/// drops repeats by their output id, and prints each alert as it arrives.
final class AlertFeed: Sendable {
    private struct Seen {
        var ids: Set<String> = []
        var byRule: [String: Int] = [:]
        var count = 0
        /// Milliseconds from each alert's source record (its timestamp, which
        /// outputs inherit) to its arrival here.
        var delays: [Int64] = []
    }

    private let consumer: KafkaConsumer
    private let console: DemoConsole
    private let seen = Mutex(Seen())

    init(brokers: String, topics: [String], console: DemoConsole, logger: Logger) throws {
        var configuration = KafkaConsumerConfiguration(
            client: .init(bootstrapServers: [brokers], clientID: "shoal-demo-alerts"), groupID: "demo-alerts-\(getpid())",
            topics: topics, sessionTimeout: .seconds(6), heartbeatInterval: .seconds(1)
        )
        // The embedded broker holds a fetch without data for the whole wait:
        // keep it short, so that the delays shown are the pipeline's own.
        configuration.fetch.maxWait = .milliseconds(5)
        consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        self.console = console
    }

    var count: Int { seen.withLock { $0.count } }
    var byRule: [String: Int] { seen.withLock { $0.byRule } }
    var delays: [Int64] { seen.withLock { $0.delays } }

    /// Reads until the task is cancelled.
    func run() async throws {
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.consumer.run() }
            defer { consumer.triggerShutdown() }
            for await batch in consumer.records {
                for record in batch { take(record) }
                if Task.isCancelled { break }
            }
        }
    }

    private func take(_ record: KafkaRecord) {
        let id = record.headers.string(for: OutputID.header) ?? "\(record.topic)/\(record.partition)/\(record.offset)"
        let value = record.valueString ?? ""
        let object = (try? JSONSerialization.jsonObject(with: Data(value.utf8))) as? [String: Any]
        let rule = object?["rule"] as? String ?? record.topic
        // A timer's output carries the time it was due (event time, for an
        // event-time timer), not a production time: no delay to measure.
        let fromTimer = id.split(separator: "/").last.flatMap { Int64($0) }.map { $0 >= 1 << 32 } ?? false
        let delay = fromTimer ? nil : record.timestamp.map { Int64(Date().timeIntervalSince1970 * 1_000) - $0.milliseconds }
        let isNew = seen.withLock { seen in
            guard seen.ids.insert(id).inserted else { return false }
            seen.count += 1
            seen.byRule[rule, default: 0] += 1
            if let delay { seen.delays.append(delay) }
            return true
        }
        guard isNew else { return }
        let key = record.keyString ?? "-"
        let after = fromTimer ? "  (from a timer)" : delay.map { "  (\($0) ms after its event was produced)" } ?? ""
        if let detail = object?["detail"] as? String {
            console.line("alert  \(Self.padded(rule, 18)) \(Self.padded(key, 14))  \(detail)\(after)")
        } else {
            console.line("alert  \(record.topic) \(key)  \(value)")
        }
    }

    /// `text` with spaces up to `width` (never cut).
    static func padded(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }
}
