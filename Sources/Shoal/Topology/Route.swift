import Foundation
import ShoalKafka

/// A topic's records, decoded and handed to one entity type by key.
/// A class: a route is looked up for every record and a struct of its size
/// costs about ten retains per copy.
final class Route: Sendable {
    let topic: String
    let entity: EntityDescriptor
    /// Decodes a record's value into its entity key, event and event time,
    /// given the record's timestamp and a way to read its key (only called
    /// when the key comes from the record); throws ``ShoalError`` with code
    /// `decoding` and the reason.
    let decode: @Sendable (_ value: KafkaBytes?, _ timestamp: KafkaTimestamp?, _ recordKey: () -> String?) throws -> Decoded
    /// What the route does with events too late for the watermark.
    let late: LateEvents
    /// A new clock for one of the topic's partitions.
    let clock: PartitionClock
    /// Runs the route's handler on a local entity instance and, when asked,
    /// encodes the state after it: one turn on the entity's actor. (Each
    /// hop onto an actor and back costs a task switch; a second turn for the
    /// state doubled them.) With `undoing`, a handler that throws (or a
    /// state that does not encode) leaves the state as it was before it, from
    /// a copy taken in the same turn.
    let handle: nonisolated(nonsending) @Sendable (
        any Entity, any Sendable, EntityContext, EntityDispatch.StateEncoding, _ undoing: Bool
    ) async throws -> [UInt8]?
    /// Whether the handler never suspends: it cannot wait on another
    /// entity (a shard holds records only of such handlers, see
    /// `Shard+HeldRecords`).
    let isSynchronous: Bool

    /// A record decoded: the key of its entity, its event, its event time.
    struct Decoded: Sendable {
        var key: String
        var event: any Sendable
        var time: EventTime?
    }

    /// A route's handler as written: one that never suspends runs inside
    /// the entity's turn without a task switch of its own (an async one
    /// hops onto the actor it already holds, and back: two switches).
    enum Handler<E: Entity, Event: Sendable>: Sendable {
        case sync(@Sendable (isolated E, Event, EntityContext) throws -> Void)
        case async(@Sendable (isolated E, Event, EntityContext) async throws -> Void)
    }

    init<E: Entity, Event: Sendable>(
        topic: String, entity: E.Type, key: KeySource<Event>, decoder: EventDecoder<Event>,
        eventTime: EventTimePolicy<Event> = .recordTimestamp(), handler: Handler<E, Event>
    ) {
        self.topic = topic
        self.entity = EntityDescriptor(E.self)
        late = eventTime.late
        clock = PartitionClock(outOfOrderness: eventTime.outOfOrderness, allowedLateness: eventTime.allowedLateness)
        decode = { value, timestamp, recordKey in
            guard let value else {
                throw ShoalError(code: .decoding, reason: "record has no value")
            }
            let event: Event
            do {
                event = try decoder.decode(value)
            } catch {
                throw ShoalError(code: .decoding, reason: "cannot decode \(Event.self): \(error)")
            }
            guard let key = key.extract(event, recordKey), !key.isEmpty else {
                throw ShoalError(code: .decoding, reason: "record has no entity key for \(E.entityType)")
            }
            return Decoded(key: key, event: event, time: eventTime.time(event, timestamp))
        }
        // One closure per form, chosen here: switching over the generic
        // `Handler` for every event looked up its type metadata each time.
        switch handler {
        case .sync(let body):
            isSynchronous = true
            handle = { entity, event, context, encoding, undoing in
                guard let entity = entity as? E, let event = event as? Event else { Self.foreign(topic) }
                return try await entity.whenLocal { local in
                    let before: E.State? = undoing ? local.state : nil
                    do {
                        try body(local, event, context)
                        return encoding.encodes(after: context) ? try EntityDescriptor.encode(local.state) : nil
                    } catch {
                        if let before { local.state = before }
                        throw error
                    }
                } ?? nil
            }
        case .async(let body):
            isSynchronous = false
            handle = { entity, event, context, encoding, undoing in
                guard let entity = entity as? E, let event = event as? Event else { Self.foreign(topic) }
                return try await entity.whenLocal { local in
                    let before: E.State? = undoing ? local.state : nil
                    do {
                        try await body(local, event, context)
                        return encoding.encodes(after: context) ? try EntityDescriptor.encode(local.state) : nil
                    } catch {
                        if let before { local.state = before }
                        throw error
                    }
                } ?? nil
            }
        }
    }
}

extension Route {
    private static func foreign(_ topic: String) -> Never {
        preconditionFailure("route \(topic) was handed a foreign entity or event")
    }

    /// `record` decoded (see ``decode``).
    func decode(_ record: KafkaRecord) throws -> Decoded {
        try decode(record.value, record.timestamp) { record.keyString }
    }
}

/// How the runtime creates an entity type's instances and moves their state.
/// A class: every resident entity's mailbox refers to it instead of
/// holding a copy of its name and closures.
final class EntityDescriptor: Sendable {
    let name: String
    /// The version of the entity's `State` type, stored with each snapshot.
    let stateVersion: Int64
    /// How long a state lives without events (``Entity/stateTimeToLive``).
    let timeToLive: Duration?
    let activate: nonisolated(nonsending) @Sendable (ShoalActorSystem, EntityID, Snapshot?) async throws -> any Entity
    let snapshot: @Sendable (any Entity) async throws -> [UInt8]
    /// Runs the entity's ``Entity/timerFired(_:in:)`` and, when asked,
    /// encodes the state after it, in one turn on the entity's actor.
    let fire: nonisolated(nonsending) @Sendable (any Entity, EntityTimer, EntityContext, _ encodingState: Bool) async throws -> [UInt8]?
    /// The erasure hooks (``Entity/entitiesReferencing(after:)``,
    /// ``Entity/scrub(erasing:)`` with the state encoded after it,
    /// ``Entity/scrubbed(event:erasing:)``).
    let referencing: @Sendable (any Sendable) -> [EntityID]
    let scrub: nonisolated(nonsending) @Sendable (any Entity, EntityID) async throws -> [UInt8]
    let scrubbedEvent: @Sendable ([UInt8], EntityID) -> [UInt8]?

    init<E: Entity>(_ type: E.Type) {
        name = E.entityType
        let version = Int64(E.stateVersion)
        stateVersion = version
        timeToLive = E.stateTimeToLive
        activate = { system, id, stored in
            let entity = system.activate(E.self, id: id)
            if let stored {
                let state = try Self.decode(E.self, from: stored, current: version)
                _ = await entity.whenLocal { $0.state = state }
            }
            return entity
        }
        fire = { entity, timer, context, encodingState in
            guard let entity = entity as? E else { preconditionFailure("timer of a foreign entity") }
            return try await entity.whenLocal { local in
                try await local.timerFired(timer, in: context)
                return encodingState ? try Self.encode(local.state) : nil
            } ?? nil
        }
        snapshot = { entity in
            guard let entity = entity as? E, let state = await entity.whenLocal({ $0.state }) else {
                preconditionFailure("snapshot of a foreign or remote entity")
            }
            return try CanonicalJSON.encode(state)
        }
        referencing = { E.entitiesReferencing(after: $0) }
        scrub = { entity, erased in
            guard let entity = entity as? E, let state = await entity.whenLocal({ local in
                await local.scrub(erasing: erased)
                return local.state
            }) else { preconditionFailure("scrub of a foreign or remote entity") }
            return try CanonicalJSON.encode(state)
        }
        scrubbedEvent = { E.scrubbed(event: $0, erasing: $1) }
    }

    /// A state as snapshots store it.
    static func encode(_ state: some Encodable) throws -> [UInt8] {
        try CanonicalJSON.encode(state)
    }

    /// The snapshot as the entity's current `State`, through its upcast
    /// when it was written by an older version.
    private static func decode<E: Entity>(_ type: E.Type, from snapshot: Snapshot, current: Int64) throws -> E.State {
        guard snapshot.version <= current else {
            throw StoreError(
                code: .undecodableSnapshot,
                reason: "\(snapshot.entity) \(snapshot.key): snapshot version \(snapshot.version) is newer than the state type's (\(current))"
            )
        }
        do {
            let encoded = Data(snapshot.state)
            if snapshot.version < current { return try E.upcast(encoded, from: Int(snapshot.version)) }
            return try CanonicalJSON.decode(E.State.self, from: encoded)
        } catch {
            throw StoreError(
                code: .undecodableSnapshot,
                reason: "\(snapshot.entity) \(snapshot.key): snapshot version \(snapshot.version) does not decode as \(E.State.self) version \(current): \(error)"
            )
        }
    }
}
