import Foundation
import Shoal
import ShoalApp
import Synchronization
import Testing
@testable import CounterApp


extension NodeProcessTests {
    /// `node --metrics-port 0` serves Prometheus text with the runtime's
    /// metrics and a health check while it runs.
    @Test(.timeLimit(.minutes(3)))
    func aNodeServesPrometheusMetricsAndAHealthCheck() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let directory = try temporaryDirectory()
        let group = uniqueName("metrics")
        try broker.createChangelog(group: group, partitions: 8)
        let node = try ChildProcess(
            executable: "CounterApp",
            arguments: [
                "node", "--brokers", broker.bootstrapServers, "--group", group,
                "--data", directory.appendingPathComponent("data").path, "--session-timeout-ms", "6000", "--metrics-port", "0",
            ],
            directory: directory, name: "node"
        )
        #expect(await eventually(timeout: .seconds(60)) { ownedPartitions(node.errors).count == 8 })
        let port = try #require(metricsPort(in: node.errors), "the node logs the port it listens on")
        try await produce(broker, topic: "counter-events", CounterWorkload(keys: 20, perKey: 10).messages)
        _ = try await readTopic(broker, "counter-totals", count: 200)

        let (health, healthStatus) = try await get("http://127.0.0.1:\(port)/health")
        #expect(healthStatus == 200)
        #expect(health.contains("\"status\":\"ok\"") && health.contains("counter-events-0"))
        var metrics = ""
        #expect(await eventually(timeout: .seconds(10)) {
            metrics = (try? await get("http://127.0.0.1:\(port)/metrics").body) ?? ""
            return metrics.contains("shoal_records_in_total 200")
        }, "\(metrics.prefix(2_000))")
        for name in ["shoal_handler_duration_seconds", "shoal_checkpoint_duration_seconds", "shoal_resident_entities", "shoal_partition_lag_records", "shoal_shard_buffered_records", "shoal_rebalances_total", "shoal_changelog_records_total", "shoal_restore_duration_seconds", "shoal_restores_total"] {
            #expect(metrics.contains(name), "\(name) is exported")
        }
        let check = try promtoolCheck(metrics)
        #expect(check.status == 0 && check.output.isEmpty, "promtool check metrics: \(check.output)")
        node.terminate()
        #expect(await node.waitForExit() == 0)
        withExtendedLifetime(broker) {}
    }

    /// `promtool check metrics` on `text` (Prometheus' own linter: help
    /// text, type suffixes, base units); the test command installs it.
    func promtoolCheck(_ text: String) throws -> (status: Int32, output: String) {
        let promtool = Process()
        promtool.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        promtool.arguments = ["promtool", "check", "metrics"]
        let input = Pipe(), output = Pipe()
        promtool.standardInput = input
        promtool.standardOutput = output
        promtool.standardError = output
        try promtool.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let said = output.fileHandleForReading.readDataToEndOfFile()
        promtool.waitUntilExit()
        return (promtool.terminationStatus, String(decoding: said, as: UTF8.self))
    }

    /// The port of the node's "Metrics endpoint listening ... port=N" line.
    func metricsPort(in log: String) -> Int? {
        guard let line = log.split(separator: "\n").first(where: { $0.contains("Metrics endpoint listening") }),
              let start = line.range(of: "port=")?.upperBound else { return nil }
        return Int(line[start...].prefix { $0.isNumber })
    }

    func get(_ address: String) async throws -> (body: String, status: Int) {
        let response = await HTTPGet.fetch(try #require(URL(string: address)))
        if let error = response.error { throw error }
        return (String(decoding: response.body ?? Data(), as: UTF8.self), response.status)
    }
}

/// A sample's value in Prometheus text, e.g. `shoal_restores_total{kind="tail"}`.
func metricValue(_ name: String, in text: String) -> Double? {
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + " ") }) else { return nil }
    return Double(line.split(separator: " ").last ?? "")
}

extension NodeProcessTests {
    /// `node --otlp-endpoint URL` exports its spans there over OTLP/gRPC:
    /// a listener in place of a collector sees the node connect and open
    /// an HTTP/2 connection once records flow; the node stops cleanly and
    /// in time, also when the collector never answers.
    @Test(.timeLimit(.minutes(3)), arguments: FirstBytesListener.Behaviour.allCases)
    func aNodeExportsItsSpansToTheOTLPEndpoint(collectorBehaviour: FirstBytesListener.Behaviour) async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let collector = try FirstBytesListener(behaviour: collectorBehaviour)
        let directory = try temporaryDirectory()
        let group = uniqueName("otlp")
        try broker.createChangelog(group: group, partitions: 8)
        let node = try ChildProcess(
            executable: "CounterApp",
            arguments: [
                "node", "--brokers", broker.bootstrapServers, "--group", group, "--data", directory.appendingPathComponent("data").path,
                "--session-timeout-ms", "6000", "--otlp-endpoint", "http://127.0.0.1:\(collector.port)",
            ],
            directory: directory, name: "node"
        )
        #expect(await eventually(timeout: .seconds(60)) { ownedPartitions(node.errors).count == 8 })
        try await produce(broker, topic: "counter-events", CounterWorkload(keys: 20, perKey: 5).messages)
        _ = try await readTopic(broker, "counter-totals", count: 100)
        #expect(await eventually(timeout: .seconds(30)) { collector.received.starts(with: Array("PRI * HTTP/2.0".utf8)) },
                "the exporter speaks HTTP/2 (gRPC) to the endpoint: \(collector.received.prefix(24))")
        node.terminate()
        // A collector that never answers must not hold the node's exit.
        #expect(await node.waitForExit(timeout: .seconds(40)) == 0, "\(node.errors.suffix(1_500))")
        withExtendedLifetime(broker) {}
    }
}

/// A TCP listener on loopback that keeps the first bytes of the first
/// connection: where a collector would be, one that fails every export.
final class FirstBytesListener: Sendable {
    /// What it does with a connection once it read from it.
    enum Behaviour: Sendable, CaseIterable {
        /// Closes it.
        case closes
        /// Keeps it open and never answers (a collector that hangs).
        case neverAnswers
    }

    let port: Int
    let behaviour: Behaviour
    private let seen = Seen()
    private let socket: Int32

    init(behaviour: Behaviour = .closes) throws {
        self.behaviour = behaviour
        let (socket, port) = try listenOnLoopback(backlog: 4)
        self.socket = socket
        self.port = port
        // The thread holds what it uses, not the listener: its deinit shuts
        // the socket, which ends the thread's accept loop.
        Thread.detachNewThread { [socket, seen, behaviour] in
            Self.serve(socket, into: seen, behaviour)
        }
    }

    /// The first bytes read, and the connections kept open.
    private final class Seen: Sendable {
        let bytes = Mutex<[UInt8]>([])
        let held = Mutex<[Int32]>([])
    }

    private static func serve(_ socket: Int32, into seen: Seen, _ behaviour: Behaviour) {
        while true {
            let connection = accept(socket, nil, nil)
            guard connection >= 0 else { return }
            var buffer = [UInt8](repeating: 0, count: 64)
            let count = read(connection, &buffer, buffer.count)
            if count > 0 { seen.bytes.withLock { if $0.isEmpty { $0 = Array(buffer[..<count]) } } }
            switch behaviour {
            case .closes: close(connection)
            case .neverAnswers: seen.held.withLock { $0.append(connection) }
            }
        }
    }

    var received: [UInt8] { seen.bytes.withLock { $0 } }

    deinit {
        shutdown(socket, Int32(SHUT_RDWR))
        close(socket)
        for connection in seen.held.withLock({ $0 }) { close(connection) }
    }
}
