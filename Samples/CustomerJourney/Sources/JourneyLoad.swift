import SampleSupport
import Shoal

/// The sample's seeded journeys: clean shoppers (see `Shoppers`) with
/// cases planted among them, delivered up to 5 s out of order. The same
/// seed and count give the same events, and `expected` lists the offers
/// that must be made.
///
/// About one case in 2,000 events (at least one of each kind) is planted,
/// each on a customer of its own, one session with 20–60 s between its
/// events:
/// - an offer: two units left in the cart, a ticket 11–29 minutes later
///   (always past the gap and the out-of-orderness, so the ticket's own
///   time closes the session even when no other customer of the partition
///   moves the watermark);
/// - a late ticket: the same, but 31–45 minutes later: no offer;
/// - a checkout, then a ticket 15 minutes later: nothing was abandoned;
/// - a ticket while still shopping, then the cart left: the ticket came
///   before the abandonment, not after it.
struct JourneyLoad {
    static let start = EventTime(milliseconds: 1_767_225_600_000) // 2026-01-01T00:00:00Z
    static let casesEvery = 2_000
    static let maximumDelay = 5_000

    enum Case: CaseIterable {
        case offer, lateTicket, checkedOut, ticketWhileShopping

        var events: Int { self == .ticketWhileShopping ? 5 : 6 }
    }

    private(set) var records: [LoadRecord] = []
    private(set) var expected: Set<Finding> = []
    private var random: SeededRandom
    private var events = DeliveryQueue<JourneyEvent>()
    private var planted = 0

    init(seed: UInt64, count: Int) {
        random = SeededRandom(seed: seed)
        let kinds = Planting.kinds(Case.self, count: count, every: Self.casesEvery)
        let plantedCount = kinds.reduce(0) { $0 + $1.events }
        // Each planted customer has a CRM profile, written before any event.
        let clean = Shoppers(count: count - plantedCount - kinds.count, start: Self.start.milliseconds, random: &random)
        for event in clean.events { add(event) }
        let duration = max(clean.lastStart - Self.start.milliseconds, 60_000)
        for (index, kind) in kinds.enumerated() {
            plant(kind, at: Planting.time(of: index, among: kinds.count, start: Self.start.milliseconds, duration: duration))
        }
        records = profiles + events.records(topic: CustomerJourney.topic(of:), key: \.customer) { $0.id < $1.id }
    }

    private var profiles: [LoadRecord] = []

    private mutating func plant(_ kind: Case, at time: Int64) {
        planted += 1
        var journey = Journey(customer: Self.customer(9_000_000 + planted), at: time, random: random)
        // Gold and standard customers take turns by rounds of the four
        // cases, so that offers go to both.
        let profile = CustomerProfile(tier: (planted - 1) / Case.allCases.count % 2 == 0 ? "gold" : "standard")
        profiles.append(try! LoadRecord(topic: CustomerJourney.profiles, key: journey.customer, json: profile))
        defer { random = journey.random }
        journey.click(then: 20...60)
        if kind == .ticketWhileShopping {
            journey.ticket(after: 30, "Which size should I order?")
        } else {
            journey.click(then: 20...60)
        }
        journey.click(then: 20...60)
        journey.add(units: 2, then: 20...60)
        switch kind {
        case .offer:
            journey.click(then: 0...0)
            journey.ticket(after: Int64(journey.draw(11 * 60...29 * 60)), "My discount code was not accepted")
            expected.insert(Finding(rule: "offer", key: journey.customer))
        case .lateTicket:
            journey.click(then: 0...0)
            journey.ticket(after: Int64(journey.draw(31 * 60...45 * 60)), "My discount code was not accepted")
        case .checkedOut:
            journey.checkout(then: 0...0)
            journey.ticket(after: 15 * 60, "When will my order arrive?")
        case .ticketWhileShopping:
            journey.click(then: 0...0)
        }
        assert(journey.events.count == kind.events, "\(kind) plants \(journey.events.count) events")
        for event in journey.events { add(event) }
    }

    /// Adds an event, delivered up to `maximumDelay` after it happened.
    private mutating func add(_ event: JourneyEvent) {
        events.add(event, deliveredAt: event.at.milliseconds + Int64(random.int(in: 0...Self.maximumDelay)))
    }

    static func customer(_ number: Int) -> String { paddedID("cust", number) }
}

/// One customer's events, written step by step: each step happens at the
/// journey's clock, which then moves on by the step's pause.
struct Journey {
    let customer: String
    var at: Int64
    var random: SeededRandom
    private(set) var events: [JourneyEvent] = []
    private var steps = 0
    private var lastProduct: String?

    init(customer: String, at: Int64, random: SeededRandom) {
        self.customer = customer
        self.at = at
        self.random = random
    }

    /// The time of the journey's last web event.
    private(set) var lastWebEvent: Int64?

    /// A number drawn from the journey's generator.
    mutating func draw(_ range: ClosedRange<Int>) -> Int { random.int(in: range) }

    mutating func click(then pause: ClosedRange<Int>) {
        var page = random.pick(Self.pages)
        if page.hasSuffix("/") { page += String(random.int(in: 10_000...99_999)) }
        web(.click, page: page, then: pause)
    }

    mutating func add(units: Int, then pause: ClosedRange<Int>) {
        let product = "sku-" + String(random.int(in: 10_000...99_999))
        lastProduct = product
        web(.cartAdd, product: product, quantity: units, then: pause)
    }

    /// Takes units of the product added last out of the cart.
    mutating func remove(units: Int, then pause: ClosedRange<Int>) {
        web(.cartRemove, product: lastProduct, quantity: units, then: pause)
    }

    mutating func checkout(then pause: ClosedRange<Int>) {
        web(.checkout, then: pause)
    }

    /// A ticket `seconds` after the last web event (the journey's clock stays).
    mutating func ticket(after seconds: Int64, _ subject: String) {
        let time = (lastWebEvent ?? at) + seconds * 1_000
        events.append(JourneyEvent(kind: .ticket, id: id("tkt"), customer: customer, at: EventTime(milliseconds: time), subject: subject))
    }

    private mutating func web(
        _ kind: JourneyEvent.Kind, page: String? = nil, product: String? = nil, quantity: Int? = nil, then pause: ClosedRange<Int>
    ) {
        let prefix = kind == .checkout ? "ord" : "evt"
        events.append(JourneyEvent(
            kind: kind, id: id(prefix), customer: customer, at: EventTime(milliseconds: at), page: page, product: product, quantity: quantity
        ))
        lastWebEvent = at
        at += Int64(random.int(in: pause)) * 1_000
    }

    private mutating func id(_ prefix: String) -> String {
        steps += 1
        return prefix + "-" + customer.dropFirst(5) + "-" + String(steps)
    }

    /// Pages a shopper views; those ending in "/" are followed by a product number.
    static let pages = [
        "/", "/search?q=boots", "/search?q=rain+jacket", "/category/shoes", "/category/jackets",
        "/product/", "/product/", "/product/", "/product/", "/reviews/", "/help/shipping", "/help/returns",
    ]
}
