import ArgumentParser
import Distributed
import Foundation
import Logging
import ServiceLifecycle
import Shoal
import ShoalKafka
import Synchronization

/// A long run of pattern matching over many keys on a node: shoppers come
/// and go (each active for a few minutes of event time, then silent for
/// ever), every event feeds three patterns, and states live 30 minutes
/// without events. The persisted state (snapshot rows and bytes, pending
/// timers) must stay flat as the run goes on, not grow with the keys seen.
struct PatternStateBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pattern-state",
        abstract: "Persisted state over a long pattern-matching run with many keys: flat, not growing."
    )

    @Option(help: "Events in all.")
    var events: Int = 2_000_000

    @Option(help: "Shoppers active at any time.")
    var active: Int = 5_000

    @Option(help: "Samples over the run.")
    var samples: Int = 10

    @Option(help: "Partitions.")
    var partitions: Int32 = 16

    func run() async throws {
        var logger = Logger(label: "shoal.benchmarks")
        logger.logLevel = .warning
        let broker = try EmbeddedBroker(topics: [.init(name: "journeys", partitions: partitions)], logger: logger)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-patterns-\(UUID().uuidString)")
        try broker.createChangelog(group: "patterns", partitions: partitions)
        let node = ShoalNode(
            configuration: .init(
                brokers: [broker.bootstrapServers], group: "patterns", dataDirectory: directory.path, sessionTimeout: .seconds(6),
                store: .init(journalRetention: 50_000)
            ),
            logger: logger
        )
        try node.route { topology in topology.route(topic: "journeys", to: Checkout.self, key: .field(\Step.shopper), eventTime: .field(\Step.at)) { checkout, step, context in
            try checkout.handle(step, in: context)
        } }
        let group = ServiceGroup(services: [node], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await feed(broker, node: node, logger: logger, directory: directory)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    private func feed(_ broker: EmbeddedBroker, node: ShoalNode, logger: Logger, directory: URL) async throws {
        let producer = try KafkaProducer(configuration: .init(client: .init(bootstrapServers: [broker.bootstrapServers])), logger: logger)
        var rows: [Sample] = []
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await producer.run() }
            let slice = events / samples
            for sample in 1...samples {
                for index in ((sample - 1) * slice)..<(sample * slice) {
                    let step = Step.generated(index, active: active)
                    try await producer.enqueue(KafkaProducerMessage(topic: "journeys", key: Array(step.shopper.utf8), value: Array(try JSONEncoder().encode(step))))
                }
                try await producer.flush(timeout: .seconds(120))
                // Lag stays small: the embedded broker keeps ~5 MiB a partition.
                let target = sample * slice
                let deadline = ContinuousClock.now + .seconds(300)
                while stepsHandled.load(ordering: .relaxed) < target {
                    guard ContinuousClock.now < deadline else { throw ValidationError("the node stalled at \(stepsHandled.load(ordering: .relaxed)) events") }
                    try await Task.sleep(for: .milliseconds(100))
                }
                try await Task.sleep(for: .milliseconds(300))  // one checkpoint
                var row = try Sample.read(directory, events: target, keysSeen: Step.keysSeen(upTo: target, active: active))
                row.resident = node.residentEntities
                rows.append(row)
                print(row.line)
            }
            producer.triggerShutdown()
        }
        let middle = rows[rows.count / 2 - 1]
        let last = rows[rows.count - 1]
        print(String(format: "state at the end / state half-way: snapshots %.2f, state bytes %.2f, timers %.2f (keys seen %.2f)",
                     Double(last.snapshots) / Double(middle.snapshots), Double(last.stateBytes) / Double(middle.stateBytes),
                     Double(last.timers) / Double(middle.timers), Double(last.keysSeen) / Double(middle.keysSeen)))
    }
}

/// One sample of the partitions' files.
private struct Sample {
    var events: Int
    var keysSeen: Int
    var snapshots = 0
    var stateBytes = 0
    var timers = 0
    var fileBytes = 0
    var rss = 0
    var resident = 0

    static func read(_ directory: URL, events: Int, keysSeen: Int) throws -> Sample {
        var sample = Sample(events: events, keysSeen: keysSeen)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("patterns").path)
        for file in files where file.hasSuffix(".sqlite") {
            let path = directory.appendingPathComponent("patterns").appendingPathComponent(file).path
            let store = try PartitionStore(readingAt: path)
            let snapshots = try store.snapshots()
            sample.snapshots += snapshots.count
            sample.stateBytes += snapshots.reduce(0) { $0 + $1.state.count }
            sample.timers += try store.timers().values.reduce(0) { $0 + $1.count }
            for suffix in ["", "-wal"] {
                let size = (try? FileManager.default.attributesOfItem(atPath: path + suffix)[.size] as? Int) ?? 0
                sample.fileBytes += size
            }
        }
        sample.rss = NodeRun.residentBytes(of: getpid())
        return sample
    }

    var line: String {
        String(format: "events %8d  keys seen %7d  snapshots %6d  state %7.1f KiB  timers %6d  resident %6d  files %6.1f MiB  RSS %6.1f MiB",
               events, keysSeen, snapshots, Double(stateBytes) / 1_024, timers, resident, Double(fileBytes) / 1_048_576, Double(rss) / 1_048_576)
    }
}

let stepsHandled = Atomic<Int>(0)

/// A shopper's step; `at` advances 30 s of event time per 1,000 events.
struct Step: Codable, Sendable {
    var shopper: String
    var kind: String
    var id: String
    var at: EventTime

    static let kinds = ["view", "cart-abandoned", "ticket", "order", "payment", "small-payment"]

    /// Event `index`: its shopper is one of the `active` ones of the moment
    /// (the population slides, so each shopper is active for a while, then
    /// never again).
    static func generated(_ index: Int, active: Int) -> Step {
        let shopper = index / 20 + (index &* 7_919) % active
        let kind = kinds[(index &* 31) % kinds.count]
        let at = EventTime(milliseconds: 1_800_000_000_000 + Int64(index) * 30)
        return Step(shopper: "s\(shopper)", kind: kind, id: "\(kind)-\(shopper)-\(index % 7)", at: at)
    }

    static func keysSeen(upTo events: Int, active: Int) -> Int { min(events, (events - 1) / 20 + active) }
}

/// The three patterns of a checkout journey on one shopper, as a fraud or
/// marketing rule would run them; its state lives 30 minutes without events.
distributed actor Checkout: Entity {
    typealias ActorSystem = ShoalActorSystem
    struct State: Codable, Sendable {
        var ticketAfterAbandon = FollowedBy<String, String>(within: .seconds(30 * 60))
        var unpaid = NotFollowedBy<String, String>(within: .seconds(10 * 60))
        var bursts = CountWithin<String>(threshold: 3, within: .seconds(2 * 60))
        var alerts = 0
    }

    static var stateTimeToLive: Duration? { .seconds(30 * 60) }

    var state = State()

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    func handle(_ step: Step, in context: EntityContext) throws {
        defer { stepsHandled.add(1, ordering: .relaxed) }
        switch step.kind {
        case "cart-abandoned": if state.ticketAfterAbandon.addFirst(step.id, at: step.at) != nil { state.alerts += 1 }
        case "ticket": if state.ticketAfterAbandon.addSecond(step.id, at: step.at) != nil { state.alerts += 1 }
        case "order": state.unpaid.addFirst(step.id, at: step.at) { $0 == step.id }
        case "payment": state.unpaid.addSecond(step.id, at: step.at) { $0 == step.id }
        case "small-payment": if state.bursts.add(step.id, at: step.at) != nil { state.alerts += 1 }
        default: break
        }
        schedule(context)
    }

    func timerFired(_ timer: EntityTimer, in context: EntityContext) throws {
        state.alerts += state.unpaid.timedOut(at: context.watermark).count
        state.ticketAfterAbandon.expire(at: context.watermark)
        state.bursts.expire(at: context.watermark)
        schedule(context)
    }

    private func schedule(_ context: EntityContext) {
        let next = [state.unpaid.nextDeadline, state.ticketAfterAbandon.nextExpiry, state.bursts.nextExpiry].compactMap { $0 }.min()
        if let next { context.setTimer("patterns", at: next) } else { context.cancelTimer("patterns") }
    }
}
