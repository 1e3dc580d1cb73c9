import ArgumentParser
import Foundation
import Histogram
import Logging
import ShoalKafka
import Synchronization

/// Produce-to-output latency of a node at fixed input rates: the benchmark
/// produces probes stamped with the wall clock, the node process counts
/// them per key and emits one output each (published after its commit),
/// and a consumer here records now − stamp for every output. With
/// `--c-pipe`, a plain C pipe forwards the same probes in the node's
/// place: the latency the machine and the embedded broker allow.
struct LatencyBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latency",
        abstract: "p50/p99 latency from produce to output at fixed rates."
    )

    @Option(help: "Input rates to measure, events/s.")
    var rates: [Int] = [10_000, 50_000, 100_000]

    @Option(help: "Seconds per rate (the first second is not recorded).")
    var seconds: Int = 8

    @Option(help: "Milliseconds between the node's commits; the node's default when not given.")
    var checkpointMs: Int?

    @Option(help: "fetch.wait.max.ms of the node's and the reader's consumers (the embedded broker holds a fetch that finds no data for all of it).")
    var fetchWaitMs: Int = 1

    @Option(help: "linger.ms of the node's output producer; the node's default when not given.")
    var outputLingerMs: Int?

    @Option(help: "Partitions of the input and output topics.")
    var partitions: Int32 = 32

    @Flag(help: "After the node, at each rate, a plain C pipe in its place (consume, produce each record with a node's output settings) on a fresh broker: the latency this machine allows.")
    var cPipe = false

    /// What forwards the probes: the node process, or the C pipe.
    enum Forwarder: String {
        case node
        case cPipe = "C pipe"
    }

    func run() async throws {
        var logger = Logger(label: "shoal.benchmarks")
        logger.logLevel = .warning
        for rate in rates {
            for forwarder in cPipe ? [Forwarder.node, .cPipe] : [.node] {
                let broker = try EmbeddedBroker(
                    topics: [.init(name: "latency-in", partitions: partitions), .init(name: "latency-out", partitions: partitions)], logger: logger
                )
                let result = try await measure(rate: rate, through: forwarder, broker: broker, logger: logger)
                let commits = forwarder == .node ? ", commits every \(checkpointMs.map { "\($0) ms" } ?? "default")" : ""
                print(String(format: "rate %d/s, %@ (fetch wait %d ms%@): %d outputs, p50 %.1f ms, p99 %.1f ms, p99.9 %.1f ms, max %.1f ms; produce to a plain consumer of the input: p50 %.1f ms, p99 %.1f ms",
                             rate, forwarder.rawValue, fetchWaitMs, commits, result.count, result.p50, result.p99, result.p999, result.max,
                             result.inputHopP50, result.inputHopP99))
            }
        }
    }

    /// Runs the forwarder over `rate * seconds` probes.
    private func forward(_ rate: Int, through forwarder: Forwarder, broker: EmbeddedBroker) async throws {
        switch forwarder {
        case .node:
            _ = try await NodeRun.measure(
                bootstrap: broker.bootstrapServers, records: rate * seconds, handlerMicros: 0, logLevel: "warning",
                extraArguments: ["--fetch-wait-ms", "\(fetchWaitMs)"] + (checkpointMs.map { ["--checkpoint-ms", "\($0)"] } ?? [])
                    + (outputLingerMs.map { ["--output-linger-ms", "\($0)"] } ?? [])
            )
        case .cPipe:
            let seconds = await CBaseline.latencyPipe(
                bootstrap: broker.bootstrapServers, from: "latency-in", to: "latency-out", group: "latency-pipe-\(rate)", records: rate * self.seconds,
                fetchWaitMs: fetchWaitMs
            )
            guard seconds >= 0 else { throw ValidationError("the C pipe failed (its reason is printed above)") }
        }
    }

    struct Result {
        var count: Int
        var p50, p99, p999, max: Double
        /// From produce to a plain consumer of the input topic: no node.
        var inputHopP50, inputHopP99: Double
    }

    private func measure(rate: Int, through forwarder: Forwarder, broker: EmbeddedBroker, logger: Logger) async throws -> Result {
        let latencies = LatencyRecorder()
        let recordFrom = RecordingStart()
        let reader = try KafkaConsumer(
            configuration: .init(
                client: .init(bootstrapServers: [broker.bootstrapServers]), groupID: "latency-reader-\(rate)", topics: ["latency-out", "latency-in"],
                fetch: .init(maxWait: .milliseconds(fetchWaitMs))
            ),
            logger: logger
        )
        let forwarding = Task { try await forward(rate, through: forwarder, broker: broker) }
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await reader.run() }
            tasks.addTask {
                for await batch in reader.records {
                    let now = Self.wallMicroseconds()
                    for record in batch {
                        guard let value = record.value, let probe = try? JSONDecoder().decode(Probe.self, from: Data(value.array)),
                              probe.sent >= recordFrom.time.load(ordering: .relaxed) else { continue }
                        // The input topic read alone: the broker's and the clients' share of the latency.
                        latencies.record(UInt64(max(0, now - probe.sent)), inputHop: record.topic == "latency-in")
                    }
                }
            }
            // Give the forwarder and the reader time to join before the clock starts.
            try await Task.sleep(for: .seconds(8))
            try await produce(rate: rate, broker: broker, logger: logger, recordFrom: recordFrom)
            try await forwarding.value
            try await Task.sleep(for: .seconds(1))
            reader.triggerShutdown()
            tasks.cancelAll()
        }
        let inputHop = latencies.inputHop.withLock { ($0.valueAtPercentile(50), $0.valueAtPercentile(99)) }
        return latencies.histogram.withLock { histogram in
            Result(
                count: Int(histogram.totalCount), p50: Double(histogram.valueAtPercentile(50)) / 1_000,
                p99: Double(histogram.valueAtPercentile(99)) / 1_000, p999: Double(histogram.valueAtPercentile(99.9)) / 1_000,
                max: Double(histogram.max) / 1_000, inputHopP50: Double(inputHop.0) / 1_000, inputHopP99: Double(inputHop.1) / 1_000
            )
        }
    }

    /// Produces `rate` probes a second in 1 ms steps, over 128 keys.
    private func produce(rate: Int, broker: EmbeddedBroker, logger: Logger, recordFrom: RecordingStart) async throws {
        let producer = try KafkaProducer(
            configuration: .init(client: .init(bootstrapServers: [broker.bootstrapServers]), linger: .zero), logger: logger
        )
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await producer.run() }
            let start = ContinuousClock.now
            let total = rate * seconds
            var sent = 0
            while sent < total {
                let due = min(total, Int(Double(rate) * (ContinuousClock.now - start).seconds) + 1)
                if sent >= rate, recordFrom.time.load(ordering: .relaxed) == .max {
                    recordFrom.time.store(Self.wallMicroseconds(), ordering: .relaxed)
                }
                while sent < due {
                    let probe = Probe(sent: Self.wallMicroseconds())
                    try await producer.enqueue(KafkaProducerMessage(
                        topic: "latency-in", key: Array("probe-\(sent % 128)".utf8), value: Array(try JSONEncoder().encode(probe))
                    ))
                    sent += 1
                }
                try await Task.sleep(for: .milliseconds(1))
            }
            try await producer.flush(timeout: .seconds(60))
            producer.triggerShutdown()
        }
    }

    static func wallMicroseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000_000 + Int64(time.tv_nsec) / 1_000
    }
}

/// When recording starts (after the first second of probes), in wall-clock
/// microseconds; probes sent before it are not counted.
final class RecordingStart: Sendable {
    let time = Atomic<Int64>(.max)
}

/// Latencies in microseconds, shared by the reading task and the report.
final class LatencyRecorder: Sendable {
    let histogram = Mutex(Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three))
    let inputHop = Mutex(Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three))

    func record(_ micros: UInt64, inputHop: Bool) {
        if inputHop {
            _ = self.inputHop.withLock { $0.record(micros) }
        } else {
            _ = histogram.withLock { $0.record(micros) }
        }
    }
}
