import ArgumentParser
import Distributed
import Foundation
import Logging
import ServiceLifecycle
import Shoal
import Synchronization

/// The node process of the backlog benchmark: a slow handler per device.
struct BacklogNode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "backlog-node", shouldDisplay: false)

    @Option var brokers: String
    @Option var data: String
    @Option var handlerMicros: Int = 20
    @Option var logLevel: String = "info"
    @Option var group: String = "backlog"
    @Option var maxResident: Int = 100_000
    @Option(help: "Milliseconds between commits (outputs go out after theirs); the node's default when not given.") var checkpointMs: Int?
    @Option(help: "fetch.wait.max.ms of the node's consumer.") var fetchWaitMs: Int = 100
    @Option(help: "linger.ms of the node's output producer; the node's default when not given.") var outputLingerMs: Int?
    @Option(help: "Count the records of topic `pipeline-in` per key and emit one output each to this topic.") var pipelineOutput: String?
    @Flag(help: "Replicate state to the group's changelog topic (<group>-state, created by the caller).") var changelog = false
    @Option(help: "Keep the last N readings of each device in its state (0: a count and a sum only).") var window = 0
    @Flag(help: "With --window: the devices' states expire an hour after their last reading (as the samples' do).") var expiring = false

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: "backlog-node")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var configuration = ShoalNodeConfiguration(
            brokers: [brokers], group: group, dataDirectory: data, sessionTimeout: .seconds(6),
            fetch: .init(queuedMinMessages: 200_000, queuedMaxKilobytes: 16_384, maxWait: .milliseconds(fetchWaitMs)),
            passivation: .init(idleTimeout: .seconds(600), maxResidentEntities: maxResident),
            store: checkpointMs.map { .init(checkpointInterval: .milliseconds($0)) } ?? .init(),
            changelog: .init(enabled: changelog)
        )
        if let outputLingerMs { configuration.outputLinger = .milliseconds(outputLingerMs) }
        let node = ShoalNode(configuration: configuration, logger: logger)
        let busy = Duration.microseconds(handlerMicros)
        if window > 0, expiring {
            let window = self.window
            try node.route { topology in topology.route(topic: "backlog", to: ExpiringWindowedDevice.self) { device, reading, _ in
                device.record(reading, keeping: window)
            } }
        } else if window > 0 {
            let window = self.window
            try node.route { topology in topology.route(topic: "backlog", to: WindowedDevice.self) { device, reading, _ in
                device.record(reading, keeping: window)
            } }
        } else {
            try node.route { topology in topology.route(topic: "backlog", to: Device.self) { device, reading, _ in
                device.record(reading, busy: busy)
            } }
        }
        try node.route { topology in topology.route(topic: "latency-in", to: Echo.self) { echo, probe, context in
            try echo.answer(probe, in: context)
        } }
        if let pipelineOutput {
            try node.route { topology in topology.route(topic: "pipeline-in", to: PipelineTally.self) { tally, reading, context in
                try tally.count(reading, to: pipelineOutput, in: context)
            } }
        }
        let progress = Task {
            while !Task.isCancelled {
                try await Task.sleep(for: .milliseconds(20))
                print(handled.load(ordering: .relaxed))
                fflush(nil)
            }
        }
        defer { progress.cancel() }
        try await ServiceGroup(services: [node], gracefulShutdownSignals: [.sigterm], logger: logger).run()
    }
}

let handled = Atomic<Int>(0)

struct Reading: Codable, Sendable {
    var reading: Int
}

distributed actor Device: Entity {
    typealias ActorSystem = ShoalActorSystem
    struct State: Codable, Sendable {
        var count = 0
        var total = 0
    }

    var state = State()

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    /// A deliberately slow handler: it spins for `busy`.
    func record(_ reading: Reading, busy: Duration) {
        let until = ContinuousClock.now + busy
        while ContinuousClock.now < until {}
        state.count += 1
        state.total += reading.reading
        handled.add(1, ordering: .relaxed)
    }
}

/// A device that keeps its last readings, as a fraud check keeps a
/// window of payments: a state whose encoding costs as real ones do.
distributed actor WindowedDevice: Entity {
    typealias ActorSystem = ShoalActorSystem
    struct Seen: Codable, Sendable {
        var reading: Int
        var sequence: Int
        var label: String
    }

    struct State: Codable, Sendable {
        var count = 0
        var total = 0
        var recent: [Seen] = []

        mutating func record(_ reading: Reading, keeping window: Int) {
            count += 1
            total += reading.reading
            recent.append(Seen(reading: reading.reading, sequence: count, label: "reading-\(reading.reading)"))
            if recent.count > window { recent.removeFirst(recent.count - window) }
            handled.add(1, ordering: .relaxed)
        }
    }

    var state = State()

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    func record(_ reading: Reading, keeping window: Int) { state.record(reading, keeping: window) }
}

/// A `WindowedDevice` whose state expires an hour after its last reading,
/// as the samples' entities do: every reading moves the expiry.
distributed actor ExpiringWindowedDevice: Entity {
    typealias ActorSystem = ShoalActorSystem
    typealias State = WindowedDevice.State
    static var stateTimeToLive: Duration? { .seconds(3_600) }

    var state = State()

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    func record(_ reading: Reading, keeping window: Int) { state.record(reading, keeping: window) }
}

/// A latency probe: when it was produced, in microseconds of wall-clock time.
struct Probe: Codable, Sendable {
    var sent: Int64
}

/// Counts its probes and answers each with an output carrying its time.
distributed actor Echo: Entity {
    typealias ActorSystem = ShoalActorSystem
    struct State: Codable, Sendable { var count = 0 }
    var state = State()

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    func answer(_ probe: Probe, in context: EntityContext) throws {
        state.count += 1
        handled.add(1, ordering: .relaxed)
        try context.emit(topic: "latency-out", key: context.key, value: probe)
    }
}

/// The pipeline benchmark's entity: a per-key count that emits its new
/// count with every record (enrich or aggregate, then emit).
distributed actor PipelineTally: Entity {
    typealias ActorSystem = ShoalActorSystem
    struct State: Codable, Sendable {
        var count = 0
        var total = 0
    }

    struct Counted: Codable, Sendable {
        var key: String
        var count: Int
        var total: Int
    }

    var state = State()

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    func count(_ reading: Reading, to topic: String, in context: EntityContext) throws {
        state.count += 1
        state.total += reading.reading
        handled.add(1, ordering: .relaxed)
        try context.emit(topic: topic, key: context.key, value: Counted(key: context.key, count: state.count, total: state.total))
    }
}
