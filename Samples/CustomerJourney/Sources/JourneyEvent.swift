import SampleSupport
import Shoal

/// One step of a customer's journey, keyed by customer: a page view (on
/// `clicks`), a cart change (`carts`), a checkout (`orders`) — web events,
/// which make sessions — or a support ticket (`tickets`, from the help
/// desk, outside sessions). `at` is when it happened (milliseconds since
/// the epoch).
struct JourneyEvent: Codable, Sendable, Hashable {
    enum Kind: String, Codable, Sendable {
        case click
        case cartAdd = "cart-add"
        case cartRemove = "cart-remove"
        case checkout
        case ticket
    }

    var kind: Kind
    /// The event's id (for a checkout, the order; for a ticket, the ticket).
    var id: String
    var customer: String
    var at: EventTime
    /// A click's page.
    var page: String?
    /// A cart change's product and units.
    var product: String?
    var quantity: Int?
    /// A ticket's subject.
    var subject: String?

    var isWebEvent: Bool { kind != .ticket }
}

/// What the sample writes to `session-summaries` when a session closes,
/// keyed by customer.
struct SessionSummary: Codable, Sendable, Hashable {
    var rule = "session"
    /// The customer.
    var key: String
    var start: EventTime
    /// The session's last event.
    var end: EventTime
    var events: Int
    var pageViews: Int
    var itemsAdded: Int
    var itemsRemoved: Int
    var checkouts: Int
    var outcome: SessionOutcome
    var detail: String
}

/// What the sample writes to `journey-offers`, keyed by customer: a cart
/// abandoned, then a support ticket within `JourneyRules.offerWithin`.
struct Offer: Codable, Sendable, Hashable {
    var rule = "offer"
    /// The customer.
    var key: String
    var ticket: String
    /// When the customer left the cart (the session's last event).
    var abandonedAt: EventTime
    var ticketAt: EventTime
    /// Units left in the cart.
    var items: Int
    var detail: String

    var finding: Finding { Finding(rule: rule, key: key) }
}

/// A customer's profile in the CRM, on the `customer-profiles` table.
struct CustomerProfile: Codable, Sendable, Hashable {
    /// `gold` customers get a voucher with their offer.
    var tier: String?
}

/// The sample's rules, in one place.
enum JourneyRules {
    /// A session ends after this long without a web event.
    static let sessionGap = Duration.seconds(600)
    /// A ticket at most this long after the abandonment earns an offer.
    static let offerWithin = Duration.seconds(1_800)
    /// How far out of order events arrive.
    static let outOfOrderness = Duration.seconds(30)
    /// A customer quiet for two hours starts afresh: no session or
    /// pending abandonment lasts that long.
    static let stateTimeToLive = Duration.seconds(7_200)
}
