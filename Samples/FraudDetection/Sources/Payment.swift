import SampleSupport
import Shoal

/// A card payment, as the payment gateway writes it to `payments` (keyed by
/// account). Amounts are in cents; `at` is when the payment was made
/// (milliseconds since the epoch), which may be up to seconds before the
/// gateway delivers it.
struct Payment: Codable, Sendable, Hashable {
    var id: String
    var account: String
    var card: String
    var ip: String
    /// ISO 3166 code of the country the payment was made from.
    var country: String
    var amount: Int
    var at: EventTime
}

/// What the sample writes to `fraud-alerts`, keyed by the subject's key.
struct FraudAlert: Codable, Sendable, Hashable {
    /// `burst`, `shared-ip` or `impossible-travel`.
    var rule: String
    /// `account`, `card` or `ip`: whose behaviour raised it.
    var subject: String
    var key: String
    /// The payment that completed the case (the alert follows it at once).
    var payment: String
    /// Every payment of the case, earliest first.
    var payments: [String]
    var at: EventTime
    var detail: String

    /// What a planted case is checked by: which rule caught which subject.
    var finding: Finding { Finding(rule: rule, subject: subject, key: key) }
}

/// The sample's thresholds, in one place.
enum FraudRules {
    /// A payment below this many cents is "low-value" (card testing, draining).
    static let lowValue = 2_000
    /// A burst: this many low-value payments of one subject...
    static let burstCount = 5
    /// ...within this span of event time.
    static let burstSpan = Duration.seconds(120)
    /// A shared IP: this many accounts paying from one IP...
    static let sharedIPAccounts = 5
    /// ...within this span.
    static let sharedIPSpan = Duration.seconds(600)
    /// Faster than this between two payments of one account is impossible travel.
    static let travelSpeedKmH = 1_000.0
    /// How far back an account's payments are compared for travel.
    static let travelHorizon = Duration.seconds(12 * 3_600)
    /// How far out of order the gateway delivers payments.
    static let outOfOrderness = Duration.seconds(30)
    /// How far out of order the regrouped topics (by card, by IP) may be:
    /// account shards forward at their own pace, and a demo produces a day
    /// of payments in minutes.
    static let regroupedOutOfOrderness = Duration.seconds(3_600)
}
