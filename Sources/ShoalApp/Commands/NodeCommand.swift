import Shoal
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import ShoalKafka

/// `APP node`: one node process, until SIGTERM or SIGINT.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run a node: join the group, claim partitions, process until SIGTERM/SIGINT, then hand off."
    )

    @Option(help: "Bootstrap address of the Kafka cluster (host:port[,host:port...]).")
    var brokers: String

    @Option(help: "Consumer group: the nodes of one application share it.")
    var group: String

    @Option(help: "Directory for the node's state files.")
    var data: String

    @Option(help: "Group session timeout in milliseconds.")
    var sessionTimeoutMs: Int = 10_000

    @Option(help: "Entities idle this many seconds are passivated.")
    var idleSeconds: Int = 120

    @Option(help: "librdkafka debug contexts, comma-separated (for example cgrp,fetch), logged at debug level.")
    var kafkaDebug: String?

    @Option(help: "Serve Prometheus metrics at /metrics and a health check at /health on this port (0: any free port, logged).")
    var metricsPort: Int?

    @Option(help: "Address the metrics endpoint listens on.")
    var metricsHost: String = "127.0.0.1"

    @Flag(inversion: .prefixedNo, help: "Replicate each partition's state to the group's changelog topic and restore partitions from it.")
    var changelog = true

    @Option(help: "The changelog topic (default: <group>-state).")
    var changelogTopic: String?

    @Option(help: "Warm copies of each partition the group keeps beyond its owner; this node keeps those that fall to it (needs the changelog and the <group>-members topic).")
    var standbys = 0

    @Option(help: "How often standby copies catch up with the changelog and the node announces itself, in milliseconds.")
    var standbyIntervalMs = 1_000

    @Option(help: "How many partitions the node restores from the changelog at once; the others wait, paused.")
    var restoreConcurrency = 16

    @Option(help: "Delete a standby copy no process has held, written or let go of for this many seconds (one the standby plan no longer keeps here): the changelog holds its state. 0 keeps such files; without the changelog they are always kept.")
    var staleFileDelaySeconds = 600

    @Option(help: "How long a shard fed by several topics holds records back for a topic that may have earlier ones not yet delivered, so that it takes them in event-time order, in milliseconds (0: as they arrive).")
    var alignmentWaitMs = 200

    @Option(help: "Serve calls to this node's entities from other nodes and clients on HOST:PORT (port 0: any free port, announced). Needs the call secret.")
    var listen: String?

    @Option(help: "The HOST:PORT other processes reach the node's calls at (default: the --listen address).")
    var advertise: String?

    @Option(help: "Export spans (handler turns, calls, outputs sent) over OTLP/gRPC to this collector, e.g. http://localhost:4317; off by default.")
    var otlpEndpoint: String?

    @OptionGroup var calls: CallOptions

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard !brokers.isEmpty else { throw ValidationError("--brokers must name at least one host:port") }
        guard sessionTimeoutMs >= 1_000 else { throw ValidationError("--session-timeout-ms must be at least 1000") }
        guard idleSeconds > 0 else { throw ValidationError("--idle-seconds must be positive") }
        guard standbys >= 0 else { throw ValidationError("--standbys must be 0 or more, not \(standbys)") }
        guard standbys == 0 || changelog else { throw ValidationError("--standbys needs the changelog: drop --no-changelog") }
        guard standbyIntervalMs >= 10 else { throw ValidationError("--standby-interval-ms must be at least 10") }
        guard restoreConcurrency >= 1 else { throw ValidationError("--restore-concurrency must be at least 1, not \(restoreConcurrency)") }
        guard staleFileDelaySeconds >= 0 else { throw ValidationError("--stale-file-delay-seconds must be 0 or more, not \(staleFileDelaySeconds)") }
        guard alignmentWaitMs >= 0 else { throw ValidationError("--alignment-wait-ms must be 0 or more, not \(alignmentWaitMs)") }
        _ = try callConfiguration()
        if let metricsPort, !(0...65_535).contains(metricsPort) {
            throw ValidationError("--metrics-port must be a port number (0-65535), not \(metricsPort)")
        }
        if let otlpEndpoint, !(otlpEndpoint.hasPrefix("http://") || otlpEndpoint.hasPrefix("https://")) {
            throw ValidationError("--otlp-endpoint must be an http:// or https:// address, not \(otlpEndpoint)")
        }
    }

    func run() async throws {
        let application = try ShoalApplicationMain.application(for: "node")
        let logger = try logging.makeLogger(label: "shoal.node")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        var configuration = ShoalNodeConfiguration(
            brokers: brokers.split(separator: ",").map(String.init), group: group, dataDirectory: data,
            sessionTimeout: .milliseconds(sessionTimeoutMs)
        )
        configuration.passivation.idleTimeout = .seconds(idleSeconds)
        configuration.changelog.enabled = changelog
        configuration.changelog.topic = changelogTopic
        configuration.changelog.standbys = standbys
        configuration.changelog.standbyInterval = .milliseconds(standbyIntervalMs)
        configuration.changelog.restoreConcurrency = restoreConcurrency
        configuration.alignmentWait = .milliseconds(alignmentWaitMs)
        configuration.store.staleFileDelay = staleFileDelaySeconds > 0 ? .seconds(staleFileDelaySeconds) : nil
        configuration.calls = try callConfiguration()
        if let kafkaDebug {
            configuration.client.debugContexts = kafkaDebug.split(separator: ",").map(String.init)
        }
        // Before the node exists, so that every metric it makes is exported.
        let registry = metricsPort.map { _ in MetricsEndpoint.bootstrapPrometheus() }
        // Before the node too: the node takes the bootstrapped tracer when it starts.
        let traces = try otlpEndpoint.map {
            BoundedShutdown(
                service: try TraceExport.bootstrap(endpoint: $0, serviceName: group, logger: logger), limit: TraceExport.shutdownLimit,
                name: "span exporter", logger: logger
            )
        }
        let node = ShoalNode(configuration: configuration, topology: application.topology, logger: logger)
        // The group stops its services in reverse order: the endpoint, listed
        // first, keeps answering /health and /metrics through the hand-off;
        // the exporter, before it, sends the hand-off's spans.
        var parts: [any Service] = traces.map { [$0] } ?? []
        if let metricsPort, let registry {
            parts.append(MetricsEndpoint(node: node, registry: registry, host: metricsHost, port: metricsPort, logger: logger))
        }
        parts.append(node)
        let services = ServiceGroup(services: parts, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await services.run()
    }

    /// The calls' settings, with the flag that is wrong named in its error.
    private func callConfiguration() throws -> CallConfiguration {
        do {
            let configuration = CallConfiguration(
                listen: try listen.map { try .init(parsing: $0, setting: "--listen") },
                advertise: try advertise.map { try .init(parsing: $0, setting: "--advertise") },
                secret: try calls.secret(), timeout: .milliseconds(calls.callTimeoutMs)
            )
            if configuration.listen == nil, configuration.advertise != nil {
                throw ValidationError("--advertise needs --listen")
            }
            if configuration.listen != nil, configuration.secret == nil {
                throw ValidationError("--listen needs the group's call secret: --call-secret-file FILE or \(CallSecret.environmentVariable)")
            }
            return configuration
        } catch let error as ShoalError {
            throw ValidationError(error.reason)
        }
    }
}
