import Distributed
import Foundation
import Shoal

/// One customer account: bursts of its low-value payments and impossible
/// travel. It also forwards each payment, keyed by card and by IP, to the
/// topics the card and IP entities read (Kafka's way to regroup a stream).
distributed actor Account: EventHandling {
    typealias ActorSystem = ShoalActorSystem

    struct State: Codable, Sendable {
        var payments = 0
        var bursts = LowValueBursts()
        var travel = TravelCheck()
    }

    var state = State()
    /// An account quiet for a day starts afresh.
    static var stateTimeToLive: Duration? { .seconds(24 * 3_600) }

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    func handle(_ payment: Payment, in context: EntityContext) throws {
        state.payments += 1
        try context.emit(topic: FraudDetection.byCard, key: payment.card, value: payment)
        try context.emit(topic: FraudDetection.byIP, key: payment.ip, value: payment)
        if let burst = state.bursts.add(payment, watermark: context.watermark) {
            try context.emitBurst(burst, subject: "account", after: payment)
        }
        if let (other, speed) = state.travel.add(payment, watermark: context.watermark) {
            let first = other.at < payment.at ? (other.payment, other.country) : (payment.id, payment.country)
            let second = other.at < payment.at ? (payment.id, payment.country) : (other.payment, other.country)
            try context.emitAlert(FraudAlert(
                rule: "impossible-travel", subject: "account", key: payment.account, payment: payment.id,
                payments: [first.0, second.0], at: payment.at,
                detail: "\(first.1) to \(second.1) at \(Int(speed)) km/h"
            ))
        }
    }

    /// Erasing an account: the card and the IP of each of its payments
    /// keep its key (the IP in its state, both in their journals).
    static func entitiesReferencing(after event: any Sendable) -> [EntityID] {
        guard let payment = event as? Payment else { return [] }
        return [EntityID(type: Card.entityType, key: payment.card), EntityID(type: IPAddress.entityType, key: payment.ip)]
    }
}

/// One card: bursts of low-value payments on it, from any account.
distributed actor Card: EventHandling {
    typealias ActorSystem = ShoalActorSystem

    var state = LowValueBursts()
    static var stateTimeToLive: Duration? { .seconds(3_600) }

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    func handle(_ payment: Payment, in context: EntityContext) throws {
        if let burst = state.add(payment, watermark: context.watermark) {
            try context.emitBurst(burst, subject: "card", after: payment)
        }
    }

    static func scrubbed(event: [UInt8], erasing erased: EntityID) -> [UInt8]? {
        Payment.scrubbed(event, erasing: erased)
    }
}

/// One IP address: bursts of low-value payments from it, and many accounts
/// using it.
distributed actor IPAddress: EventHandling {
    typealias ActorSystem = ShoalActorSystem

    struct State: Codable, Sendable {
        var bursts = LowValueBursts()
        var shared = SharedIP()
    }

    var state = State()
    static var stateTimeToLive: Duration? { .seconds(3_600) }

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    func handle(_ payment: Payment, in context: EntityContext) throws {
        if let burst = state.bursts.add(payment, watermark: context.watermark) {
            try context.emitBurst(burst, subject: "ip", after: payment)
        }
        if let newcomers = state.shared.add(payment, watermark: context.watermark) {
            try context.emitAlert(FraudAlert(
                rule: "shared-ip", subject: "ip", key: payment.ip, payment: payment.id,
                payments: newcomers.map(\.value), at: payment.at,
                detail: "\(newcomers.count) accounts within \(FraudRules.sharedIPSpan.components.seconds / 60) min"
            ))
        }
    }

    /// An erased account leaves the IP's list of accounts seen, under the
    /// name its journaled payments now carry: a replay of the journal
    /// comes to the same state.
    func scrub(erasing erased: EntityID) {
        guard erased.type == Account.entityType, let seen = state.shared.accounts.removeValue(forKey: erased.key) else { return }
        state.shared.accounts[Payment.erasedAccount] = max(seen, state.shared.accounts[Payment.erasedAccount] ?? seen)
    }

    static func scrubbed(event: [UInt8], erasing erased: EntityID) -> [UInt8]? {
        Payment.scrubbed(event, erasing: erased)
    }
}

extension Payment {
    /// The account an erased one is replaced by.
    static let erasedAccount = "erased"

    /// What a card or an IP journaled of a payment, with an erased
    /// account's key replaced; nil when it names another account.
    static func scrubbed(_ event: [UInt8], erasing erased: EntityID) -> [UInt8]? {
        guard erased.type == Account.entityType, var payment = try? JSONDecoder().decode(Payment.self, from: Data(event)),
              payment.account == erased.key else { return nil }
        payment.account = erasedAccount
        return try? Array(JSONEncoder().encode(payment))
    }
}

extension EntityContext {
    func emitAlert(_ alert: FraudAlert) throws {
        try emit(topic: FraudDetection.alerts, key: alert.key, value: alert)
    }

    func emitBurst(_ burst: [PatternEvent<String>], subject: String, after payment: Payment) throws {
        let span = Double((burst.last!.at - burst.first!.at).components.seconds)
        try emitAlert(FraudAlert(
            rule: "burst", subject: subject, key: key, payment: payment.id, payments: burst.map(\.value),
            at: payment.at, detail: "\(burst.count) payments under $\(FraudRules.lowValue / 100) within \(Int(span)) s"
        ))
    }
}
