import Shoal
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// Serves a node's metrics as Prometheus text at `GET /metrics`, its
/// health at `GET /health` (200 while it runs with no faulted partition,
/// 503 otherwise) and any entity's live state at `GET /entities/TYPE/KEY`
/// (read from the node that owns the key), on loopback or any address. A
/// `Service`: run it in the node's service group.
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
        router.get("entities/:type/:key") { _, context -> Response in
            let id = EntityID(type: try context.parameters.require("type"), key: try context.parameters.require("key"))
            return await Self.liveState(of: id, in: node.actorSystem)
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

    /// The entity's state as one JSON line in the format of `APP state`;
    /// 404 when it has none, 400 for an unknown type, 504 when its owner
    /// did not answer in time.
    static func liveState(of id: EntityID, in system: ShoalActorSystem) async -> Response {
        do {
            guard let live = try await system.state(of: id) else {
                return text(.notFound, "\(id) has no state\n")
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: try StateCommand.line(live) + "\n"))
            )
        } catch let error as ShoalError where error.code == .invocation || error.code == .configuration {
            return text(.badRequest, "\(error.reason)\n")
        } catch let error as ShoalError where error.code == .timedOut {
            return text(.gatewayTimeout, "\(error.reason)\n")
        } catch {
            return text(.serviceUnavailable, "\(error)\n")
        }
    }

    private static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    /// Makes swift-metrics report to a Prometheus registry, once per
    /// process (later calls return the same registry). Each metric is
    /// exported with its ``MetricDescriptions`` help text.
    public static func bootstrapPrometheus() -> PrometheusCollectorRegistry {
        bootstrapped
    }

    private static let bootstrapped: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(DescribedMetricsFactory(registry: registry))
        return registry
    }()
}
