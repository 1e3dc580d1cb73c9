import Distributed
import SampleSupport
import Shoal

/// One SKU: its stock in every warehouse. It allocates each order to the
/// nearest warehouse that has the units, raises a low-stock alert and a
/// reorder when a warehouse's stock crosses the reorder point, and a
/// backorder alert when no warehouse can fill an order. Holding every
/// warehouse of a SKU in one entity makes the choice and the stock change
/// one step: two orders can never both take the last units.
distributed actor SKUStock: Entity {
    typealias ActorSystem = ShoalActorSystem

    var state = SKUInventory()

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    func handle(_ movement: StockMovement, in context: EntityContext) throws {
        switch movement.kind {
        case .order: try allocate(movement, in: context)
        case .restock: try receive(movement, in: context)
        case .stockCount: try count(movement, in: context)
        }
    }

    private func allocate(_ order: StockMovement, in context: EntityContext) throws {
        guard let quantity = order.quantity, quantity > 0, let region = order.region,
              let nearest = Geography.byDistance[region]?.first?.warehouse else {
            throw InvalidEvent("order \(order.id) needs a positive quantity and a known region")
        }
        guard let source = state.source(for: quantity, region: region) else {
            let most = state.warehouses.values.map(\.units).max() ?? 0
            try context.emitInventoryAlert(InventoryAlert(
                rule: "backorder", key: order.id, sku: order.sku, order: order.id, quantity: quantity, at: order.at,
                detail: "no warehouse has \(quantity) × \(order.sku) for \(region) (the most any has: \(most))"
            ))
            return
        }
        let crossed = state.move(source.warehouse, by: -quantity)
        let rerouted = source.warehouse != nearest
        try context.emit(topic: InventoryAlerts.allocations, key: source.warehouse, value: Allocation(
            key: order.id, sku: order.sku, quantity: quantity, region: region, warehouse: source.warehouse,
            distanceKm: source.km, nearest: nearest, rerouted: rerouted, at: order.at,
            detail: "\(quantity) × \(order.sku) to \(region) from \(source.warehouse), \(source.km) km"
                + (rerouted ? " (\(nearest) is short)" : "")
        ))
        if crossed { try alertLowStock(order.sku, in: source.warehouse, after: order, context: context) }
    }

    private func receive(_ restock: StockMovement, in context: EntityContext) throws {
        guard let quantity = restock.quantity, quantity > 0, let warehouse = restock.warehouse,
              Geography.warehouseCodes.contains(warehouse) else {
            throw InvalidEvent("restock \(restock.id) needs a positive quantity and a known warehouse")
        }
        // Stock only rises: this re-arms the rule, it never crosses downwards.
        _ = state.move(warehouse, by: quantity)
    }

    private func count(_ count: StockMovement, in context: EntityContext) throws {
        guard let levels = count.levels, levels.allSatisfy({ Geography.warehouseCodes.contains($0.key) && $0.value >= 0 }) else {
            throw InvalidEvent("stock count \(count.id) needs levels of known warehouses, none negative")
        }
        for (warehouse, level) in levels.sorted(by: { $0.key < $1.key }) where state.set(warehouse, to: level) {
            try alertLowStock(count.sku, in: warehouse, after: count, context: context)
        }
    }

    /// The low-stock alert and the reorder that go with one crossing.
    private func alertLowStock(_ sku: String, in warehouse: String, after movement: StockMovement, context: EntityContext) throws {
        let key = InventoryRules.stockKey(sku: sku, warehouse: warehouse)
        let left = state.units(in: warehouse)
        let point = InventoryRules.reorderPoint
        try context.emitInventoryAlert(InventoryAlert(
            rule: "low-stock", key: key, sku: sku, warehouse: warehouse, order: movement.id, quantity: left,
            at: movement.at, detail: "\(left) left after \(movement.id), at or below the reorder point of \(point)"
        ))
        let buy = InventoryRules.targetLevel - left
        try context.emit(topic: InventoryAlerts.reorders, key: key, value: InventoryAlert(
            rule: "reorder", key: key, sku: sku, warehouse: warehouse, order: movement.id, quantity: buy, at: movement.at,
            detail: "buy \(buy) × \(sku) for \(warehouse) (\(left) left, back to \(InventoryRules.targetLevel))"
        ))
    }
}

extension EntityContext {
    fileprivate func emitInventoryAlert(_ alert: InventoryAlert) throws {
        try emit(topic: InventoryAlerts.alerts, key: alert.key, value: alert)
    }
}
