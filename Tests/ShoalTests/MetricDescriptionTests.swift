import Foundation
import Metrics
import Prometheus
import Shoal
@testable import ShoalApp
import Testing

/// Every metric is exported with a `# HELP` line, which Prometheus' tools require.
struct MetricDescriptionTests {
    @Test func everyMetricTheRuntimeDefinesHasADescription() throws {
        let root = packageRoot.appendingPathComponent("Sources/Shoal")
        let sources = try FileManager.default.subpathsOfDirectory(atPath: root.path)
            .filter { $0.hasSuffix(".swift") }
            .map { try String(contentsOf: root.appendingPathComponent($0), encoding: .utf8) }
            .joined()
        let labels = Set(sources.matches(of: /label: "(shoal_[a-z_]+)"/).map { String($0.output.1) })
        #expect(labels.count >= 30)
        let undescribed = labels.filter { MetricDescriptions.help(for: $0) == nil }
        #expect(undescribed.isEmpty, "no description: \(undescribed.sorted())")
    }

    @Test func theFactoryExportsEachMetricWithItsHelpLine() {
        let registry = PrometheusCollectorRegistry()
        let factory = DescribedMetricsFactory(registry: registry)
        MetricDescriptions.describe("app_frauds_total", "Frauds the application found.")
        factory.makeCounter(label: "shoal_records_in_total", dimensions: []).increment(by: 3)
        factory.makeCounter(label: "app_frauds_total", dimensions: [("rule", "velocity")]).increment(by: 1)
        factory.makeTimer(label: "shoal_handler_duration_seconds", dimensions: []).recordNanoseconds(1_000)
        factory.makeMeter(label: "app_undescribed", dimensions: []).set(2.0)
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("# HELP shoal_records_in_total Input records handed to entities.\n"))
        #expect(text.contains("# HELP app_frauds_total Frauds the application found.\n"))
        #expect(text.contains("# HELP shoal_handler_duration_seconds Time an entity's handler took"))
        #expect(text.contains("# HELP app_undescribed app_undescribed: no description"))
        #expect(text.contains("shoal_records_in_total 3"))
    }
}
