import Foundation
import ShoalKafka

extension Shard {
    /// The entity restored from `snapshot`, with the offset its state
    /// reflects and whether it was rebuilt; a snapshot that does not decode
    /// is rebuilt from the journal when the node is configured so.
    func activate(
        _ id: EntityID, _ descriptor: EntityDescriptor, from snapshot: Snapshot?
    ) async throws -> (any Entity, Int64?, rebuilt: Bool) {
        do {
            return (try await descriptor.activate(services.system, id, snapshot), snapshot?.offset, false)
        } catch let error as StoreError where error.code == .undecodableSnapshot
            && services.configuration.store.undecodableSnapshots == .rebuildFromJournal {
            services.logger.warning("Snapshot does not decode: rebuilding the state from the journal", metadata: [
                "entity": "\(id)", "error": "\(error)",
                // Calls are not journaled: a retried one is run again on the rebuilt state.
                "lost": "the effects of state-changing calls (\(snapshot?.calls.count ?? 0) remembered)",
            ])
            let (entity, offset) = try await rebuild(id, descriptor)
            return (entity, offset, true)
        }
    }

    /// Replays the entity's journal rows into a fresh state, discarding the
    /// outputs (they were emitted when the rows were first applied) and
    /// timer changes (timers are not rebuilt yet).
    private func rebuild(_ id: EntityID, _ descriptor: EntityDescriptor) async throws -> (any Entity, Int64?) {
        let entity = try await descriptor.activate(services.system, id, nil)
        let rows = try persistence.store.journal(entity: id.type, key: id.key)
        for row in rows {
            // Each row by its own topic's route (a shard may read several).
            let topic = row.source?.topic ?? partition.topic
            guard let route = services.routes[topic], route.entity.name == id.type else {
                throw ShoalError(code: .configuration, reason: "no route from \(topic) leads to entity type \(id.type)")
            }
            let record = ReplayEvent(row, of: partition).record
            let decoded = try route.decode(record)
            var moment = EntityDispatch.Moment.untimed(now: decoded.time ?? .distantPast)
            moment.eventTime = decoded.time
            _ = try await EntityDispatch.apply(
                .init(record), event: decoded.event, route: route, to: entity, id: id, logger: services.logger, moment: moment,
                tables: RecordedTables(recorded: row.reads, fallback: services.tables), encodingState: false
            )
        }
        services.logger.notice("State rebuilt from the journal", metadata: ["entity": "\(id)", "rows": "\(rows.count)"])
        return (entity, rows.last?.offset)
    }
}
