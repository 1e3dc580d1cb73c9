import Shoal
import ShoalApp

/// Customer journeys on the shop's clicks, carts, orders and support
/// tickets: web sessions by inactivity gap with a summary of each, and an
/// offer for a customer who abandoned a cart and then opened a support
/// ticket within 30 minutes, worded for the customer's tier in the CRM's
/// profile table. See the sample's README.
struct CustomerJourney: ShoalApplication {
    static let clicks = "clicks"
    static let carts = "carts"
    static let orders = "orders"
    static let tickets = "tickets"
    /// The CRM's customer profiles, read as a table.
    static let profiles = "customer-profiles"
    static let sessions = "session-summaries"
    static let offers = "journey-offers"

    /// The journey's topics, co-partitioned: clicks lead.
    static let journeyTopics = [clicks, carts, orders, tickets]

    static let topics: [EmbeddedBroker.Topic] = journeyTopics.map { .init(name: $0, partitions: 8) } + [
        .init(name: profiles, partitions: 4),
        .init(name: sessions, partitions: 8),
        .init(name: offers, partitions: 4),
    ]

    /// Offers only: every session has a summary, far too many to print.
    static var alertTopics: [String] { [offers] }

    static var topology: Topology {
        Topology { topology in
            // Browsers and the help desk deliver events seconds late; later
            // than the tolerance they are still applied (a late ticket can
            // still find its abandoned cart), though a web event for a session
            // already closed is left out of it.
            let happened = EventTimePolicy<JourneyEvent>.field(\.at, outOfOrderness: JourneyRules.outOfOrderness, late: .apply)
            // Four co-partitioned topics feed one customer, merged by event time.
            for topic in journeyTopics {
                topology.route(topic: topic, to: Customer.self, key: .field(\.customer), eventTime: happened) { customer, event, context in
                    try customer.handle(event, in: context)
                }
            }
            topology.table(profiles)
        }
    }

    /// The topic an event comes on: the web shop writes clicks, cart
    /// changes and orders; the help desk writes tickets.
    static func topic(of event: JourneyEvent) -> String {
        switch event.kind {
        case .click: clicks
        case .cartAdd, .cartRemove: carts
        case .checkout: orders
        case .ticket: tickets
        }
    }

    static func load(seed: UInt64, count: Int) -> (any Sequence<LoadRecord>)? {
        JourneyLoad(seed: seed, count: count).records
    }
}

@main
enum CustomerJourneyMain {
    static func main() async {
        await ShoalApplicationMain.run(CustomerJourney.self)
    }
}
