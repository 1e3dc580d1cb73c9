import Shoal
import ShoalApp

/// Inventory alerts on the shop's orders and the warehouses' stock
/// movements: stock per SKU and warehouse, a low-stock alert and a reorder
/// once per crossing of the reorder point, and orders allocated to the
/// nearest warehouse that has the stock. See the sample's README.
struct InventoryAlerts: ShoalApplication {
    static let movements = "stock-movements"
    static let orders = "orders"
    static let allocations = "allocations"
    static let reorders = "reorders"
    static let alerts = "inventory-alerts"

    static let topics: [EmbeddedBroker.Topic] = [
        .init(name: movements, partitions: 8),
        .init(name: orders, partitions: 8),
        .init(name: allocations, partitions: 8),
        .init(name: reorders, partitions: 4),
        .init(name: alerts, partitions: 4),
    ]

    /// Reorders are printed too: there is one per crossing, as rare as the alerts.
    static var alertTopics: [String] { [alerts, reorders] }

    static var topology: Topology {
        Topology { topology in
            // Each topic's movements apply in the order they arrive, the two
            // topics merged by event time. A late movement still counts:
            // dropping it would leave the stock wrong for good.
            let carried = EventTimePolicy<StockMovement>.field(\.at, outOfOrderness: InventoryRules.outOfOrderness, late: .apply)
            // Two co-partitioned topics feed one SKU: its shard merges them by
            // event time, so an order placed after a count sees the count.
            for topic in [movements, orders] {
                topology.route(topic: topic, to: SKUStock.self, key: .field(\.sku), eventTime: carried) { sku, movement, context in
                    try sku.handle(movement, in: context)
                }
            }
        }
    }

    /// Orders come from the shop on their own topic; restocks and counts
    /// from the warehouses.
    static func topic(of movement: StockMovement) -> String {
        movement.kind == .order ? orders : movements
    }

    static func load(seed: UInt64, count: Int) -> (any Sequence<LoadRecord>)? {
        StockLoad(seed: seed, count: count).records
    }
}

@main
enum InventoryAlertsMain {
    static func main() async {
        await ShoalApplicationMain.run(InventoryAlerts.self)
    }
}
