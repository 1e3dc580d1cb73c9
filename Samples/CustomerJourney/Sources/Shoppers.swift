import Shoal

/// The clean part of the journeys: a new shopper every 200–600 ms, each
/// one session with 5–120 s between web events (never near the gap, so a
/// session never splits), each customer once. None can earn an offer:
/// - browsers (40%) click 2–10 pages; 5% open a ticket 2–60 min later;
/// - buyers (30%) add to the cart and check out; 10% open a ticket 5–90
///   min later;
/// - shoppers who change their mind (10%) add units and take them out
///   again, so nothing is left to abandon; 30% open a ticket 1–29 min
///   later;
/// - abandoners (20%) leave units in the cart; 5% open a ticket, but 35–90
///   min later, past the offer's 30 minutes.
/// The last journey is cut short to fit the count; cutting from the end
/// can only lose a checkout together with every later event (the ticket
/// comes last), which leaves an abandoner without a ticket.
struct Shoppers {
    private(set) var events: [JourneyEvent] = []
    /// When the last journey began.
    private(set) var lastStart: Int64 = 0
    private var random: SeededRandom
    private var customers: Set<Int> = []

    init(count: Int, start: Int64, random: inout SeededRandom) {
        self.random = random
        defer { random = self.random }
        var at = start
        while events.count < count {
            var journey = Journey(customer: freshCustomer(), at: at, random: self.random)
            Self.shop(&journey)
            self.random = journey.random
            events += journey.events.prefix(count - events.count)
            lastStart = at
            at += Int64(self.random.int(in: 200...600))
        }
    }

    private mutating func freshCustomer() -> String {
        var number = random.int(in: 1...8_999_999)
        while !customers.insert(number).inserted { number = random.int(in: 1...8_999_999) }
        return JourneyLoad.customer(number)
    }

    private static func shop(_ journey: inout Journey) {
        let browsing = 5...120
        let kind = journey.draw(1...100)
        for _ in 0..<journey.draw(kind <= 40 ? 2...10 : 1...5) { journey.click(then: browsing) }
        switch kind {
        case 1...40:
            if journey.draw(1...100) <= 5 { journey.ticket(after: minutes(&journey, 2...60), "Question about sizes") }
        case 41...70:
            for _ in 0..<journey.draw(1...2) { journey.add(units: journey.draw(1...2), then: browsing) }
            journey.checkout(then: 0...0)
            if journey.draw(1...100) <= 10 { journey.ticket(after: minutes(&journey, 5...90), "Where is my order?") }
        case 71...80:
            let units = journey.draw(1...3)
            journey.add(units: units, then: browsing)
            journey.click(then: browsing)
            journey.remove(units: units, then: browsing)
            journey.click(then: 0...0)
            if journey.draw(1...100) <= 30 { journey.ticket(after: minutes(&journey, 1...29), "Do you ship abroad?") }
        default:
            journey.add(units: journey.draw(1...3), then: browsing)
            journey.click(then: 0...0)
            if journey.draw(1...100) <= 5 { journey.ticket(after: minutes(&journey, 35...90), "Is this jacket waterproof?") }
        }
    }

    /// A delay in seconds, anywhere from the first to the last of `range` minutes.
    private static func minutes(_ journey: inout Journey, _ range: ClosedRange<Int>) -> Int64 {
        Int64(journey.draw(range.lowerBound * 60...range.upperBound * 60))
    }
}
