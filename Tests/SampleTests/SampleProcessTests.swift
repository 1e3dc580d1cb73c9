import Foundation
import SampleSupport
import Testing
import TestSupport
@testable import CustomerJourney
@testable import FleetMonitoring
@testable import FraudDetection
@testable import InventoryAlerts

/// The samples end to end: node processes on the embedded broker catch every
/// planted case and flag nothing else. Run on their own, first, by the test
/// script (like the other process tests), so that rebalances are not starved.
@Suite(.serialized) struct SampleProcessTests {
    @Test func fraudDetectionOnTwoNodesCatchesEveryPlantedCaseAndNothingElse() async throws {
        let load = PaymentLoad(seed: 3, count: 20_000)
        try await Self.expectPlantedCases(SampleEndToEnd(
            executable: "FraudDetection", application: FraudDetection.self, records: load.records, expected: load.expected
        ))
    }

    @Test func inventoryAlertsOnTwoNodesCatchEveryPlantedCaseAndNothingElse() async throws {
        let load = StockLoad(seed: 3, count: 20_000)
        var run = SampleEndToEnd(
            executable: "InventoryAlerts", application: InventoryAlerts.self, records: load.records, expected: load.expected
        )
        // Orders and restocks are merged by event time; on a loaded machine
        // a fetch can come later than the default 200 ms wait (once seen in
        // the whole suite: orders applied before their restock).
        run.nodeArguments = ["--alignment-wait-ms", "1000"]
        // Reroutes are allocations away from the nearest warehouse.
        run.findingTopics = InventoryAlerts.alertTopics + [InventoryAlerts.allocations]
        run.finding = { json in
            guard let allocation = try? JSONDecoder().decode(Allocation.self, from: Data(json.utf8)) else {
                return SampleEndToEnd.ruleAndKey(json)
            }
            return allocation.rerouted ? "rerouted \(allocation.key)" : nil
        }
        try await Self.expectPlantedCases(run)
    }

    @Test func fleetMonitoringOnTwoNodesCatchesEveryPlantedCaseAndNothingElse() async throws {
        let load = TelemetryLoad(seed: 3, count: 20_000)
        try await Self.expectPlantedCases(SampleEndToEnd(
            executable: "FleetMonitoring", application: FleetMonitoring.self, records: load.records, expected: load.expected
        ))
    }

    @Test func customerJourneyOnTwoNodesMakesEveryPlantedOfferAndNoOther() async throws {
        let load = JourneyLoad(seed: 3, count: 20_000)
        try await Self.expectPlantedCases(SampleEndToEnd(
            executable: "CustomerJourney", application: CustomerJourney.self, records: load.records, expected: load.expected
        ))
    }

    static func expectPlantedCases(_ run: SampleEndToEnd, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        expectExactly(run.expected, try await run.run(), sourceLocation: sourceLocation)
    }

    static func expectExactly(_ expected: Set<String>, _ alerts: SampleEndToEnd.Alerts, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!expected.isEmpty, sourceLocation: sourceLocation)
        expectFoundOnce(expected, found: alerts.findings, sourceLocation: sourceLocation)
        #expect(alerts.idConflicts == 0, sourceLocation: sourceLocation)
    }
}

/// The README's first command, scaled down: `FraudDetection demo` starts the
/// broker, two nodes and the load, serves metrics while it runs, prints
/// alerts and a summary, and leaves its data for `state` and `replay`.
extension SampleProcessTests {
    @Test func theFraudDemoRunsServesMetricsAndLeavesItsData() async throws {
        let directory = try temporaryDirectory()
        let data = directory.appendingPathComponent("demo-data").path
        let port = freePorts(2)
        let demo = try ChildProcess(
            executable: "FraudDetection",
            arguments: ["demo", "--count", "20000", "--rate", "5000", "--data", data, "--metrics-port", String(port), "--log-level", "warning"],
            directory: directory, name: "demo"
        )
        defer { demo.kill() }
        let metrics = URL(string: "http://127.0.0.1:\(port)/metrics")!
        #expect(await eventually(timeout: .seconds(120)) {
            guard let text = try? String(contentsOf: metrics, encoding: .utf8) else { return false }
            return text.contains("shoal_records_in_total")
        }, "the first node's metrics answer during the demo")
        #expect(await demo.waitForExit(timeout: .seconds(180)) == 0, "\(demo.errors.suffix(2_000))")
        let output = demo.output
        // 20,000 payments plant two cases of each kind: 10 alerts.
        #expect(output.contains("10 alerts (burst 6, impossible-travel 2, shared-ip 2)"), "\(output.suffix(1_500))")
        #expect(output.contains("nodes exited with 0, 0"))
        #expect(output.components(separatedBy: "\nalert  ").count - 1 == 10, "each alert printed once")
        let files = try FileManager.default.contentsOfDirectory(atPath: data + "/demo").filter { $0.hasSuffix(".sqlite") }
        #expect(files.count == 24, "a partition file for each of the 24 routed partitions: \(files.sorted())")
    }
}
