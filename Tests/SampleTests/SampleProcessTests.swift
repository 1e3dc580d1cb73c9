import Foundation
import Testing
@testable import FraudDetection

/// The samples end to end: node processes on the embedded broker catch every
/// planted case and flag nothing else. Run on their own, first, by the test
/// script (like the other process tests), so that rebalances are not starved.
@Suite(.serialized) struct SampleProcessTests {
    @Test func fraudDetectionOnTwoNodesCatchesEveryPlantedCaseAndNothingElse() async throws {
        let load = PaymentLoad(seed: 3, count: 20_000)
        let expected = Set(load.expected.map { "\($0.rule) \($0.key)" })
        let run = SampleEndToEnd(executable: "FraudDetection", application: FraudDetection.self, records: load.records, expected: expected)
        let alerts = try await run.run()
        #expect(expected.subtracting(alerts.findings.keys).sorted() == [], "planted but not caught")
        #expect(Set(alerts.findings.keys).subtracting(expected).sorted() == [], "flagged but not planted")
        #expect(alerts.findings.values.allSatisfy { $0 == 1 }, "\(alerts.findings.filter { $0.value > 1 })")
        #expect(alerts.idConflicts == 0)
    }
}
