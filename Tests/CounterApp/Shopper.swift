import Distributed
import Foundation
import Shoal

/// A shopper's purchase of a product.
struct Purchase: Codable, Sendable {
    var shopper: String
    var product: String
    var seq: Int
}

/// A product in the `products` table.
struct Product: Codable, Sendable {
    var price: Int
}

/// What a shopper emits for each purchase: the price the table gave it
/// (nil when the table had no such product).
struct Receipt: Codable, Sendable, Hashable {
    var shopper: String
    var seq: Int
    var product: String
    var price: Int?
}

/// A shopper that prices each purchase from the `products` table.
distributed actor Shopper: Entity {
    typealias ActorSystem = ShoalActorSystem

    struct State: Codable, Sendable {
        var spent = 0
        var unpriced = 0
    }

    var state = State()

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    func handle(_ purchase: Purchase, in context: EntityContext) throws {
        let price = try context.lookup(purchase.product, in: "products", as: Product.self)?.price
        if let price { state.spent += price } else { state.unpriced += 1 }
        try context.emit(
            topic: "receipts", key: purchase.shopper,
            value: Receipt(shopper: purchase.shopper, seq: purchase.seq, product: purchase.product, price: price)
        )
    }

    /// The shopper's route and its table.
    static func routes(into topology: inout Topology) {
        topology.table("products")
        topology.route(topic: "purchases", to: Shopper.self, key: .field(\Purchase.shopper)) { shopper, purchase, context in
            try shopper.handle(purchase, in: context)
        }
    }
}
