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
    }

    private let consumer: KafkaConsumer
    private let console: DemoConsole
    private let seen = Mutex(Seen())

    init(brokers: String, topics: [String], console: DemoConsole, logger: Logger) throws {
        consumer = try KafkaConsumer(
            configuration: .init(
                client: .init(bootstrapServers: [brokers], clientID: "shoal-demo-alerts"), groupID: "demo-alerts-\(getpid())",
                topics: topics, sessionTimeout: .seconds(6), heartbeatInterval: .seconds(1)
            ),
            logger: logger
        )
        self.console = console
    }

    var count: Int { seen.withLock { $0.count } }
    var byRule: [String: Int] { seen.withLock { $0.byRule } }

    /// Reads until the task is cancelled.
    func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
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
        let isNew = seen.withLock { seen in
            guard seen.ids.insert(id).inserted else { return false }
            seen.count += 1
            seen.byRule[rule, default: 0] += 1
            return true
        }
        guard isNew else { return }
        let key = record.keyString ?? "-"
        if let detail = object?["detail"] as? String {
            console.line("alert  \(rule.padding(toLength: 18, withPad: " ", startingAt: 0)) \(key.padding(toLength: 14, withPad: " ", startingAt: 0))  \(detail)")
        } else {
            console.line("alert  \(record.topic) \(key)  \(value)")
        }
    }
}
