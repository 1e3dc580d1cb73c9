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
    private let coPartitioning: CoPartitioning
    /// Partition counts of the application's topics (for ``runPipeline(_:transitions:maximumStages:progress:)``).
    private let partitions: [String: Int32]
    private let system = ShoalActorSystem()
    private let logger: Logger
    private let tables: ReplayTables

    /// A replay of `application`'s topology.
    public convenience init(_ application: any ShoalApplication.Type, logger: Logger = Replay.quietLogger) throws {
        try self.init(application.topology, topics: application.topics, logger: logger)
    }

    /// A replay of the routes `declare` adds to a topology.
    /// `topics` gives partition counts to the stages of ``runPipeline(_:transitions:maximumStages:progress:)``.
    public convenience init(
        logger: Logger = Replay.quietLogger, topics: [EmbeddedBroker.Topic] = [], declare: (inout Topology) throws -> Void
    ) throws {
        try self.init(Topology(declare), topics: topics, logger: logger)
    }

    /// A replay of `topology`, the one its nodes run.
    /// `topics` gives partition counts to the stages of ``runPipeline(_:transitions:maximumStages:progress:)``.
    ///
    /// A handler's table lookups (``EntityContext/lookup(_:in:as:)``) are
    /// answered with what the node recorded for the event in its journal;
    /// a lookup it did not record (hand-written events, a changed handler)
    /// sees the table records among the replayed events before it, else
    /// `tables`: values by table and key. Later stages of
    /// ``runPipeline(_:transitions:maximumStages:progress:)`` see only `tables`.
    public init(
        _ topology: Topology, topics: [EmbeddedBroker.Topic] = [], tables: [String: [String: [UInt8]]] = [:],
        logger: Logger = Replay.quietLogger
    ) throws {
        routes = try topology.validated()
        if let stray = Set(tables.keys).subtracting(topology.tableTopics).sorted().first {
            throw ShoalError(code: .configuration, reason: "the replay's tables name \(stray), which the topology does not declare a table")
        }
        self.tables = ReplayTables(declared: Set(topology.tableTopics), contents: tables)
        coPartitioning = topology.coPartitioning
        partitions = Dictionary(topics.map { ($0.name, $0.partitions) }) { first, _ in first }
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

    /// The entity type `topic`'s route leads to, if it has one.
    func entityType(ofTopic topic: String) -> String? { routes[topic]?.entity.name }

    func partitionCount(of topic: String) -> Int32 { max(1, partitions[topic] ?? 1) }

    /// The entity types the routes lead to.
    public var entityTypes: Set<String> { Set(routes.values.map(\.entity.name)) }

    /// Replays `events` in order into fresh entities. With `transitions`
    /// false only the final states are encoded, not the state after every
    /// event (faster on long journals; a journal where a handler throws is
    /// then run twice, the second time encoding every state without keeping
    /// it as a transition, so that the entity is rolled back to its last
    /// state as a node rolls it back). `progress` is told, about every
    /// 100,000 events, how many were replayed (from 0 again on a second run).
    ///
    /// Events are decoded in parallel, then each entity's events run in
    /// their order in one of `lanes` concurrent lanes (entities never share
    /// state); the result is merged in event order, so it is the same for
    /// any number of lanes.
    ///
    /// Events of an entity type fed by several topics carry, as in a node,
    /// their position in their shard's order as offset: a partition file's
    /// journal holds them; other events (each topic's own offsets) are
    /// numbered in the order given (see `docs/architecture.md`).
    public func run(
        _ events: [ReplayEvent], transitions: Bool = true, lanes: Int = ProcessInfo.processInfo.activeProcessorCount,
        progress: (@Sendable (Int) -> Void)? = nil
    ) async throws -> ReplayResult {
        let events = Self.positioned(events, coPartitioning: coPartitioning)
        let first = try await run(events, encodingStates: transitions, keepingTransitions: transitions, lanes: lanes, progress: progress)
        guard first.needsStates else { return first.result }
        return try await run(events, encodingStates: true, keepingTransitions: transitions, lanes: lanes, progress: progress).result
    }

    /// One run; `needsStates` when a handler threw after a step whose state
    /// was not encoded, so that its entity could not be rolled back.
    private func run(
        _ events: [ReplayEvent], encodingStates: Bool, keepingTransitions: Bool, lanes: Int, progress: (@Sendable (Int) -> Void)?
    ) async throws -> (result: ReplayResult, needsStates: Bool) {
        let lanes = max(1, lanes)
        let lane = LaneSettings(
            encodingStates: encodingStates, keepingTransitions: keepingTransitions, tables: tables.following(events)
        )
        var chunks = await prepare(events, lanes: lanes)
        var clocks = ReplayClocks(coPartitioning: coPartitioning, routes: routes)
        for chunk in chunks.indices { chunks[chunk].stamp(with: &clocks, events: events) }
        let done = ReplayProgress(report: progress)
        let end = events.count
        let (stamped, finalClocks) = (chunks, clocks)
        let outcomes = try await withThrowingTaskGroup(of: LaneOutcome.self) { group in
            for index in 0..<lanes where stamped.contains(where: { !$0.lanes[index].isEmpty }) {
                group.addTask {
                    try await self.runLane(index, of: stamped, events: events, settings: lane, progress: done, end: end, clocks: finalClocks)
                }
            }
            var outcomes: [LaneOutcome] = []
            for try await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        let needsStates = outcomes.contains(where: \.rollbackNeedsStates)
        // Handed over: the merge keeps a lane's table without copying it.
        return (merge(consume outcomes, chunks.flatMap(\.undecodable), clocks), needsStates)
    }

    /// Decodes every event (in parallel chunks) and deals the decoded ones
    /// to their entity's lane, each lane in event order.
    private func prepare(_ events: [ReplayEvent], lanes: Int) async -> [ReplayChunk] {
        let chunk = max(1, (events.count + lanes - 1) / lanes)
        let (routes, tables) = (self.routes, self.tables.declared)
        return await withTaskGroup(of: (Int, ReplayChunk).self) { group in
            for start in stride(from: 0, to: events.count, by: chunk) {
                let slice = events[start..<min(start + chunk, events.count)]
                group.addTask { (start, ReplayChunk(slice, lanes: lanes, routes: routes, tables: tables)) }
            }
            var parts: [(Int, ReplayChunk)] = []
            for await part in group { parts.append(part) }
            return parts.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// Runs one lane's events in order (each entity lives in one lane): for
    /// each event, the entity's timers that fell due before it, the event,
    /// the timers due after it; at the end, the timers due by then.
    private func runLane(
        _ lane: Int, of chunks: [ReplayChunk], events: [ReplayEvent], settings: LaneSettings, progress: ReplayProgress, end: Int,
        clocks: ReplayClocks
    ) async throws -> LaneOutcome {
        var runner = ReplayLane(system: system, logger: logger, settings: settings, clocks: clocks, events: events)
        for chunk in chunks {
            await runner.run(chunk.lanes[lane], of: chunk, progress: progress)
        }
        try await runner.finish(end: end)
        return runner.outcome
    }

    private func merge(_ outcomes: consuming [LaneOutcome], _ undecodable: [(Int, ReplayResult.Failure)], _ clocks: ReplayClocks) -> ReplayResult {
        var outcomes = outcomes
        var result = ReplayResult()
        result.outputs = (clocks.sideOutputs + outcomes.flatMap(\.outputs)).sorted { $0.0 < $1.0 }.map(\.1)
        result.transitions = outcomes.flatMap(\.transitions).sorted { $0.0 < $1.0 }.map(\.1)
        result.firedTimers = outcomes.flatMap(\.fired).sorted { $0.0 < $1.0 }.map(\.1)
        let elsewhere = (undecodable + clocks.deadLetters).map { (ReplayOrder.event($0.0), $0.1) }
        result.failures = (elsewhere + outcomes.flatMap(\.failures)).sorted { $0.0 < $1.0 }.map(\.1)
        result.lateEvents = clocks.late.sorted { $0.0 < $1.0 }.map(\.1)
        result.applied = outcomes.reduce(0) { $0 + $1.applied }
        // Lanes hold disjoint entities: the largest lane's table is kept and
        // the others' entries go into it, instead of every lane's into an
        // empty table (a quarter of a replay of 1,000,000 keys, `perf`); it
        // grows once, to the size of all.
        if let largest = outcomes.indices.max(by: { outcomes[$0].states.count < outcomes[$1].states.count }) {
            result.states = outcomes[largest].states
            outcomes[largest].states = [:]  // the table's one reference is the result's: merged into in place
            result.states.reserveCapacity(outcomes.reduce(result.states.count) { $0 + $1.states.count })
        }
        for outcome in outcomes {
            result.states.merge(outcome.states) { first, _ in first }
            result.pendingTimers.merge(outcome.pendingTimers) { first, _ in first }
        }
        return result
    }
}
