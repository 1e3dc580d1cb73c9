/// One warehouse's stock of one SKU, and whether it sits at or below the
/// reorder point. Only a fall from above the point to at or below it is a
/// crossing: stock that stays low raises nothing more, and stock that
/// starts low (a warehouse that never held the SKU) was never above it.
struct WarehouseStock: Codable, Sendable, Hashable {
    var units = 0
    var isLow = true

    /// Moves the stock by `delta` units; true when this move crossed the
    /// reorder point downwards (rising back above it re-arms the rule).
    mutating func move(by delta: Int) -> Bool {
        set(to: units + delta)
    }

    /// Sets the stock to `level` units (a stock count), with the same rule.
    mutating func set(to level: Int) -> Bool {
        units = level
        guard units <= InventoryRules.reorderPoint else {
            isLow = false
            return false
        }
        defer { isLow = true }
        return !isLow
    }
}

/// A SKU's stock in every warehouse that holds it, and where its orders go.
struct SKUInventory: Codable, Sendable, Hashable {
    var warehouses: [String: WarehouseStock] = [:]

    /// Where an order of `quantity` units for `region` is picked: the
    /// nearest warehouse that has them all (orders are not split), or nil.
    func source(for quantity: Int, region: String) -> (warehouse: String, km: Int)? {
        Geography.byDistance[region]?.first { (warehouses[$0.warehouse]?.units ?? 0) >= quantity }
    }

    /// Moves `warehouse`'s stock by `delta`; true on a downward crossing.
    mutating func move(_ warehouse: String, by delta: Int) -> Bool {
        warehouses[warehouse, default: WarehouseStock()].move(by: delta)
    }

    /// Sets `warehouse`'s stock to `level`; true on a downward crossing.
    mutating func set(_ warehouse: String, to level: Int) -> Bool {
        warehouses[warehouse, default: WarehouseStock()].set(to: level)
    }

    func units(in warehouse: String) -> Int { warehouses[warehouse]?.units ?? 0 }
}
