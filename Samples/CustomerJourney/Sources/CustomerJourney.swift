import Shoal
import ShoalApp

/// Customer journeys on a stream of shop events: web sessions by
/// inactivity gap with a summary of each, and an offer for a customer who
/// abandoned a cart and then opened a support ticket within 30 minutes.
/// See the sample's README.
struct CustomerJourney: ShoalApplication {
    static let events = "customer-events"
    static let sessions = "session-summaries"
    static let offers = "journey-offers"

    static let topics: [EmbeddedBroker.Topic] = [
        .init(name: events, partitions: 8),
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
            topology.route(topic: events, to: Customer.self, key: .field(\.customer), eventTime: happened) { customer, event, context in
                try customer.handle(event, in: context)
            }
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
