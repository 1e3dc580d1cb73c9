import Foundation
import SampleSupport
import ShoalTesting
import Testing
@testable import CustomerJourney

@Suite struct CustomerJourneyTests {
    static let start = JourneyLoad.start.milliseconds
    static let minute: Int64 = 60_000

    /// Hand-written events on partition 0 of each journey topic (one shard), applied in the order given.
    static func run(_ events: [JourneyEvent]) async throws -> ReplayResult {
        // One partition of each topic: the offsets rise across them, in the order given.
        try await Replay(CustomerJourney.self).run(events.enumerated().map { index, event in
            try ReplayEvent(topic: CustomerJourney.topic(of: event), offset: Int64(index), key: event.customer, json: event)
        })
    }

    static func event(_ kind: JourneyEvent.Kind, _ customer: String, at milliseconds: Int64, id: String? = nil) -> JourneyEvent {
        JourneyEvent(
            kind: kind, id: id ?? "\(customer)-\(kind.rawValue)-\(milliseconds)", customer: customer,
            at: EventTime(milliseconds: start + milliseconds), quantity: kind == .cartAdd || kind == .cartRemove ? 1 : nil
        )
    }

    /// A customer who clicks at 0, adds a unit at 10 s and leaves.
    static func abandonedCart(_ customer: String) -> [JourneyEvent] {
        [event(.click, customer, at: 0), event(.cartAdd, customer, at: 10_000)]
    }

    @Test(arguments: [(UInt64(1), 20_000), (UInt64(7), 12_000)])
    func everyPlantedOfferIsMadeOnceAndNoCleanShopperGetsOne(seed: UInt64, count: Int) async throws {
        let load = JourneyLoad(seed: seed, count: count)
        #expect(load.records.count == count)
        #expect(load.expected.count >= count / JourneyLoad.casesEvery / JourneyLoad.Case.allCases.count)
        let replay = try Replay(CustomerJourney.self)
        let result = try await replay.runPipeline(replay.events(of: load.records), transitions: false)
        let findings = try result.findings(Offer.self, on: [CustomerJourney.offers]) { $0.finding }
        expectFoundOnce(load.expected, found: findings, extra: "offered but not planted", missing: "planted but not offered")
        #expect(result.failures.isEmpty, "\(result.failures.prefix(3))")
        #expect(result.lateEvents.isEmpty)
        // Every customer has one session: none is split, and each planted offer follows an abandoned cart.
        let summaries = try result.outputs(SessionSummary.self, topic: CustomerJourney.sessions)
        #expect(summaries.count > count / 20)
        #expect(Set(summaries.map(\.key)).count == summaries.count)
        let abandoned = Set(summaries.filter { $0.outcome == .abandoned }.map(\.key))
        #expect(Set(load.expected.map(\.key)).isSubset(of: abandoned))
    }

    @Test func aTicketThirtyMinutesAfterLeavingEarnsAnOfferAndAMillisecondLaterDoesNot() async throws {
        let left: Int64 = 10_000
        let result = try await Self.run(
            Self.abandonedCart("A") + Self.abandonedCart("B") + [
                Self.event(.ticket, "A", at: left + 30 * Self.minute, id: "tA"),
                Self.event(.ticket, "B", at: left + 30 * Self.minute + 1, id: "tB"),
            ]
        )
        let offers = try result.outputs(Offer.self, topic: CustomerJourney.offers)
        #expect(offers.map(\.finding) == [Finding(rule: "offer", key: "A")])
        #expect(offers.first?.abandonedAt == EventTime(milliseconds: Self.start + left))
        #expect(offers.first?.items == 1)
    }

    /// The CRM's profile decides the offer's wording: a gold customer gets
    /// a voucher, a standard one or one without a profile does not; a
    /// profile written after the customer's last event is not seen (the
    /// tier is read with each event).
    @Test func aGoldCustomersOfferAddsAVoucher() async throws {
        let left: Int64 = 10_000
        var journey = Self.abandonedCart("G") + Self.abandonedCart("S") + Self.abandonedCart("N") + Self.abandonedCart("L")
        journey += ["G", "S", "N", "L"].map { Self.event(.ticket, $0, at: left + 15 * Self.minute, id: "t\($0)") }
        var events = try journey.enumerated().map { index, event in
            try ReplayEvent(topic: CustomerJourney.topic(of: event), offset: Int64(index), key: event.customer, json: event)
        }
        let profile = { (customer: String, tier: String) in
            try ReplayEvent(topic: CustomerJourney.profiles, offset: 0, key: customer, json: CustomerProfile(tier: tier))
        }
        events.insert(contentsOf: [try profile("G", "gold"), try profile("S", "standard")], at: 0)
        events.append(try profile("L", "gold"))
        let result = try await Replay(CustomerJourney.self).run(events)
        let offers = Dictionary(uniqueKeysWithValues: try result.outputs(Offer.self, topic: CustomerJourney.offers).map { ($0.key, $0.detail) })
        #expect(offers.count == 4)
        #expect(offers["G"]?.hasSuffix("offer free shipping and a gold customer's voucher") == true, "\(offers)")
        #expect(["S", "N", "L"].allSatisfy { offers[$0]?.hasSuffix("offer free shipping") == true }, "\(offers)")
    }

    @Test func aTicketWaitsForTheSessionToCloseAndTheEarliestMatches() async throws {
        // C leaves at 60 s; the session closes at 11 min. Two tickets come
        // before that; D's click moves the watermark past the first ticket
        // in between: the first must still be kept, and it is the match.
        let result = try await Self.run([
            Self.event(.click, "C", at: 0), Self.event(.cartAdd, "C", at: 10_000), Self.event(.click, "C", at: 60_000),
            Self.event(.ticket, "C", at: 5 * Self.minute, id: "first"),
            Self.event(.click, "D", at: 8 * Self.minute),
            Self.event(.ticket, "C", at: 9 * Self.minute, id: "second"),
            Self.event(.click, "D", at: 20 * Self.minute),
        ])
        let offers = try result.outputs(Offer.self, topic: CustomerJourney.offers)
        #expect(offers.map(\.ticket) == ["first"])
        #expect(offers.map(\.key) == ["C"])
    }

    @Test func noOfferForATicketBeforeLeavingOrAfterACheckoutOrWithAnEmptyCart() async throws {
        let result = try await Self.run([
            // E opens a ticket while shopping, then leaves a unit in the cart.
            Self.event(.click, "E", at: 0), Self.event(.ticket, "E", at: 5_000), Self.event(.cartAdd, "E", at: 10_000),
            // F checks out, G takes the unit out again; both open tickets.
            Self.event(.cartAdd, "F", at: 0), Self.event(.checkout, "F", at: 20_000),
            Self.event(.cartAdd, "G", at: 0), Self.event(.cartRemove, "G", at: 20_000),
            Self.event(.ticket, "F", at: 15 * Self.minute), Self.event(.ticket, "G", at: 15 * Self.minute),
        ])
        #expect(try result.outputs(Offer.self, topic: CustomerJourney.offers).isEmpty)
        let outcomes = try result.outputs(SessionSummary.self, topic: CustomerJourney.sessions).map { "\($0.key) \($0.outcome.rawValue)" }
        #expect(outcomes.sorted() == ["E abandoned", "F checked-out", "G browsed"])
    }

    @Test func theGapSplitsSessionsAndALateEventBridgingThemMergesThem() async throws {
        // H: 11 min between two clicks: two sessions. I: 10 min 20 s apart,
        // then a click at 5 min, late but before the first session closed
        // (the watermark is at 9 min 50 s), joins them.
        let result = try await Self.run([
            Self.event(.click, "H", at: 0), Self.event(.click, "I", at: 0),
            Self.event(.click, "I", at: 10 * Self.minute + 20_000), Self.event(.click, "I", at: 5 * Self.minute),
            Self.event(.click, "H", at: 11 * Self.minute),
            Self.event(.click, "J", at: 40 * Self.minute),
        ])
        let summaries = try result.outputs(SessionSummary.self, topic: CustomerJourney.sessions)
        #expect(summaries.filter { $0.key == "H" }.map(\.events) == [1, 1])
        #expect(summaries.filter { $0.key == "I" }.map(\.events) == [3])
        #expect(summaries.first { $0.key == "I" }?.end == EventTime(milliseconds: Self.start + 10 * Self.minute + 20_000))
    }

    @Test func theGoldenJournalReplaysAsRecorded() async throws {
        try await expectGoldenReplay(of: CustomerJourney.self, sample: "CustomerJourney", seed: 42, count: 400)
    }

    @Test func theSameSeedGivesTheSameEvents() {
        #expect(JourneyLoad(seed: 5, count: 3_000).records == JourneyLoad(seed: 5, count: 3_000).records)
        #expect(JourneyLoad(seed: 5, count: 3_000).records != JourneyLoad(seed: 6, count: 3_000).records)
        #expect(JourneyLoad(seed: 5, count: 3_000).expected == JourneyLoad(seed: 5, count: 3_000).expected)
    }
}
