import SampleSupport
import Shoal

/// A change to one SKU's stock, as the commerce platform writes it to
/// `stock-movements`, keyed by SKU so that one entity sees every change to
/// a SKU in order. `at` is when it happened (milliseconds since the epoch).
struct StockMovement: Codable, Sendable, Hashable {
    enum Kind: String, Codable, Sendable {
        /// A customer ordered `quantity` units, delivered to `region`.
        case order
        /// `warehouse` received `quantity` units.
        case restock
        /// A count found `levels` units in each listed warehouse (it
        /// replaces what the SKU knew about those warehouses).
        case stockCount = "stock-count"
    }

    var kind: Kind
    var id: String
    var sku: String
    var quantity: Int?
    /// An order's delivery region (a metro area code, see `Geography`).
    var region: String?
    /// A restock's warehouse.
    var warehouse: String?
    /// A stock count's units per warehouse.
    var levels: [String: Int]?
    var at: EventTime
}

/// Where an order goes: written to `allocations`, keyed by the warehouse
/// that picks it, so that each warehouse reads its picks in order.
struct Allocation: Codable, Sendable, Hashable {
    var rule = "allocation"
    /// The order.
    var key: String
    var sku: String
    var quantity: Int
    var region: String
    var warehouse: String
    var distanceKm: Int
    /// The nearest warehouse to the region, whether or not it had the stock.
    var nearest: String
    /// True when the nearest warehouse lacked the stock.
    var rerouted: Bool
    var at: EventTime
    var detail: String
}

/// What the sample writes to `inventory-alerts` (`low-stock`, `backorder`)
/// and to `reorders` (`reorder`), keyed by `key`: the SKU and warehouse
/// (`SKU-10042@WH-NJ`) for stock rules, the order for a backorder.
struct InventoryAlert: Codable, Sendable, Hashable {
    var rule: String
    var key: String
    var sku: String
    var warehouse: String?
    /// The order that caused it.
    var order: String
    /// Units left (low stock), to buy (reorder) or ordered (backorder).
    var quantity: Int
    var at: EventTime
    var detail: String

    var finding: Finding { Finding(rule: rule, key: key) }
}

/// The sample's thresholds, in one place.
enum InventoryRules {
    /// Stock at or below this many units is low: time to reorder.
    static let reorderPoint = 20
    /// A reorder buys what brings the warehouse back to this level.
    static let targetLevel = 300
    /// How far out of order movements arrive (only reported, see the route).
    static let outOfOrderness = Duration.seconds(30)

    /// The key of the stock rules: one SKU in one warehouse.
    static func stockKey(sku: String, warehouse: String) -> String { "\(sku)@\(warehouse)" }
}
