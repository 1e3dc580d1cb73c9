import Shoal
import ShoalApp

struct Payment: Codable, Sendable { var account: String; var amount: Int }

/// One actor per account, activated on its first event.
distributed actor Account: EventHandling {
    typealias ActorSystem = ShoalActorSystem
    struct State: Codable, Sendable { var count = 0; var total = 0 }
    var state = State()

    init(actorSystem: ShoalActorSystem) { self.actorSystem = actorSystem }

    func handle(_ payment: Payment, in context: EntityContext) throws {
        state.count += 1
        state.total += payment.amount
        if state.total > 10_000 {
            try context.emit(topic: "alerts", key: context.key, value: ["total": state.total])
        }
    }

    /// Callable from any code on the node; it runs after the events before it.
    distributed func total() -> Int { state.total }
}

struct Fraud: ShoalApplication {
    static let topics: [EmbeddedBroker.Topic] = [.init(name: "payments", partitions: 8), .init(name: "alerts", partitions: 8)]

    static let topology = Topology { topology in
        topology.route(topic: "payments", to: Account.self, key: .field(\Payment.account))
    }
}

@main enum Main { static func main() async { await ShoalApplicationMain.run(Fraud.self) } }
