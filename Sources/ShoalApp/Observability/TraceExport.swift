import Logging
import OTel
import ServiceLifecycle

/// Exports a node's spans (each handler turn, call and output sent) over
/// OTLP/gRPC to a collector, when `--otlp-endpoint` names one; the trace
/// context travels in records' headers as W3C `traceparent`. Metrics stay
/// with the Prometheus endpoint and logs with the node's logger.
enum TraceExport {
    /// How long the exporter may take to stop after the node did; spans
    /// not sent by then are dropped.
    static let shutdownLimit: Duration = .seconds(5)

    /// Bootstraps the process's tracer to export to `endpoint` (for example
    /// `http://collector:4317`); the returned service sends the spans and
    /// runs in the node's service group. Once per process.
    static func bootstrap(endpoint: String, serviceName: String, logger: Logger) throws -> any Service {
        var configuration = OTel.Configuration.default
        configuration.serviceName = serviceName
        configuration.propagators = [.traceContext]
        configuration.traces.exporter = .otlp
        configuration.traces.otlpExporter.endpoint = endpoint
        configuration.traces.otlpExporter.protocol = .grpc
        // A collector that does not answer holds a node's exit for no longer
        // than this (the default, 10 s per try, held a stop for 27 s).
        configuration.traces.otlpExporter.timeout = .seconds(2)
        configuration.traces.batchSpanProcessor.exportTimeout = .seconds(2)
        configuration.traces.batchSpanProcessor.scheduleDelay = .seconds(1)
        configuration.metrics.enabled = false
        configuration.logs.enabled = false
        configuration.diagnosticLogger = .custom(logger)
        return try OTel.bootstrap(configuration: configuration)
    }
}
