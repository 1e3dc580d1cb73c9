import SampleSupport
import Shoal

/// The sample's seeded payments: clean traffic with cases of fraud planted
/// in it, delivered up to 15 s out of order. The same seed and count give
/// the same payments, and `expected` lists what must be caught.
///
/// Clean accounts each have their own card and IP, stay in their country,
/// and pay at most once a minute, so no rule can flag them. About one
/// case in 2,000 payments (at least one of each kind) is planted:
/// - an account burst: six low-value payments in 100 s, each with another
///   card from another IP (a taken-over account draining stored cards);
/// - a card burst: six low-value payments in 100 s on one card from six
///   accounts and IPs (card testing);
/// - an IP burst: two accounts, three low-value payments each, one IP;
/// - a shared IP: six accounts paying ordinary amounts from one IP in 8 min;
/// - impossible travel: an account paying from two countries 20 min apart.
struct PaymentLoad {
    static let start = EventTime(milliseconds: 1_767_225_600_000) // 2026-01-01T00:00:00Z
    /// Event time between two payments: twenty a second.
    static let spacing: Int64 = 50
    /// Clean accounts: enough that each can keep a minute between payments.
    static let accounts = 5_000
    static let minimumGap: Int64 = 60_000
    static let casesEvery = 2_000

    enum Case: CaseIterable {
        case accountBurst, cardBurst, ipBurst, sharedIP, travel

        var payments: Int { self == .travel ? 2 : 6 }
    }

    private(set) var records: [LoadRecord] = []
    private(set) var expected: Set<Finding> = []
    private var random: SeededRandom
    private var payments = DeliveryQueue<Payment>()
    private var planted = 0

    init(seed: UInt64, count: Int) {
        random = SeededRandom(seed: seed)
        let kinds = Planting.kinds(Case.self, count: count, every: Self.casesEvery)
        let plantedCount = kinds.reduce(0) { $0 + $1.payments }
        let duration = Int64(count) * Self.spacing
        addClean(count - plantedCount)
        for (index, kind) in kinds.enumerated() {
            plant(kind, at: Planting.time(of: index, among: kinds.count, start: Self.start.milliseconds, duration: duration))
        }
        // Delivered in the order the gateway sends them: up to 15 s late.
        records = payments.records(topic: FraudDetection.payments, key: \.account) { $0.id < $1.id }
    }

    private mutating func addClean(_ count: Int) {
        let accounts = Self.accounts
        var lastPaid = [Int64](repeating: .min / 2, count: accounts)
        let homes = (0..<accounts).map { _ in random.pick(Countries.codes) }
        for index in 0..<count {
            let at = Self.start.milliseconds + Int64(index) * Self.spacing
            var account = random.int(in: 0...(accounts - 1))
            while at - lastPaid[account] < Self.minimumGap { account = random.int(in: 0...(accounts - 1)) }
            lastPaid[account] = at
            let amount = random.chance(0.35) ? random.int(in: 300...1_999) : random.int(in: 2_000...60_000)
            add(Payment(
                id: paymentID(), account: Self.name("acct", account), card: Self.name("card", account),
                ip: Self.address(account), country: homes[account], amount: amount, at: EventTime(milliseconds: at)
            ))
        }
    }

    private mutating func plant(_ kind: Case, at time: Int64) {
        planted += 1
        let tag = 900_000 + planted * 10
        let country = random.pick(Countries.codes)
        func small(_ r: inout SeededRandom) -> Int { r.int(in: 100...1_500) }
        for index in 0..<kind.payments {
            let offset = Int64(index) * 20_000
            var payment = Payment(
                id: paymentID(), account: Self.name("acct", tag + index), card: Self.name("card", tag + index),
                ip: Self.address(tag + index), country: country, amount: small(&random), at: EventTime(milliseconds: time + offset)
            )
            switch kind {
            case .accountBurst:
                payment.account = Self.name("acct", tag)
                expected.insert(Finding(rule: "burst", subject: "account", key: payment.account))
            case .cardBurst:
                payment.card = Self.name("card", tag)
                expected.insert(Finding(rule: "burst", subject: "card", key: payment.card))
            case .ipBurst:
                payment.account = Self.name("acct", tag + index % 2)
                payment.card = Self.name("card", tag + index % 2)
                payment.ip = Self.address(tag)
                expected.insert(Finding(rule: "burst", subject: "ip", key: payment.ip))
            case .sharedIP:
                payment.ip = Self.address(tag)
                payment.amount = random.int(in: 2_500...20_000)
                payment.at = EventTime(milliseconds: time + Int64(index) * 90_000)
                expected.insert(Finding(rule: "shared-ip", subject: "ip", key: payment.ip))
            case .travel:
                payment.account = Self.name("acct", tag)
                payment.card = Self.name("card", tag)
                payment.ip = Self.address(tag + index)
                payment.amount = random.int(in: 2_500...20_000)
                payment.country = index == 0 ? "US" : "JP"
                payment.at = EventTime(milliseconds: time + Int64(index) * 1_200_000)
                expected.insert(Finding(rule: "impossible-travel", subject: "account", key: payment.account))
            }
            add(payment)
        }
    }

    private mutating func add(_ payment: Payment) {
        payments.add(payment, deliveredAt: payment.at.milliseconds + Int64(random.int(in: 0...15_000)))
    }

    private mutating func paymentID() -> String {
        "pay-" + String(random.next() & 0xFFFF_FFFF_FFFF, radix: 16)
    }

    static func name(_ prefix: String, _ number: Int) -> String { paddedID(prefix, number) }

    static func address(_ number: Int) -> String {
        "10.\(number >> 16 & 255).\(number >> 8 & 255).\(number & 255)"
    }
}
