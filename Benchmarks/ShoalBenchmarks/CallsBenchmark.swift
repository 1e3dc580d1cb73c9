import ArgumentParser
import Distributed
import Foundation
import Histogram
import Logging
import ServiceLifecycle
import Shoal
import ShoalKafka
import Synchronization

/// Entity calls between two nodes on loopback (Shoal's call protocol on SwiftNIO, both nodes
/// in this process) next to calls of keys the calling node owns: throughput
/// with a fixed number in flight, then p50/p99 at a fixed rate.
struct CallsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calls",
        abstract: "Remote and local entity calls: throughput with N in flight, p50/p99 at a fixed rate."
    )

    @Option(help: "Calls in flight for the throughput runs.")
    var inFlight = 64

    @Option(help: "Seconds per throughput run.")
    var seconds = 5

    @Option(help: "Calls per second of the latency runs.")
    var rate = 5_000

    @Option(help: "Keys called, spread over the partitions.")
    var keys = 1_000

    func run() async throws {
        let bare = try await GRPCEchoBaseline.throughput(inFlight: inFlight, seconds: seconds)
        print(String(format: "bare gRPC unary echo (no Shoal), %d in flight: %.0f calls/s", inFlight, bare))
        var logger = Logger(label: "shoal.benchmarks")
        logger.logLevel = ProcessInfo.processInfo.environment["SHOAL_BENCH_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        let broker = try EmbeddedBroker(topics: [.init(name: "probes", partitions: 8)], logger: logger)
        let group = "calls-\(UUID().uuidString.prefix(8))"
        try broker.createChangelog(group: group, partitions: 8)
        // Records in the wrong partition would be forwarded there (none are).
        try broker.createTopic(ShoalNodeConfiguration.repartitionTopic(group: group, lead: "probes"), partitions: 8)
        let secret = try CallSecret(Array("the-calls-benchmark-secret".utf8))
        let nodes = try (0..<2).map { _ in try Self.node(broker, group: group, secret: secret, logger: logger) }
        let services = ServiceGroup(services: nodes, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await services.run() }
            try await awaitSplit(nodes)
            let caller = nodes[0]
            let owned = Set(caller.ownedPartitions.map(\.partition))
            let all = (0..<keys).map { "probe-\($0)" }
            let local = all.filter { owned.contains(Murmur2Partitioner.partition(for: $0, partitionCount: 8)) }
            let remote = all.filter { !owned.contains(Murmur2Partitioner.partition(for: $0, partitionCount: 8)) }
            // Warm up: every key activated, every connection open.
            _ = try await throughput(caller, all, seconds: 1)
            for (name, keys) in [("local", local), ("remote", remote)] {
                let perSecond = try await throughput(caller, keys, seconds: seconds)
                print(String(format: "%@ calls, %d in flight: %.0f calls/s (%d keys)", name, inFlight, perSecond, keys.count))
            }
            for (name, keys) in [("local", local), ("remote", remote)] {
                let (p50, p99, count, timedOut) = try await latency(caller, keys)
                print(String(format: "%@ calls at %d/s: p50 %.3f ms, p99 %.3f ms (%d calls answered, %d timed out)", name, rate, p50, p99, count, timedOut))
            }
            // A graceful stop, not a cancellation: the nodes hand off.
            await services.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    private static func node(_ broker: EmbeddedBroker, group: String, secret: CallSecret, logger: Logger) throws -> ShoalNode {
        var configuration = ShoalNodeConfiguration(
            brokers: [broker.bootstrapServers], group: group,
            dataDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("shoal-calls-\(UUID().uuidString)").path,
            sessionTimeout: .seconds(6)
        )
        configuration.calls = CallConfiguration(listen: .init(host: "127.0.0.1", port: 0), secret: secret)
        var topology = Topology()
        topology.route(topic: "probes", to: CallProbe.self, key: .recordKey) { (_: isolated CallProbe, _: String, _: EntityContext) in }
        return ShoalNode(configuration: configuration, topology: topology, logger: logger)
    }

    private func awaitSplit(_ nodes: [ShoalNode]) async throws {
        while nodes.map(\.ownedPartitions.count) != [4, 4] {
            try await Task.sleep(for: .milliseconds(100))
        }
        // The announcements of both nodes reach each other.
        try await Task.sleep(for: .seconds(2))
    }

    /// Calls per second with `inFlight` calls outstanding, over `keys` in
    /// turn. Nonisolated: the command runs on the main actor, and lanes
    /// that inherited it would all run on the main thread.
    private nonisolated func throughput(_ node: ShoalNode, _ keys: [String], seconds: Int) async throws -> Double {
        let deadline = ContinuousClock.now + .seconds(seconds)
        let started = ContinuousClock.now
        let done = CallCount()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<inFlight {
                group.addTask {
                    var index = lane
                    while ContinuousClock.now < deadline {
                        let probe = try CallProbe.reference(key: keys[index % keys.count], in: node.actorSystem)
                        _ = try await probe.value()
                        done.increment()
                        index += inFlight
                    }
                }
            }
            try await group.waitForAll()
        }
        return Double(done.value) / (ContinuousClock.now - started).seconds
    }

    /// p50 and p99 in ms of calls started at `rate` a second for `seconds`.
    private nonisolated func latency(_ node: ShoalNode, _ keys: [String]) async throws -> (Double, Double, Int, Int) {
        let latencies = CallLatencies()
        let total = rate * seconds
        let start = ContinuousClock.now
        // Discarding: a plain group keeps every finished child until it is
        // awaited, 17 KB each (850 MB over 50,000 calls, which faulted in
        // fresh pages under the calls being measured).
        try await withThrowingDiscardingTaskGroup { group in
            for index in 0..<total {
                let due = start + .microseconds(Int64(index) * 1_000_000 / Int64(rate))
                if due > .now { try await Task.sleep(until: due) }
                group.addTask {
                    let began = ContinuousClock.now
                    let probe = try CallProbe.reference(key: keys[index % keys.count], in: node.actorSystem)
                    do {
                        _ = try await probe.value()
                    } catch let error as ShoalError where error.code == .timedOut {
                        // Above capacity the queue grows until calls time out: counted, not fatal.
                        latencies.timedOut.increment()
                        return
                    }
                    let micros = UInt64((ContinuousClock.now - began).seconds * 1_000_000)
                    latencies.record(micros)
                }
            }
        }
        return latencies.histogram.withLock { histogram in
            (Double(histogram.valueAtPercentile(50)) / 1_000, Double(histogram.valueAtPercentile(99)) / 1_000, Int(histogram.totalCount), latencies.timedOut.value)
        }
    }
}

/// The benchmark's entity: answers a call with its state.
distributed actor CallProbe: Entity {
    typealias ActorSystem = ShoalActorSystem
    struct State: Codable, Sendable { var calls = 0 }
    var state = State()

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    distributed func value() -> Int {
        state.calls
    }
}

final class CallCount: Sendable {
    private let count = Atomic<Int>(0)
    var value: Int { count.load(ordering: .relaxed) }
    func increment() { count.add(1, ordering: .relaxed) }
}

final class CallLatencies: Sendable {
    let histogram = Mutex(Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three))
    let timedOut = CallCount()
    func record(_ micros: UInt64) { _ = histogram.withLock { $0.record(micros) } }
}
