import Foundation
import SampleSupport
@testable import Shoal
import ShoalTesting
import Testing
@testable import FraudDetection

extension FraudDetectionTests {
    /// The payments an account forwards reach the card and IP stage with the
    /// payment's timestamp, as a node's outputs carry it.
    @Test func forwardedPaymentsKeepTheirSourceTimestamp() async throws {
        let payment = Payment(
            id: "p1", account: "acct-1", card: "card-1", ip: "10.0.0.1", country: "FR", amount: 500,
            at: PaymentLoad.start
        )
        let event = try ReplayEvent(topic: FraudDetection.payments, offset: 0, key: "acct-1", json: payment, timestamp: 1_767_225_601_234)
        let replay = try Replay(FraudDetection.self)
        let firstStage = try await replay.run([event])
        let next = replay.eventsFollowing(firstStage.outputs)
        #expect(Set(next.map(\.topic)) == [FraudDetection.byCard, FraudDetection.byIP])
        #expect(next.map(\.timestamp) == [1_767_225_601_234, 1_767_225_601_234])
        #expect(try await replay.runPipeline([event]).applied == 3, "the payment, then its card and IP copies")
    }
}
