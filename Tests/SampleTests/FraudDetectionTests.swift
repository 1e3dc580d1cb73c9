import Foundation
import SampleSupport
import ShoalTesting
import Testing
@testable import FraudDetection

@Suite struct FraudDetectionTests {
    /// The alerts of a result, as findings, and how often each came.
    static func findings(_ result: ReplayResult) throws -> [Finding: Int] {
        try result.findings(FraudAlert.self, on: [FraudDetection.alerts]) { $0.finding }
    }

    @Test(arguments: [(UInt64(1), 20_000), (UInt64(7), 12_000)])
    func everyPlantedCaseIsCaughtOnceAndNoCleanPaymentIsFlagged(seed: UInt64, count: Int) async throws {
        let load = PaymentLoad(seed: seed, count: count)
        #expect(load.records.count == count)
        #expect(Set(load.expected.map(\.rule)) == ["burst", "shared-ip", "impossible-travel"])
        #expect(Set(load.expected.map(\.subject)) == ["account", "card", "ip"])
        let replay = try Replay(FraudDetection.self)
        let result = try await replay.runPipeline(replay.events(of: load.records), transitions: false)
        let findings = try Self.findings(result)
        expectFoundOnce(load.expected, found: findings)
        #expect(result.failures.isEmpty, "\(result.failures.prefix(3))")
        #expect(result.lateEvents.isEmpty)
    }

    @Test func outOfOrderPaymentsStillMakeABurst() async throws {
        // Five low-value payments within half a minute, delivered backwards (within the out-of-orderness).
        let times: [Int64] = [28_000, 21_000, 14_000, 7_000, 0]
        let events = try times.enumerated().map { index, at in
            try ReplayEvent(topic: FraudDetection.byCard, offset: Int64(index), key: "card-1", json: Payment(
                id: "p\(index)", account: "acct-\(index)", card: "card-1", ip: "10.0.0.\(index)", country: "FR",
                amount: 500, at: EventTime(milliseconds: PaymentLoad.start.milliseconds + at)
            ))
        }
        let result = try await Replay(FraudDetection.self).run(events)
        let alerts = try result.outputs(FraudAlert.self, topic: FraudDetection.alerts)
        #expect(alerts.map(\.finding) == [Finding(rule: "burst", subject: "card", key: "card-1")])
        #expect(alerts.first?.payments == ["p4", "p3", "p2", "p1", "p0"], "earliest first")
    }

    @Test func travelBetweenNeighbouringCountriesInAnHourIsNotImpossible() async throws {
        let events = try [("FR", 0), ("DE", 3_600_000), ("JP", 3_900_000)].enumerated().map { index, place in
            try ReplayEvent(topic: FraudDetection.payments, offset: Int64(index), key: "acct-1", json: Payment(
                id: "p\(index)", account: "acct-1", card: "card-1", ip: "10.0.0.1", country: place.0,
                amount: 9_000, at: EventTime(milliseconds: PaymentLoad.start.milliseconds + Int64(place.1))
            ))
        }
        let alerts = try await Replay(FraudDetection.self).run(events).outputs(FraudAlert.self, topic: FraudDetection.alerts)
        #expect(alerts.map(\.rule) == ["impossible-travel"])
        #expect(alerts.first?.payments == ["p1", "p2"], "Paris to Berlin in an hour is a flight; Berlin to Tokyo in five minutes is not")
    }

    @Test func theGoldenJournalReplaysAsRecorded() async throws {
        try await expectGoldenReplay(of: FraudDetection.self, sample: "FraudDetection", seed: 42, count: 400)
    }

    @Test func theSameSeedGivesTheSamePayments() {
        #expect(PaymentLoad(seed: 5, count: 3_000).records == PaymentLoad(seed: 5, count: 3_000).records)
        #expect(PaymentLoad(seed: 5, count: 3_000).records != PaymentLoad(seed: 6, count: 3_000).records)
    }
}

