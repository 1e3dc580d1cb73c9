import Foundation
import Testing
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
        let run = SampleEndToEnd(
            executable: "FraudDetection", application: FraudDetection.self, records: load.records,
            expected: Set(load.expected.map { "\($0.rule) \($0.key)" })
        )
        Self.expectExactly(run.expected, try await run.run())
    }

    @Test func inventoryAlertsOnTwoNodesCatchEveryPlantedCaseAndNothingElse() async throws {
        let load = StockLoad(seed: 3, count: 20_000)
        var run = SampleEndToEnd(
            executable: "InventoryAlerts", application: InventoryAlerts.self, records: load.records,
            expected: Set(load.expected.map { "\($0.rule) \($0.key)" })
        )
        // Reroutes are allocations away from the nearest warehouse.
        run.findingTopics = InventoryAlerts.alertTopics + [InventoryAlerts.allocations]
        run.finding = { json in
            guard let allocation = try? JSONDecoder().decode(Allocation.self, from: Data(json.utf8)) else {
                return SampleEndToEnd.ruleAndKey(json)
            }
            return allocation.rerouted ? "rerouted \(allocation.key)" : nil
        }
        Self.expectExactly(run.expected, try await run.run())
    }

    @Test func fleetMonitoringOnTwoNodesCatchesEveryPlantedCaseAndNothingElse() async throws {
        let load = TelemetryLoad(seed: 3, count: 20_000)
        let run = SampleEndToEnd(
            executable: "FleetMonitoring", application: FleetMonitoring.self, records: load.records,
            expected: Set(load.expected.map { "\($0.rule) \($0.key)" })
        )
        Self.expectExactly(run.expected, try await run.run())
    }

    @Test func customerJourneyOnTwoNodesMakesEveryPlantedOfferAndNoOther() async throws {
        let load = JourneyLoad(seed: 3, count: 20_000)
        let run = SampleEndToEnd(
            executable: "CustomerJourney", application: CustomerJourney.self, records: load.records,
            expected: Set(load.expected.map { "\($0.rule) \($0.key)" })
        )
        Self.expectExactly(run.expected, try await run.run())
    }

    static func expectExactly(_ expected: Set<String>, _ alerts: SampleEndToEnd.Alerts, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!expected.isEmpty, sourceLocation: sourceLocation)
        #expect(expected.subtracting(alerts.findings.keys).sorted() == [], "planted but not caught", sourceLocation: sourceLocation)
        #expect(Set(alerts.findings.keys).subtracting(expected).sorted() == [], "flagged but not planted", sourceLocation: sourceLocation)
        #expect(alerts.findings.values.allSatisfy { $0 == 1 }, "\(alerts.findings.filter { $0.value > 1 })", sourceLocation: sourceLocation)
        #expect(alerts.idConflicts == 0, sourceLocation: sourceLocation)
    }
}
