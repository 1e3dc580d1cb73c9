import Foundation
import ShoalKafka

extension Shard {
    /// The entity restored from `snapshot`, with the offset its state
    /// reflects and the calls it remembers; a snapshot that does not decode
    /// is rebuilt from the journal when the node is configured so.
    func activate(
        _ id: EntityID, _ descriptor: EntityDescriptor, from snapshot: Snapshot?
    ) async throws -> (any Entity, Int64?, calls: [RecentCall]) {
        do {
            return (try await descriptor.activate(services.system, id, snapshot), snapshot?.offset, snapshot?.calls ?? [])
        } catch let error as StoreError where error.code == .undecodableSnapshot
            && services.configuration.store.undecodableSnapshots == .rebuildFromJournal {
            services.logger.warning("Snapshot does not decode: rebuilding the state from the journal", metadata: [
                "entity": "\(id)", "error": "\(error)",
            ])
            return try await rebuild(id, descriptor)
        }
    }

    /// Replays the entity's journal rows and journaled calls into a fresh
    /// state, in the order they first ran, discarding the outputs (they
    /// were emitted when the rows were first applied) and timer changes
    /// (timers are not rebuilt yet). The calls run again give the outcomes
    /// a retry of them is answered with.
    private func rebuild(_ id: EntityID, _ descriptor: EntityDescriptor) async throws -> (any Entity, Int64?, calls: [RecentCall]) {
        let entity = try await descriptor.activate(services.system, id, nil)
        let rows = try persistence.store.journal(entity: id.type, key: id.key)
        let journaled = try persistence.store.journaledCalls(entity: id.type, key: id.key)
        var calls: [RecentCall] = []
        for event in ReplayJournal.merged(rows, journaled, of: partition) {
            if let bytes = event.call {
                let call = try EntityCall(decoding: bytes)
                let outcome = await services.system.execute(call, on: entity)
                if let callID = call.callID { calls.append(RecentCall(id: callID, outcome: outcome.encoded())) }
            } else {
                try await apply(event, to: entity, id)
            }
        }
        services.logger.notice("State rebuilt from the journal", metadata: ["entity": "\(id)", "rows": "\(rows.count)", "calls": "\(journaled.count)"])
        // Calls alone still give it a state (offset -1 applies no record).
        return (entity, rows.last?.offset ?? (journaled.isEmpty ? nil : -1), Array(calls.suffix(RecentCall.kept)))
    }

    /// Applies a journal row to the entity being rebuilt, by its own
    /// topic's route (a shard may read several).
    private func apply(_ event: ReplayEvent, to entity: any Entity, _ id: EntityID) async throws {
        guard let route = services.routes[event.topic], route.entity.name == id.type else {
            throw ShoalError(code: .configuration, reason: "no route from \(event.topic) leads to entity type \(id.type)")
        }
        let record = event.record
        let decoded = try route.decode(record)
        var moment = EntityDispatch.Moment.untimed(now: decoded.time ?? .distantPast)
        moment.eventTime = decoded.time
        _ = try await EntityDispatch.apply(
            .init(record), event: decoded.event, route: route, to: entity, id: id, logger: services.logger, moment: moment,
            tables: RecordedTables(recorded: event.reads, fallback: services.tables), encoding: .never
        )
    }
}
