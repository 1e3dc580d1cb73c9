import Shoal
import Foundation
import Logging
import ShoalKafka
import Synchronization

/// The demo's work: a seeded keyed stream produced, then read back through a
/// consumer group with each key's sequence numbers checked.
struct KeyedStreamDemo {
    let bootstrap: String
    let topic: String
    let records: Int
    let keys: Int
    let logger: Logger

    /// Produces `records` records round-robin over the keys; each value
    /// carries the key's sequence number. Returns seconds taken.
    func produce() async throws -> Double {
        let (topic, keys) = (self.topic, self.keys)
        let stream = (0..<records).lazy.map { index in
            let key = "key-\(index % keys)"
            return LoadRecord(topic: topic, key: key, value: "{\"key\":\"\(key)\",\"seq\":\(index / keys)}")
        }
        let start = ContinuousClock.now
        try await LoadProducer(brokers: [bootstrap], logger: logger).produce(stream, rate: nil)
        return (ContinuousClock.now - start).seconds
    }

    struct Consumed {
        var count: Int
        var seconds: Double
        var inOrder: Bool
    }

    /// Reads every record back through a consumer group, printing progress.
    func consume() async throws -> Consumed {
        let consumer = try KafkaConsumer(
            configuration: .init(
                client: .init(bootstrapServers: [bootstrap], clientID: "shoal-demo"),
                groupID: "demo", topics: [topic], sessionTimeout: .seconds(6), heartbeatInterval: .seconds(1)
            ),
            logger: logger
        )
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await consumer.run() }
            defer { consumer.triggerShutdown() }
            return try await read(consumer)
        }
    }

    private func read(_ consumer: KafkaConsumer) async throws -> Consumed {
        var nextSeq: [String: Int] = [:]
        var inOrder = true
        var count = 0
        var start: ContinuousClock.Instant?
        var lastReport = ContinuousClock.now
        for await batch in consumer.records {
            if start == nil { start = .now }
            for record in batch {
                guard let key = record.keyString, let seq = Self.sequence(in: record.value) else { continue }
                if nextSeq[key, default: 0] != seq { inOrder = false }
                nextSeq[key] = seq + 1
            }
            count += batch.count
            if ContinuousClock.now - lastReport > .seconds(1) {
                lastReport = .now
                let lag = consumer.lag().values.reduce(0, +)
                print("  consumed \(count) records, lag \(lag)")
            }
            if count >= records { break }
        }
        return Consumed(count: count, seconds: (ContinuousClock.now - (start ?? .now)).seconds, inOrder: inOrder)
    }

    /// Reads the `seq` field without a full JSON decode: the demo measures
    /// the Kafka layer, not Foundation's JSON.
    static func sequence(in value: KafkaBytes?) -> Int? {
        value?.withUnsafeBytes { bytes -> Int? in
            let marker = Array("\"seq\":".utf8)
            guard bytes.count >= marker.count else { return nil }
            for start in 0...(bytes.count - marker.count) where bytes[start] == marker[0] {
                guard (0..<marker.count).allSatisfy({ bytes[start + $0] == marker[$0] }) else { continue }
                var result = 0
                for byte in bytes[(start + marker.count)...] {
                    guard (48...57).contains(byte) else { break }
                    result = result * 10 + Int(byte - 48)
                }
                return result
            }
            return nil
        }
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
