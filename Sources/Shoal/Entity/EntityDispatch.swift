import Logging
import ShoalKafka

/// The one path an event takes into an entity, shared by a node's shards
/// and by replay, so that a replay runs exactly what production runs: the
/// route's handler with a context for the record, then the entity's state
/// encoded after it.
enum EntityDispatch {
    /// What one event did: its outputs in order and the entity's encoded
    /// state after it.
    struct Applied: Sendable {
        var outputs: [KafkaProducerMessage]
        /// The state after the event; nil when not asked for.
        var state: [UInt8]?
    }

    /// Runs `route`'s handler for `record`'s decoded `event` on `entity`,
    /// then encodes the entity's state unless `encodingState` is false.
    /// - Throws: what the handler throws, or a state encoding error.
    static func apply(
        _ record: KafkaRecord, event: any Sendable, route: Route, to entity: any Entity, id: EntityID, logger: Logger,
        encodingState: Bool = true
    ) async throws -> Applied {
        let outputs = OutputCollector()
        let context = EntityContext(
            key: id.key, topic: record.topic, partition: record.partition, offset: record.offset,
            timestamp: record.timestamp, logger: logger, outputs: outputs
        )
        try await route.handle(entity, event, context)
        guard encodingState else { return Applied(outputs: outputs.all, state: nil) }
        let state = try await route.entity.snapshot(entity)
        return Applied(outputs: outputs.all, state: Array(state))
    }
}
