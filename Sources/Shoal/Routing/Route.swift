import Foundation
import ShoalKafka

/// A topic's records, decoded and handed to one entity type by key.
struct Route: Sendable {
    let topic: String
    let entity: EntityDescriptor
    /// Decodes a record into its entity key and event; throws ``ShoalError``
    /// with code `decoding` and the reason.
    let decode: @Sendable (KafkaRecord) throws -> (key: String, event: any Sendable)
    /// Runs the route's handler on a local entity instance.
    let handle: @Sendable (any Entity, any Sendable, EntityContext) async throws -> Void

    init<E: Entity, Event: Sendable>(
        topic: String, entity: E.Type, key: KeySource<Event>, decoder: EventDecoder<Event>,
        handler: @escaping @Sendable (isolated E, Event, EntityContext) async throws -> Void
    ) {
        self.topic = topic
        self.entity = EntityDescriptor(E.self)
        decode = { record in
            guard let value = record.value else {
                throw ShoalError(code: .decoding, reason: "record has no value")
            }
            let event: Event
            do {
                event = try decoder.decode(value)
            } catch {
                throw ShoalError(code: .decoding, reason: "cannot decode \(Event.self): \(error)")
            }
            guard let key = key.extract(event, record), !key.isEmpty else {
                throw ShoalError(code: .decoding, reason: "record has no entity key for \(E.entityType)")
            }
            return (key, event)
        }
        handle = { entity, event, context in
            guard let entity = entity as? E, let event = event as? Event else {
                preconditionFailure("route \(topic) was handed a foreign entity or event")
            }
            _ = try await entity.whenLocal { local in try await handler(local, event, context) }
        }
    }
}

/// How the runtime creates an entity type's instances and moves their state.
struct EntityDescriptor: Sendable {
    let name: String
    let activate: @Sendable (ShoalActorSystem, EntityID, Data?) async throws -> any Entity
    let snapshot: @Sendable (any Entity) async throws -> Data

    init<E: Entity>(_ type: E.Type) {
        name = E.entityType
        activate = { system, id, stored in
            let entity = system.activate(E.self, id: id)
            if let stored {
                let state = try JSONDecoder().decode(E.State.self, from: stored)
                _ = await entity.whenLocal { $0.state = state }
            }
            return entity
        }
        snapshot = { entity in
            guard let entity = entity as? E, let state = await entity.whenLocal({ $0.state }) else {
                preconditionFailure("snapshot of a foreign or remote entity")
            }
            return try JSONEncoder().encode(state)
        }
    }
}
