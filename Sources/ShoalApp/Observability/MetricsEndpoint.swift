import Shoal
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// Serves a node's metrics as Prometheus text at `GET /metrics` and its
/// health at `GET /health` (200 while it runs with no faulted partition,
/// 503 otherwise), on loopback or any address. A `Service`: run it in the
/// node's service group.
public struct MetricsEndpoint: Service {
    let node: ShoalNode
    let registry: PrometheusCollectorRegistry
    let host: String
    let port: Int
    let logger: Logger

    /// An endpoint for `node`'s metrics, read from `registry` (see
    /// ``MetricsEndpoint/bootstrapPrometheus()``). Port 0 picks a free port,
    /// logged when the endpoint starts.
    public init(node: ShoalNode, registry: PrometheusCollectorRegistry, host: String = "0.0.0.0", port: Int, logger: Logger) {
        self.node = node
        self.registry = registry
        self.host = host
        self.port = port
        self.logger = logger
    }

    public func run() async throws {
        let router = Router()
        let registry = self.registry
        let node = self.node
        router.get("metrics") { _, _ -> Response in
            var text: [UInt8] = []
            registry.emit(into: &text)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: text))
            )
        }
        router.get("health") { _, _ -> Response in
            let health = node.health
            let body = health.description
            return Response(
                status: health.isHealthy ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: body))
            )
        }
        let logger = self.logger
        let application = Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "shoal"),
            onServerRunning: { channel in
                logger.notice("Metrics endpoint listening", metadata: ["address": "\(channel.localAddress?.description ?? "?")", "port": "\(channel.localAddress?.port ?? 0)"])
            },
            logger: logger
        )
        // `run()`, not `runService()`: the latter catches SIGTERM itself, so
        // the endpoint could stop before the node's group began its graceful
        // shutdown, which the group reports as a service ending unexpectedly
        // (the node then exits 1). Inside the group, the group's shutdown
        // stops it; listed before the node, it stops after the node's
        // hand-off (a group stops its services in reverse order).
        try await application.run()
    }

    /// Makes swift-metrics report to a Prometheus registry, once per
    /// process (later calls return the same registry).
    public static func bootstrapPrometheus() -> PrometheusCollectorRegistry {
        bootstrapped
    }

    private static let bootstrapped: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()
}
