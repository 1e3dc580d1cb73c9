import Distributed
import Foundation
import Shoal
import Testing

// The example of docs/erasing-keys.md, compiled as part of the tests. Keep
// the lines between the markers identical to the article's code block
// (`theErasureArticleShowsTheCompiledExample` checks it).

// example:begin
struct Order: Codable, Sendable {
    var customer: String
    var store: String
    var amount: Int
}

/// One customer; each order also reaches its store's entity (by another
/// route), which remembers its recent customers.
distributed actor Customer: EventHandling {
    typealias ActorSystem = ShoalActorSystem
    var state = 0

    init(actorSystem: ShoalActorSystem) { self.actorSystem = actorSystem }

    func handle(_ order: Order, in context: EntityContext) { state += order.amount }

    /// Erasing a customer: the store of each of its orders keeps its key.
    static func entitiesReferencing(after event: any Sendable) -> [EntityID] {
        guard let order = event as? Order else { return [] }
        return [EntityID(type: Shop.entityType, key: order.store)]
    }
}

distributed actor Shop: EventHandling {
    typealias ActorSystem = ShoalActorSystem
    var state: [String] = []

    init(actorSystem: ShoalActorSystem) { self.actorSystem = actorSystem }

    func handle(_ order: Order, in context: EntityContext) {
        state = Array((state + [order.customer]).suffix(10))
    }

    /// An erased customer leaves the list...
    func scrub(erasing erased: EntityID) {
        state.removeAll { erased.type == Customer.entityType && $0 == erased.key }
    }

    /// ...and the store's journaled orders.
    static func scrubbed(event: [UInt8], erasing erased: EntityID) -> [UInt8]? {
        guard var order = try? JSONDecoder().decode(Order.self, from: Data(event)), order.customer == erased.key else { return nil }
        order.customer = "erased"
        return try? Array(JSONEncoder().encode(order))
    }
}

/// What a privacy request runs, from any process that can call the nodes.
func forget(customer: String, system: ShoalActorSystem) async throws {
    try await system.erase(EntityID(type: Customer.entityType, key: customer), requester: "privacy-desk")
}
// example:end

@Test func theErasureArticleShowsTheCompiledExample() throws {
    try expectArticleShowsExample(of: #filePath, article: "docs/erasing-keys.md")
}
