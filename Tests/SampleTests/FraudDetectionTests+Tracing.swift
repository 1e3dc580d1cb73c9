import Foundation
import InMemoryTracing
import Shoal
import TestSupport
import Testing
import Tracing
@testable import FraudDetection

extension FraudDetectionTests {
    /// One payment's trace in a node: the account's turn, the send of the
    /// payment it forwards to the regrouping topic (whose record carries a
    /// W3C `traceparent` header), and the card's turn on that record, each
    /// the parent of the next.
    @Test(.timeLimit(.minutes(3)))
    func aPaymentsTraceSpansTheAccountTheRegroupingTopicAndTheCard() async throws {
        let tracer = W3CInMemoryTracer()
        let fraud = try FraudNode("fraud-trace") { $0.tracer = tracer }
        defer { fraud.running.cancel() }
        let (node, broker) = (fraud.node, fraud.broker)
        #expect(await eventually { node.ownedPartitions.count == 24 })
        let payment = Payment(
            id: "pay-traced", account: "acct-traced", card: "card-traced", ip: "10.1.2.3", country: "FR", amount: 5_000, at: PaymentLoad.start
        )
        try await fraud.produce([payment])
        var spans: [FinishedInMemorySpan] = []
        #expect(await eventually(timeout: .seconds(30)) {
            spans = tracer.recorder.finishedSpans
            return spans.contains { $0.operationName == "Card handle" } && spans.contains { $0.operationName == "IPAddress handle" }
        }, "\(spans.map(\.operationName))")
        let account = try #require(spans.first { $0.operationName == "Account handle" })
        let send = try #require(spans.first { $0.operationName == "\(FraudDetection.byCard) send" })
        let card = try #require(spans.first { $0.operationName == "Card handle" })
        #expect(account.kind == .consumer && send.kind == .producer && card.kind == .consumer)
        #expect(account.parentSpanID == nil, "the payment came without a trace")
        #expect(send.parentSpanID == account.spanID && card.parentSpanID == send.spanID, "each the parent of the next")
        #expect(Set([account.traceID, send.traceID, card.traceID]).count == 1, "one trace")
        #expect(card.attributes["messaging.destination.name"]?.toSpanAttribute() == .string(FraudDetection.byCard))

        // The regrouped record carries the send's context as `traceparent`.
        let regrouped = try await withConsumer(consumerConfiguration(broker, group: uniqueName("regrouped"), topics: [FraudDetection.byCard])) {
            consumer -> KafkaRecord? in
            for await batch in consumer.records where !batch.isEmpty { return batch[0] }
            return nil
        }
        let header = regrouped?.headers.last { $0.key == "traceparent" }?.stringValue
        #expect(header == "00-\(send.traceID)-\(send.spanID)-01", "\(header ?? "none")")
        #expect(send.traceID.count == 32 && send.spanID.count == 16)
        await fraud.stop()
    }
}
