import Foundation
import Logging
import ShoalKafka
import Synchronization

/// What a handler knows about the record it handles, and how it emits outputs.
public struct EntityContext: Sendable {
    /// The entity's key.
    public let key: String
    /// Where the record came from.
    public let topic: String
    public let partition: Int32
    public let offset: Int64
    /// The record's timestamp, when it has one.
    public let timestamp: KafkaTimestamp?
    /// A logger with the entity and record in its metadata.
    public let logger: Logger
    let outputs: OutputCollector

    /// Emits `value` as JSON to `topic` under `key`. The output carries a
    /// deterministic id header (`shoal-id`: source topic, partition, offset,
    /// index) so that readers can drop repeats.
    public func emit(topic: String, key: String, value: some Encodable) throws {
        let bytes = try CanonicalJSON.encoder.encode(value)
        emit(topic: topic, key: key, bytes: Array(bytes))
    }

    /// Emits raw bytes to `topic` under `key`.
    public func emit(topic: String, key: String, bytes: [UInt8]) {
        // Its id (`shoal-id`: this record and the output's position) is added
        // when the outbox publishes it, after its commit.
        outputs.append(KafkaProducerMessage(topic: topic, key: Array(key.utf8), value: bytes))
    }
}

/// The outputs one record's handling emitted, in order.
final class OutputCollector: Sendable {
    private let messages = Mutex<[KafkaProducerMessage]>([])

    func append(_ message: KafkaProducerMessage) {
        messages.withLock { $0.append(message) }
    }

    var all: [KafkaProducerMessage] { messages.withLock { $0 } }
}
