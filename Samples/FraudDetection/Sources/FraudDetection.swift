import Shoal
import ShoalApp

/// Fraud detection on a stream of card payments: bursts of low-value
/// payments per account, card or IP; one IP used by many accounts;
/// impossible travel. See the sample's README.
struct FraudDetection: ShoalApplication {
    static let payments = "payments"
    static let byCard = "payments-by-card"
    static let byIP = "payments-by-ip"
    static let alerts = "fraud-alerts"

    static let topics: [EmbeddedBroker.Topic] = [
        .init(name: payments, partitions: 8),
        .init(name: byCard, partitions: 8),
        .init(name: byIP, partitions: 8),
        .init(name: alerts, partitions: 4),
    ]

    static var alertTopics: [String] { [alerts] }

    static let topology = Topology { topology in
        // The gateway delivers payments up to half a minute out of order;
        // later ones go to the dead-letter topic.
        let delivered = EventTimePolicy<Payment>.field(\.at, outOfOrderness: FraudRules.outOfOrderness, late: .deadLetter)
        topology.route(topic: payments, to: Account.self, key: .field(\.account), eventTime: delivered)
        // A regrouped topic interleaves what every account shard forwarded,
        // each shard at its own pace: its partitions are further out of
        // order, and a late payment still counts.
        let regrouped = EventTimePolicy<Payment>.field(\.at, outOfOrderness: FraudRules.regroupedOutOfOrderness, late: .apply)
        topology.route(topic: byCard, to: Card.self, key: .field(\.card), eventTime: regrouped)
        topology.route(topic: byIP, to: IPAddress.self, key: .field(\.ip), eventTime: regrouped)
    }

    static func load(seed: UInt64, count: Int) -> (any Sequence<LoadRecord>)? {
        PaymentLoad(seed: seed, count: count).records
    }
}

@main
enum FraudDetectionMain {
    static func main() async {
        await ShoalApplicationMain.run(FraudDetection.self)
    }
}
