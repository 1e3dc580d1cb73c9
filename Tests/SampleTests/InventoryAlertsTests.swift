import Foundation
import SampleSupport
import ShoalTesting
import Testing
@testable import InventoryAlerts

@Suite struct InventoryAlertsTests {
    static let start = StockLoad.start.milliseconds

    /// The alerts and reorders of a result, and the rerouted allocations,
    /// as findings, with how often each came.
    static func findings(_ result: ReplayResult) throws -> [Finding: Int] {
        try result.findings(InventoryAlert.self, on: [InventoryAlerts.alerts, InventoryAlerts.reorders]) { $0.finding }
            .merging(result.findings(Allocation.self, on: [InventoryAlerts.allocations]) { allocation in
                allocation.rerouted ? Finding(rule: "rerouted", key: allocation.key) : nil
            }, uniquingKeysWith: +)
    }

    /// Movements of one SKU, delivered in the order given, one second apart.
    static func events(_ movements: [StockMovement]) throws -> [ReplayEvent] {
        let timed = movements.enumerated().map { index, movement in
            var movement = movement
            movement.at = EventTime(milliseconds: start + Int64(index) * 1_000)
            return movement
        }
        // One partition of each topic: the offsets rise across both, in the order given.
        return try timed.enumerated().map { index, movement in
            try ReplayEvent(topic: InventoryAlerts.topic(of: movement), offset: Int64(index), key: movement.sku, json: movement)
        }
    }

    static func order(_ id: String, _ quantity: Int, from region: String) -> StockMovement {
        StockMovement(kind: .order, id: id, sku: "SKU-1", quantity: quantity, region: region, at: StockLoad.start)
    }

    static func restock(_ id: String, _ quantity: Int, at warehouse: String) -> StockMovement {
        StockMovement(kind: .restock, id: id, sku: "SKU-1", quantity: quantity, warehouse: warehouse, at: StockLoad.start)
    }

    static func count(_ id: String, _ levels: [String: Int]) -> StockMovement {
        StockMovement(kind: .stockCount, id: id, sku: "SKU-1", levels: levels, at: StockLoad.start)
    }

    @Test(arguments: [(UInt64(1), 20_000), (UInt64(7), 12_000)])
    func everyPlantedCaseIsCaughtOnceAndNothingCleanIsFlagged(seed: UInt64, count: Int) async throws {
        let load = StockLoad(seed: seed, count: count)
        #expect(load.records.count == count)
        #expect(Set(load.expected.map(\.rule)) == ["low-stock", "reorder", "rerouted", "backorder"])
        let replay = try Replay(InventoryAlerts.self)
        let result = try await replay.runPipeline(replay.events(of: load.records), transitions: false)
        let findings = try Self.findings(result)
        expectFoundOnce(load.expected, found: findings)
        #expect(result.failures.isEmpty, "\(result.failures.prefix(3))")
        // Every order is either allocated or backordered, once.
        let orders = load.records.filter { $0.value.contains(#""kind":"order""#) }.count
        let allocated = try result.outputs(Allocation.self, topic: InventoryAlerts.allocations).count
        let backordered = findings.keys.filter { $0.rule == "backorder" }.count
        #expect(allocated + backordered == orders)
    }

    @Test func aWarehouseAlertsOncePerCrossingAndAgainOnlyAfterARestockBringsItAbove() async throws {
        let result = try await Replay(InventoryAlerts.self).run(Self.events([
            Self.count("c", ["WH-NJ": 30]),
            Self.order("o1", 5, from: "NYC"),       // 25
            Self.order("o2", 5, from: "NYC"),       // 20: at the point, a crossing
            Self.order("o3", 3, from: "NYC"),       // 17: still low, nothing
            Self.restock("r1", 3, at: "WH-NJ"),     // 20: not above, still low
            Self.order("o4", 1, from: "NYC"),       // 19: nothing
            Self.restock("r2", 10, at: "WH-NJ"),    // 29: above, re-armed
            Self.order("o5", 9, from: "NYC"),       // 20: a second crossing
        ]))
        let alerts = try result.outputs(InventoryAlert.self, topic: InventoryAlerts.alerts)
        let reorders = try result.outputs(InventoryAlert.self, topic: InventoryAlerts.reorders)
        #expect(alerts.map(\.rule) == ["low-stock", "low-stock"])
        #expect(alerts.map(\.order) == ["o2", "o5"])
        #expect(alerts.map(\.key) == ["SKU-1@WH-NJ", "SKU-1@WH-NJ"])
        #expect(reorders.map(\.order) == ["o2", "o5"])
        #expect(reorders.map(\.quantity) == [InventoryRules.targetLevel - 20, InventoryRules.targetLevel - 20])
    }

    @Test func aWarehouseThatStartsLowWasNeverAboveAndRaisesNothing() async throws {
        let result = try await Replay(InventoryAlerts.self).run(Self.events([
            Self.count("c", ["WH-NJ": 12]),
            Self.order("o1", 2, from: "NYC"),
            Self.count("c2", ["WH-NJ": 50]),        // a count above the point re-arms too
            Self.count("c3", ["WH-NJ": 15]),        // and a count below it crosses
        ]))
        let alerts = try result.outputs(InventoryAlert.self, topic: InventoryAlerts.alerts)
        #expect(alerts.map(\.order) == ["c3"])
    }

    @Test func ordersGoToTheNearestWarehouseWithAllTheUnits() async throws {
        // From Denver: Dallas 1,062 km, Ontario 1,280 km, Joliet 1,438 km.
        let result = try await Replay(InventoryAlerts.self).run(Self.events([
            Self.count("c", ["WH-TX": 3, "WH-CA": 5, "WH-IL": 10]),
            Self.order("o1", 3, from: "DEN"),       // Dallas has 3
            Self.order("o2", 4, from: "DEN"),       // Dallas is out: Ontario
            Self.order("o3", 2, from: "DEN"),       // Ontario has 1: Joliet
            Self.order("o4", 20, from: "DEN"),      // nobody has 20: not split, backordered
        ]))
        let allocations = try result.outputs(Allocation.self, topic: InventoryAlerts.allocations)
        #expect(allocations.map(\.warehouse) == ["WH-TX", "WH-CA", "WH-IL"])
        #expect(allocations.map(\.rerouted) == [false, true, true])
        #expect(allocations.map(\.distanceKm) == [1_062, 1_280, 1_438])
        #expect(result.outputs.filter { $0.topic == InventoryAlerts.allocations }.map(\.key) == ["WH-TX", "WH-CA", "WH-IL"])
        let alerts = try result.outputs(InventoryAlert.self, topic: InventoryAlerts.alerts)
        #expect(alerts.map(\.finding) == [Finding(rule: "backorder", key: "o4")])
    }

    @Test func aMovementThatCannotBeAppliedFailsAndChangesNothing() async throws {
        let result = try await Replay(InventoryAlerts.self).run(Self.events([
            Self.count("c", ["WH-NJ": 30]),
            Self.order("o1", 2, from: "ATLANTIS"),
            Self.order("o2", 0, from: "NYC"),
            Self.order("o3", 10, from: "NYC"),
        ]))
        #expect(result.failures.count == 2)
        let allocations = try result.outputs(Allocation.self, topic: InventoryAlerts.allocations)
        #expect(allocations.map(\.key) == ["o3"])
    }

    @Test func theGoldenJournalReplaysAsRecorded() async throws {
        try await expectGoldenReplay(of: InventoryAlerts.self, sample: "InventoryAlerts", seed: 42, count: 300)
    }

    @Test func theSameSeedGivesTheSameMovements() {
        #expect(StockLoad(seed: 5, count: 3_000).records == StockLoad(seed: 5, count: 3_000).records)
        #expect(StockLoad(seed: 5, count: 3_000).records != StockLoad(seed: 6, count: 3_000).records)
        #expect(StockLoad(seed: 5, count: 3_000).expected == StockLoad(seed: 5, count: 3_000).expected)
    }
}
