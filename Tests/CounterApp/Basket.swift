import Distributed
import Foundation
import Shoal

/// A shopper's event on one of the basket topics: its sequence number on
/// that topic.
struct BasketEvent: Codable, Sendable {
    var basket: String
    var seq: Int
}

/// What a basket emits for each event: the event, and how many the basket
/// had heard by then.
struct BasketStep: Codable, Sendable, Hashable {
    var basket: String
    var topic: String
    var seq: Int
    var heard: Int
}

/// A basket fed by three co-partitioned topics (items, orders, notes): it
/// records the order in which it heard them, which a replay must repeat.
distributed actor Basket: Entity {
    typealias ActorSystem = ShoalActorSystem

    static let topics = ["basket-items", "basket-orders", "basket-notes"]

    struct State: Codable, Sendable {
        /// `topic:seq` of each event, in the order the basket heard them.
        var heard: [String] = []
    }

    var state = State()

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    func handle(_ event: BasketEvent, in context: EntityContext) throws {
        state.heard.append("\(context.topic):\(event.seq)")
        try context.emit(
            topic: "basket-steps", key: event.basket,
            value: BasketStep(basket: event.basket, topic: context.topic, seq: event.seq, heard: state.heard.count)
        )
    }

    /// The basket's routes: one per topic, items declared first (it leads).
    static func routes(into topology: inout Topology) {
        for topic in topics {
            topology.route(topic: topic, to: Basket.self, key: .field(\BasketEvent.basket)) { basket, event, context in
                try basket.handle(event, in: context)
            }
        }
    }
}
