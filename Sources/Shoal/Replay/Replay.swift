import Foundation
import Logging
import ShoalKafka

/// Drives an application's entity types with recorded or hand-written
/// events, without Kafka: one event at a time, in the given order, through
/// the same dispatch path a node's shards use. The same events always give
/// the same result, byte for byte.
///
/// ```swift
/// let replay = try Replay(Fraud.self)
/// let result = try await replay.run(ReplayJournal.jsonLines(at: url))
/// #expect(result.outputs.count == 3)
/// ```
public final class Replay: Sendable {
    private let routes: [String: Route]
    private let system = ShoalActorSystem()
    private let logger: Logger

    /// A replay of `application`'s routes.
    public convenience init(_ application: any ShoalApplication.Type, logger: Logger = Replay.quietLogger) throws {
        try self.init(logger: logger) { try application.configure($0) }
    }

    /// A replay of the routes `configure` declares on a node (which never runs).
    public init(logger: Logger = Replay.quietLogger, configure: (ShoalNode) throws -> Void) throws {
        let node = ShoalNode(configuration: .init(brokers: [], group: "replay", dataDirectory: ""), logger: logger)
        try configure(node)
        routes = try node.validatedRoutes()
        self.logger = logger
    }

    /// A logger that drops everything below errors.
    public static var quietLogger: Logger {
        var logger = Logger(label: "shoal.replay")
        logger.logLevel = .error
        return logger
    }

    /// The entity an event goes to, when its topic has a route (the key
    /// taken from the record key).
    public func entity(of event: ReplayEvent) -> EntityID? {
        routes[event.topic].map { EntityID(type: $0.entity.name, key: event.key) }
    }

    /// The entity types the routes lead to.
    public var entityTypes: Set<String> { Set(routes.values.map(\.entity.name)) }

    /// Replays `events` in order into fresh entities. With `transitions`
    /// false only the final states are encoded, not the state after every
    /// event (faster on long journals).
    /// `progress` is told the count of events replayed every 100,000.
    public func run(
        _ events: [ReplayEvent], transitions: Bool = true, progress: ((Int) -> Void)? = nil
    ) async throws -> ReplayResult {
        var result = ReplayResult()
        var entities: [EntityID: (entity: any Entity, route: Route)] = [:]
        for (index, event) in events.enumerated() {
            if index > 0, index % 100_000 == 0 { progress?(index) }
            guard let route = routes[event.topic] else {
                result.failures.append(.init(topic: event.topic, partition: event.partition, offset: event.offset, reason: "no route for topic \(event.topic)"))
                continue
            }
            let record = KafkaRecord(
                topic: event.topic, partition: event.partition, offset: event.offset,
                key: KafkaBytes(event.key), value: KafkaBytes(event.value),
                timestamp: event.timestamp.map { KafkaTimestamp(milliseconds: $0) }
            )
            do {
                let (key, decoded) = try route.decode(record)
                let id = EntityID(type: route.entity.name, key: key)
                let entity: any Entity
                if let resident = entities[id] {
                    entity = resident.entity
                } else {
                    entity = try await route.entity.activate(system, id, nil)
                    entities[id] = (entity, route)
                }
                let applied = try await EntityDispatch.apply(
                    record, event: decoded, route: route, to: entity, id: id, logger: logger, encodingState: transitions
                )
                for (position, output) in applied.outputs.enumerated() {
                    result.outputs.append(.init(
                        id: "\(event.topic)/\(event.partition)/\(event.offset)/\(position)", topic: output.topic,
                        key: output.key.map { String(decoding: $0, as: UTF8.self) }, value: output.value ?? []
                    ))
                }
                if let state = applied.state {
                    result.transitions.append(.init(offset: event.offset, entity: id, state: state))
                }
                result.applied += 1
            } catch {
                result.failures.append(.init(topic: event.topic, partition: event.partition, offset: event.offset, reason: "\(error)"))
            }
        }
        for (id, resident) in entities {
            result.states[id] = Array(try await resident.route.entity.snapshot(resident.entity))
        }
        return result
    }
}
