import SampleSupport
import Shoal

/// The sample's seeded stock movements: clean trading with cases planted in
/// it, delivered up to 5 s out of order. The same seed and count give the
/// same movements, and `expected` lists what must be found.
///
/// Clean trading cannot raise anything: the day opens with a stock count
/// of 300–500 units of each clean SKU in every warehouse; orders take 1–3
/// units from the region's nearest warehouse; and as soon as a warehouse's
/// stock of a SKU would fall below `refillBelow` (far above the reorder
/// point) a restock of 400 units follows one second later. The few orders
/// a restock can trail by (delivery reorders only seconds) take far fewer
/// units than that margin, so no clean warehouse ever runs low, short or
/// out. About one case in 2,000 movements (at least one of each kind) is
/// planted, each on a SKU of its own, steps 10 s apart so that delivery
/// keeps their order:
/// - a drain: a flash sale takes a warehouse from 60 units to 12 in eight
///   orders (one crossing: a low-stock alert and a reorder), a restock
///   brings it back, and two more orders leave it well above the point;
/// - a reroute: the region's nearest warehouse has none, the next one has
///   200: the order goes there;
/// - a bulk order: 50 units when no warehouse has more than 40 (a
///   backorder), then an order of 5 that is filled.
struct StockLoad {
    static let start = EventTime(milliseconds: 1_767_225_600_000) // 2026-01-01T00:00:00Z
    /// Event time between two clean orders: twenty a second.
    static let spacing: Int64 = 50
    /// Clean orders begin this long after the opening stock count.
    static let openingLead: Int64 = 10_000
    static let casesEvery = 2_000
    /// A clean warehouse is restocked when its stock would fall below this.
    static let refillBelow = 150
    static let refill = 400
    static let maximumDelay = 5_000

    enum Case: CaseIterable {
        case drain, reroute, bulkOrder

        var movements: Int {
            switch self {
            case .drain: 12
            case .reroute: 2
            case .bulkOrder: 3
            }
        }
    }

    private(set) var records: [LoadRecord] = []
    private(set) var expected: Set<Finding> = []
    private var random: SeededRandom
    private var movements = DeliveryQueue<StockMovement>()
    private var planted = 0
    private var sequence = 0

    init(seed: UInt64, count: Int) {
        random = SeededRandom(seed: seed)
        let kinds = Planting.kinds(Case.self, count: count, every: Self.casesEvery)
        let plantedCount = kinds.reduce(0) { $0 + $1.movements }
        let duration = Self.openingLead + Int64(count) * Self.spacing
        addClean(count - plantedCount)
        for (index, kind) in kinds.enumerated() {
            plant(kind, at: Planting.time(of: index, among: kinds.count, start: Self.start.milliseconds, duration: duration))
        }
        records = movements.records(topic: InventoryAlerts.topic(of:), key: \.sku) { $0.id < $1.id }
    }

    // MARK: Clean trading

    private mutating func addClean(_ count: Int) {
        guard count > 0 else { return }
        // Enough SKUs that each warehouse's share of a SKU's orders is a few a minute.
        let skus = (0..<min(count, max(4, min(100, count / 200)))).map { Self.sku(10_001 + $0) }
        var stock: [String: [String: Int]] = [:]
        for sku in skus {
            let levels = Dictionary(uniqueKeysWithValues: Geography.warehouses.map { ($0.code, random.int(in: 300...500)) })
            stock[sku] = levels
            add(StockMovement(kind: .stockCount, id: movementID("cnt"), sku: sku, levels: levels, at: Self.start), delayed: false)
        }
        var index: Int64 = 0
        while movements.count < count {
            let at = Self.start.milliseconds + Self.openingLead + index * Self.spacing
            index += 1
            let sku = random.pick(skus)
            let region = random.pick(Geography.regions).code
            let quantity = random.chance(0.6) ? 1 : random.chance(0.6) ? 2 : 3
            add(order(sku, quantity, region, at: at))
            let nearest = Geography.byDistance[region]![0].warehouse
            stock[sku]![nearest]! -= quantity
            if stock[sku]![nearest]! < Self.refillBelow, movements.count < count {
                stock[sku]![nearest]! += Self.refill
                add(restock(sku, Self.refill, at: nearest, time: at + 1_000))
            }
        }
    }

    // MARK: Planted cases

    private mutating func plant(_ kind: Case, at time: Int64) {
        planted += 1
        let sku = Self.sku(90_000 + planted)
        let region = random.pick(Geography.regions).code
        let ranked = Geography.byDistance[region]!.map(\.warehouse)
        let (nearest, second) = (ranked[0], ranked[1])
        var step: Int64 = 0
        func next() -> Int64 {
            defer { step += 1 }
            return time + step * 10_000
        }
        switch kind {
        case .drain:
            add(stockCount(sku, [nearest: 60, second: 150], at: next()))
            for _ in 0..<8 { add(order(sku, 6, region, at: next())) }
            add(restock(sku, 150, at: nearest, time: next()))
            for _ in 0..<2 { add(order(sku, 6, region, at: next())) }
            let key = InventoryRules.stockKey(sku: sku, warehouse: nearest)
            expected.formUnion([Finding(rule: "low-stock", key: key), Finding(rule: "reorder", key: key)])
        case .reroute:
            add(stockCount(sku, [nearest: 0, second: 200], at: next()))
            let rerouted = order(sku, 2, region, at: next())
            add(rerouted)
            expected.insert(Finding(rule: "rerouted", key: rerouted.id))
        case .bulkOrder:
            add(stockCount(sku, [nearest: 40, second: 40], at: next()))
            let bulk = order(sku, 50, region, at: next())
            add(bulk)
            add(order(sku, 5, region, at: next()))
            expected.insert(Finding(rule: "backorder", key: bulk.id))
        }
    }

    // MARK: Movements

    private mutating func order(_ sku: String, _ quantity: Int, _ region: String, at time: Int64) -> StockMovement {
        StockMovement(kind: .order, id: movementID("ord"), sku: sku, quantity: quantity, region: region, at: EventTime(milliseconds: time))
    }

    private mutating func restock(_ sku: String, _ quantity: Int, at warehouse: String, time: Int64) -> StockMovement {
        StockMovement(kind: .restock, id: movementID("rcv"), sku: sku, quantity: quantity, warehouse: warehouse, at: EventTime(milliseconds: time))
    }

    private mutating func stockCount(_ sku: String, _ levels: [String: Int], at time: Int64) -> StockMovement {
        StockMovement(kind: .stockCount, id: movementID("cnt"), sku: sku, levels: levels, at: EventTime(milliseconds: time))
    }

    /// Adds a movement, delivered up to `maximumDelay` after it happened
    /// (the opening count is delivered at once, before any order).
    private mutating func add(_ movement: StockMovement, delayed: Bool = true) {
        let delay = delayed ? Int64(random.int(in: 0...Self.maximumDelay)) : 0
        movements.add(movement, deliveredAt: movement.at.milliseconds + delay)
    }

    /// Ids numbered in the order movements are made: unique, and the same for the same seed.
    private mutating func movementID(_ prefix: String) -> String {
        sequence += 1
        return paddedID(prefix, sequence)
    }

    static func sku(_ number: Int) -> String { "SKU-" + String(number) }
}
