import Foundation
import Testing

/// docs/grafana-dashboard.json only charts metrics the runtime defines.
struct DashboardTests {
    @Test func theDashboardChartsOnlyMetricsTheRuntimeDefines() throws {
        let root = packageRoot
        let dashboard = try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent("docs/grafana-dashboard.json"))) as? [String: Any]
        let panels = try #require(dashboard?["panels"] as? [[String: Any]])
        let expressions = panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
        let names = Set(expressions.flatMap { expression in
            expression.matches(of: /shoal_[a-z_]+/).map { match in
                String(match.output).replacing(/_(bucket|sum|count)$/, with: "")
            }
        })
        #expect(names.count >= 14)
        let sources = try FileManager.default.subpathsOfDirectory(atPath: root.appendingPathComponent("Sources/Shoal").path)
            .filter { $0.hasSuffix(".swift") }
            .map { try String(contentsOf: root.appendingPathComponent("Sources/Shoal").appendingPathComponent($0), encoding: .utf8) }
            .joined()
        let undefined = names.filter { !sources.contains("\"\($0)\"") }
        #expect(undefined.isEmpty, "charted but never defined: \(undefined.sorted())")
    }
}
