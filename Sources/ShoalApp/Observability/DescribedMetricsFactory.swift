import Metrics
import Prometheus
import Shoal
import Synchronization

/// Prometheus' metrics factory with each metric's `# HELP` line, taken from
/// ``MetricDescriptions``: `promtool check metrics` rejects metrics without
/// one, and swift-metrics' labels carry no description.
struct DescribedMetricsFactory: MetricsFactory {
    /// Buckets and the registry come from here; only the help text is added.
    let base: PrometheusMetricsFactory

    init(registry: PrometheusCollectorRegistry) {
        base = PrometheusMetricsFactory(registry: registry)
    }

    private var registry: PrometheusCollectorRegistry { base.registry }

    /// A metric no one described still gets a line (an empty one fails the
    /// check), which says how to describe it. A name keeps the line it
    /// was first exported with: the registry refuses (fatally) a second
    /// metric of one name with another help text.
    static func help(for label: String) -> String {
        used.withLock { used in
            if let help = used[label] { return help }
            let help = MetricDescriptions.help(for: label) ?? "\(label): no description (MetricDescriptions.describe gives one)."
            used[label] = help
            return help
        }
    }

    private static let used = Mutex<[String: String]>([:])

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(name: label, labels: dimensions, help: Self.help(for: label))
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(name: label, labels: dimensions, help: Self.help(for: label))
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(name: label, labels: dimensions, help: Self.help(for: label)) }
        let buckets = base.valueHistogramBuckets[label] ?? base.defaultValueHistogramBuckets
        return registry.makeValueHistogram(name: label, labels: dimensions, buckets: buckets, help: Self.help(for: label))
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(name: label, labels: dimensions, help: Self.help(for: label))
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let buckets = base.durationHistogramBuckets[label] ?? base.defaultDurationHistogramBuckets
        return registry.makeDurationHistogram(name: label, labels: dimensions, buckets: buckets, help: Self.help(for: label))
    }

    func destroyCounter(_ handler: any CounterHandler) { base.destroyCounter(handler) }
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { base.destroyFloatingPointCounter(handler) }
    func destroyRecorder(_ handler: any RecorderHandler) { base.destroyRecorder(handler) }
    func destroyMeter(_ handler: any MeterHandler) { base.destroyMeter(handler) }
    func destroyTimer(_ handler: any TimerHandler) { base.destroyTimer(handler) }
}
