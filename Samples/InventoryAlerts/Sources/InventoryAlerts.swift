import Shoal
import ShoalApp

/// Inventory alerts on a stream of stock movements: stock per SKU and
/// warehouse, a low-stock alert and a reorder once per crossing of the
/// reorder point, and orders allocated to the nearest warehouse that has
/// the stock. See the sample's README.
struct InventoryAlerts: ShoalApplication {
    static let movements = "stock-movements"
    static let allocations = "allocations"
    static let reorders = "reorders"
    static let alerts = "inventory-alerts"

    static let topics: [EmbeddedBroker.Topic] = [
        .init(name: movements, partitions: 8),
        .init(name: allocations, partitions: 8),
        .init(name: reorders, partitions: 4),
        .init(name: alerts, partitions: 4),
    ]

    /// Reorders are printed too: there is one per crossing, as rare as the alerts.
    static var alertTopics: [String] { [alerts, reorders] }

    static var topology: Topology {
        Topology { topology in
            // Stock follows the movements in the order they arrive; event time
            // is only carried into the outputs. A late movement still counts:
            // dropping it would leave the stock wrong for good.
            let carried = EventTimePolicy<StockMovement>.field(\.at, outOfOrderness: InventoryRules.outOfOrderness, late: .apply)
            topology.route(topic: movements, to: SKUStock.self, key: .field(\.sku), eventTime: carried) { sku, movement, context in
                try sku.handle(movement, in: context)
            }
        }
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
