import Distributed
import Foundation
import Shoal

/// An input event for timer tests: its event time, and when it asks to be
/// reminded (an event-time timer named after its sequence number).
struct ReminderEvent: Codable, Sendable {
    var key: String
    var seq: Int
    var at: EventTime
    var remindAt: EventTime?
}

/// What a reminder's firing emits: the timer and the firings so far.
struct ReminderFired: Codable, Sendable, Equatable {
    var key: String
    var name: String
    var fired: Int
}

/// Thrown by `remindThenFail`; crosses to the caller as itself.
struct ReminderRefused: Error, Codable {}

/// Sets one timer per event that asks for one; each firing is recorded in
/// the state and emitted, so that tests can see every timer fire once.
distributed actor Reminder: Entity {
    typealias ActorSystem = ShoalActorSystem

    struct State: Codable, Sendable {
        var events = 0
        var fired: [String] = []
    }

    var state = State()

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    func handle(_ event: ReminderEvent, in context: EntityContext) {
        state.events += 1
        if let remindAt = event.remindAt { context.setTimer("r\(event.seq)", at: remindAt) }
    }

    /// A call that sets a timer and says so on the output topic, through
    /// the call's own context: both commit with the call.
    distributed func remind(_ name: String, at time: EventTime) throws {
        guard let context = EntityContext.current else { return }
        context.setTimer(name, at: time)
        try context.emit(topic: "reminders-fired", key: context.key, value: ReminderFired(key: context.key, name: "set \(name)", fired: state.fired.count))
    }

    /// Emits, counts, then throws: a call that throws keeps none of it.
    distributed func remindThenFail(_ name: String) throws {
        state.events += 100
        try EntityContext.current?.emit(topic: "reminders-fired", key: id.key, value: ReminderFired(key: id.key, name: "never \(name)", fired: -1))
        throw ReminderRefused()
    }

    func timerFired(_ timer: EntityTimer, in context: EntityContext) throws {
        state.fired.append(timer.name)
        try context.emit(topic: "reminders-fired", key: context.key, value: ReminderFired(key: context.key, name: timer.name, fired: state.fired.count))
    }
}
