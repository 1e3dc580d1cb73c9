import Foundation
import Distributed
import Shoal

/// An input event: the key's sequence number and an amount to add.
struct CounterEvent: Codable, Sendable {
    var key: String
    var seq: Int
    var amount: Int
    /// A handler failure on purpose, for dead-letter tests.
    var poison: Bool?
    /// A failure after the state was changed, for retry tests.
    var halfway: Bool?
    /// A failure no retry can fix: dead-lettered at once.
    var invalid: Bool?
}

/// The output of each event.
struct CounterTotal: Codable, Sendable, Equatable {
    var key: String
    var seq: Int
    var count: Int
    var sum: Int
}

struct PoisonEvent: Error {}

struct InvalidCounterEvent: NonRetryableError {}

distributed actor Counter: Entity {
    typealias ActorSystem = ShoalActorSystem

    struct State: Codable, Sendable {
        var count = 0
        var sum = 0
        var lastSeq = -1
        /// Added by calls (`add(bonus:)`), not by events; absent until then.
        var bonus: Int?
    }

    var state = State()

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    /// A second version of the handler, for replay diff tests: events of
    /// this key (from `COUNTER_CHANGED_KEY`) count one more than their amount.
    static let changedKey = ProcessInfo.processInfo.environment["COUNTER_CHANGED_KEY"]

    func handle(_ event: CounterEvent, in context: EntityContext) throws {
        if event.poison == true { throw PoisonEvent() }
        if event.invalid == true {
            state.sum += event.amount
            throw InvalidCounterEvent()
        }
        if event.halfway == true {
            state.sum += event.amount
            throw PoisonEvent()
        }
        state.count += 1
        state.sum += event.amount + (Self.changedKey == context.key ? 1 : 0)
        state.lastSeq = event.seq
        try context.emit(
            topic: "counter-totals", key: event.key,
            value: CounterTotal(key: event.key, seq: event.seq, count: state.count, sum: state.sum)
        )
    }

    /// A call that changes the state: durable like an event, applied once per call id.
    distributed func add(bonus: Int) -> Int {
        state.bonus = (state.bonus ?? 0) + bonus
        return state.bonus ?? 0
    }

    distributed func total() -> CounterTotal {
        CounterTotal(key: id.key, seq: state.lastSeq, count: state.count, sum: state.sum)
    }
}
