extension Topology {
    /// Routes a topic's records to an entity type. Each record is decoded
    /// (JSON by default), its key found, and `handler` run on the key's
    /// entity in the partition's order. One route per topic.
    public mutating func route<E: Entity, Event: Sendable>(
        topic: String, to entity: E.Type, key: KeySource<Event>, decoder: EventDecoder<Event>,
        eventTime: EventTimePolicy<Event> = .recordTimestamp(),
        handler: @escaping @Sendable (isolated E, Event, EntityContext) async throws -> Void
    ) {
        add(Route(topic: topic, entity: entity, key: key, decoder: decoder, eventTime: eventTime, handler: .async(handler)))
    }

    /// Routes a topic's records to an entity type, with a handler that
    /// never suspends: it runs within the entity's turn without a task
    /// switch of its own. Swift picks this form for a closure without `await`.
    public mutating func route<E: Entity, Event: Sendable>(
        topic: String, to entity: E.Type, key: KeySource<Event>, decoder: EventDecoder<Event>,
        eventTime: EventTimePolicy<Event> = .recordTimestamp(),
        handler: @escaping @Sendable (isolated E, Event, EntityContext) throws -> Void
    ) {
        add(Route(topic: topic, entity: entity, key: key, decoder: decoder, eventTime: eventTime, handler: .sync(handler)))
    }

    /// Routes a topic's JSON records to an entity type.
    public mutating func route<E: Entity, Event: Decodable & Sendable>(
        topic: String, to entity: E.Type, key: KeySource<Event> = .recordKey,
        eventTime: EventTimePolicy<Event> = .recordTimestamp(),
        handler: @escaping @Sendable (isolated E, Event, EntityContext) async throws -> Void
    ) {
        route(topic: topic, to: entity, key: key, decoder: .json, eventTime: eventTime, handler: handler)
    }

    /// Routes a topic's JSON records to an entity type, with a handler that
    /// never suspends: it runs within the entity's turn without a task
    /// switch of its own.
    public mutating func route<E: Entity, Event: Decodable & Sendable>(
        topic: String, to entity: E.Type, key: KeySource<Event> = .recordKey,
        eventTime: EventTimePolicy<Event> = .recordTimestamp(),
        handler: @escaping @Sendable (isolated E, Event, EntityContext) throws -> Void
    ) {
        route(topic: topic, to: entity, key: key, decoder: .json, eventTime: eventTime, handler: handler)
    }

    /// Routes a topic's JSON records to an entity that handles them with its
    /// own ``EventHandling/handle(_:in:)``: no handler closure to write.
    public mutating func route<E: EventHandling>(
        topic: String, to entity: E.Type, key: KeySource<E.Event> = .recordKey,
        eventTime: EventTimePolicy<E.Event> = .recordTimestamp()
    ) {
        route(topic: topic, to: entity, key: key, decoder: .json, eventTime: eventTime) { entity, event, context in
            try entity.handle(event, in: context)
        }
    }
}

/// An entity whose events are one JSON type, handled by ``handle(_:in:)``:
/// ``Topology/route(topic:to:key:eventTime:)`` routes a topic to it without
/// a handler closure. An entity that hears several event types, or whose
/// handler suspends, is routed with an explicit handler instead.
public protocol EventHandling: Entity {
    /// The events the entity handles.
    associatedtype Event: Decodable & Sendable

    /// Applies one event: changes the state, emits outputs, sets timers.
    /// Runs on the entity's actor, in its key's order.
    func handle(_ event: Event, in context: EntityContext) throws
}
