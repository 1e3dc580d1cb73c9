import Distributed
import Foundation
import PropertyBased
import ShoalTesting
import Testing

/// A shopper's event: `kind` is cart-abandoned, ticket, order, payment or
/// small-payment; `at` is its event time in minutes (as milliseconds).
private struct JourneyEvent: Codable, Sendable {
    var shopper: String
    var kind: String
    var id: String
    var at: EventTime
}

private struct Alert: Codable, Sendable, Hashable {
    var kind: String
    var ids: [String]
}

/// The three patterns on one shopper: an abandoned cart followed by a
/// support ticket within 30 minutes (an offer), an order not followed by
/// its payment within 10 minutes, three small payments within 2 minutes.
private distributed actor Shopper: Entity {
    typealias ActorSystem = ShoalActorSystem
    struct State: Codable, Sendable {
        var ticketAfterAbandon = FollowedBy<String, String>(within: .seconds(30 * 60))
        var unpaid = NotFollowedBy<String, String>(within: .seconds(10 * 60))
        var bursts = CountWithin<String>(threshold: 3, within: .seconds(2 * 60))

        var isEmpty: Bool {
            ticketAfterAbandon.firsts.isEmpty && ticketAfterAbandon.seconds.isEmpty && unpaid.firsts.isEmpty
                && unpaid.seconds.isEmpty && bursts.pending.isEmpty
        }
    }

    var state = State()

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    func handle(_ event: JourneyEvent, in context: EntityContext) throws {
        switch event.kind {
        case "cart-abandoned":
            if let match = state.ticketAfterAbandon.addFirst(event.id, at: event.at) { try offer(match, context) }
        case "ticket":
            if let match = state.ticketAfterAbandon.addSecond(event.id, at: event.at) { try offer(match, context) }
        case "order":
            state.unpaid.addFirst(event.id, at: event.at) { $0 == event.id }
        case "payment":
            state.unpaid.addSecond(event.id, at: event.at) { $0 == event.id }
        default:
            if let burst = state.bursts.add(event.id, at: event.at) {
                try context.emit(topic: "alerts", key: context.key, value: Alert(kind: "burst", ids: burst.map(\.value)))
            }
        }
        schedule(context)
    }

    func timerFired(_ timer: EntityTimer, in context: EntityContext) throws {
        for order in state.unpaid.timedOut(at: context.watermark) {
            try context.emit(topic: "alerts", key: context.key, value: Alert(kind: "unpaid", ids: [order.value]))
        }
        state.ticketAfterAbandon.expire(at: context.watermark)
        state.bursts.expire(at: context.watermark)
        schedule(context)
    }

    private func offer(_ match: FollowedBy<String, String>.Match, _ context: EntityContext) throws {
        try context.emit(topic: "alerts", key: context.key, value: Alert(kind: "offer", ids: [match.first.value, match.second.value]))
    }

    /// One timer at the earliest deadline of any pattern: time-outs fire
    /// and partial matches are cleaned up even when no event comes.
    private func schedule(_ context: EntityContext) {
        let next = [state.unpaid.nextDeadline, state.ticketAfterAbandon.nextExpiry, state.bursts.nextExpiry].compactMap { $0 }.min()
        if let next { context.setTimer("patterns", at: next) } else { context.cancelTimer("patterns") }
    }
}

private func event(_ shopper: String, _ kind: String, _ id: String, minute: Double) -> JourneyEvent {
    JourneyEvent(shopper: shopper, kind: kind, id: id, at: EventTime(milliseconds: Int64(minute * 60_000)))
}

/// Replays `events` in the given (arrival) order, with two minutes of
/// allowed out-of-orderness.
private func run(_ events: [JourneyEvent]) async throws -> (alerts: [Alert], result: ReplayResult) {
    let replay = try Replay { topology in
        topology.route(
            topic: "journeys", to: Shopper.self, key: .field(\JourneyEvent.shopper),
            eventTime: .field(\JourneyEvent.at, outOfOrderness: .seconds(120))
        ) { shopper, event, context in
            try shopper.handle(event, in: context)
        }
    }
    let journal = try events.enumerated().map { try ReplayEvent(topic: "journeys", offset: Int64($0), key: $1.shopper, json: $1) }
    let result = try await replay.run(journal)
    #expect(result.failures.isEmpty, "no handler or timer failed: \(result.failures.prefix(2))")
    return (try result.outputs.map { try JSONDecoder().decode(Alert.self, from: Data($0.value)) }, result)
}

struct PatternTests {
    @Test func anAbandonedCartFollowedByATicketWithinThirtyMinutesMakesAnOffer() async throws {
        let (alerts, _) = try await run([
            event("ann", "cart-abandoned", "cart-1", minute: 0),
            event("bob", "cart-abandoned", "cart-2", minute: 1),
            event("ann", "ticket", "ticket-1", minute: 20),
            event("bob", "ticket", "ticket-2", minute: 40),  // 39 minutes: too late
        ])
        #expect(alerts == [Alert(kind: "offer", ids: ["cart-1", "ticket-1"])])
    }

    @Test func theTicketMayArriveBeforeTheCartEventItFollows() async throws {
        // The ticket (minute 10) arrives before the cart event (minute 9)
        // that it follows in event time, within the out-of-orderness.
        let (alerts, _) = try await run([
            event("ann", "ticket", "ticket-1", minute: 10),
            event("ann", "cart-abandoned", "cart-1", minute: 9),
        ])
        #expect(alerts == [Alert(kind: "offer", ids: ["cart-1", "ticket-1"])])
    }

    @Test func anOrderNotPaidWithinTenMinutesAlertsOnceWhenTheWatermarkPasses() async throws {
        let (alerts, result) = try await run([
            event("ann", "order", "order-1", minute: 0),
            event("ann", "order", "order-2", minute: 1),
            event("ann", "payment", "order-2", minute: 5),
            event("clock", "small-payment", "tick-1", minute: 11),  // watermark 9: nothing due yet
            event("clock", "small-payment", "tick-2", minute: 12.5),  // watermark 10.5: order-1 is due at 10
            event("clock", "small-payment", "tick-3", minute: 40),
        ])
        #expect(alerts == [Alert(kind: "unpaid", ids: ["order-1"])])
        let alerted = try #require(result.outputs.first)
        #expect(alerted.source.position >= 1 << 32, "a timer's output")
        #expect(result.pendingTimers[EntityID(type: "Shopper", key: "ann")] == nil, "nothing left to wait for")
    }

    @Test func aPaymentArrivingBeforeItsOrderSatisfiesIt() async throws {
        let (alerts, _) = try await run([
            event("ann", "payment", "order-1", minute: 3),
            event("ann", "order", "order-1", minute: 2),
            event("clock", "small-payment", "tick", minute: 60),
        ])
        #expect(alerts.isEmpty)
    }

    @Test func threeSmallPaymentsWithinTwoMinutesAreABurstInAnyArrivalOrder() async throws {
        let (alerts, _) = try await run([
            event("ann", "small-payment", "p1", minute: 10),
            event("ann", "small-payment", "p3", minute: 11.5),
            event("ann", "small-payment", "p2", minute: 10.5),  // completes p1, p2, p3
            event("ann", "small-payment", "p4", minute: 11.9),  // p1-p3 were used
            event("bob", "small-payment", "q1", minute: 10),
            event("bob", "small-payment", "q2", minute: 11),
            event("bob", "small-payment", "q3", minute: 12.5),  // 2.5 minutes: no burst
        ])
        #expect(alerts == [Alert(kind: "burst", ids: ["p1", "p2", "p3"])])
    }

    @Test func partialMatchesAreCleanedUpOnceTheyCannotComplete() async throws {
        var events: [JourneyEvent] = []
        for shopper in 0..<50 {
            events.append(event("s\(shopper)", "cart-abandoned", "c\(shopper)", minute: Double(shopper) / 10))
            events.append(event("s\(shopper)", "order", "o\(shopper)", minute: Double(shopper) / 10))
            events.append(event("s\(shopper)", "small-payment", "p\(shopper)", minute: Double(shopper) / 10))
        }
        events.append(event("clock", "small-payment", "tick", minute: 120))
        let (alerts, result) = try await run(events)
        #expect(alerts.filter { $0.kind == "unpaid" }.count == 50)
        let leftovers = try result.states.filter { id, bytes in
            let state = try JSONDecoder().decode(Shopper.State.self, from: Data(bytes))
            return id.key != "clock" && !state.isEmpty
        }
        #expect(leftovers.isEmpty, "every shopper's pattern state is empty once nothing can match")
        #expect(result.pendingTimers.keys.allSatisfy { $0.key == "clock" })
    }

    @Test func notFollowedByMatchesTheBruteForceReference() async {
        await propertyCheck(count: 80, input: Gen.int(in: 0...Int.max)) { seed in
            var random = SeededRandom(seed: UInt64(bitPattern: Int64(seed)))
            var events: [JourneyEvent] = []
            var clock = 0.0
            for _ in 0..<(10 + Int(random.next(upTo: 40))) {
                clock += Double(random.next(upTo: 120)) / 60
                let at = max(0, clock - Double(random.next(upTo: 120)) / 60)  // up to 2 minutes out of order
                let order = "o\(random.next(upTo: 8))"
                events.append(event("ann", random.next(upTo: 2) == 0 ? "order" : "payment", order, minute: at))
            }
            events.append(event("clock", "small-payment", "tick", minute: clock + 60))
            let (alerts, _) = try await run(events)
            // Reference: an order times out unless a payment with its id
            // lies within [order, order + 10 minutes] in event time.
            let payments = events.filter { $0.kind == "payment" }
            let expected = events.filter { $0.kind == "order" }.filter { order in
                !payments.contains { $0.id == order.id && order.at <= $0.at && $0.at - order.at <= .seconds(600) }
            }
            #expect(alerts.filter { $0.kind == "unpaid" }.count == expected.count)
            #expect(Set(alerts.filter { $0.kind == "unpaid" }.flatMap(\.ids)) == Set(expected.map(\.id)))
        }
    }
}
