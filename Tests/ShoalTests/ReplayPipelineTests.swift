import Distributed
import Foundation
import Shoal
import Testing
@testable import CounterApp

/// Replays that follow outputs into the routes reading them.
@Suite struct ReplayPipelineTests {
    static let events = [
        try! ReplayEvent(topic: "counter-events", offset: 0, key: "a", json: CounterEvent(key: "a", seq: 0, amount: 5)),
        try! ReplayEvent(topic: "counter-events", offset: 1, key: "a", json: CounterEvent(key: "a", seq: 1, amount: 7)),
    ]

    @Test func outputsWithoutARouteEndThePipelineAfterOneStage() async throws {
        let replay = try Replay(CounterApp.self)
        let staged = try await replay.runPipeline(Self.events)
        let single = try await replay.run(Self.events)
        #expect(staged.reportLines == single.reportLines)
    }

    @Test func outputsLeadingBackToAnEarlierStagesEntityTypeAreRefused() async throws {
        // An entity writing to its own topic: a node would interleave its
        // inputs and its echoes; a staged replay cannot, so it says so.
        let replay = try Replay { topology in
            topology.route(topic: "echo", to: Echo.self, key: .field(\CounterEvent.key)) { echo, event, context in
                try echo.handle(event, in: context)
            }
        }
        let events = try Self.events.map { try ReplayEvent(topic: "echo", offset: $0.offset, key: $0.key, json: CounterEvent(key: $0.key, seq: 0, amount: 1)) }
        let error = await #expect(throws: ShoalError.self) { try await replay.runPipeline(events) }
        #expect(error?.reason.contains("lead back to entity type Echo") == true, "\(String(describing: error))")
        #expect(try await replay.run(events).outputs.count == 2, "one stage alone replays")
    }

    /// A node's recording holds every stage's events: given to a pipeline,
    /// the second stage would read its events twice. The error says so.
    @Test func aJournalHoldingALaterStagesEventsIsNamed() async throws {
        let replay = try Replay { topology in
            topology.route(topic: "counter-events", to: Echo.self, key: .field(\CounterEvent.key)) { echo, event, context in
                try echo.handle(event, in: context)
            }
            topology.route(topic: "echo", to: Counter.self, key: .field(\CounterEvent.key)) { counter, event, context in
                try counter.handle(event, in: context)
            }
        }
        let recorded = Self.events + [try ReplayEvent(topic: "echo", offset: 0, key: "a", json: CounterEvent(key: "a", seq: 0, amount: 5))]
        let error = await #expect(throws: ShoalError.self) { try await replay.runPipeline(recorded) }
        #expect(error?.reason.contains("the journal already holds events of echo, which the outputs of Echo feed") == true, "\(String(describing: error))")
        let staged = try await replay.runPipeline(Self.events)
        #expect(staged.states.count == 2 && staged.outputs.count == 4, "the first stage's events alone go through both stages")
    }
}

/// Writes every event back to its own topic.
distributed actor Echo: Entity {
    typealias ActorSystem = ShoalActorSystem
    var state = 0

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    func handle(_ event: CounterEvent, in context: EntityContext) throws {
        state += 1
        try context.emit(topic: "echo", key: context.key, value: event)
    }
}

extension ReplayPipelineTests {
    /// A timer's outputs carry the time it was due, in a replay as in a
    /// node: a later stage that takes event time from the record timestamp
    /// sees that time, not the moment of publishing.
    @Test func timerOutputsCarryTheirDueTimeIntoTheNextStage() async throws {
        let replay = try Replay { topology in
            topology.route(topic: "reminders", to: Reminder.self, key: .field(\ReminderEvent.key), eventTime: .field(\ReminderEvent.at)) { reminder, event, context in
                reminder.handle(event, in: context)
            }
            topology.route(topic: "reminders-fired", to: Alarm.self, key: .field(\ReminderFired.key)) { alarm, _, context in
                alarm.note(context)
            }
        }
        let events = try [
            ReplayEvent(topic: "reminders", offset: 0, key: "k", json: ReminderEvent(key: "k", seq: 0, at: .init(milliseconds: 1_000), remindAt: .init(milliseconds: 5_000)), timestamp: 1),
            ReplayEvent(topic: "reminders", offset: 1, key: "k", json: ReminderEvent(key: "k", seq: 1, at: .init(milliseconds: 9_000)), timestamp: 2),
        ]
        let result = try await replay.runPipeline(events)
        #expect(result.outputs.first?.timestamp == 5_000, "the timer's output")
        #expect(try result.state([Int64].self, of: EntityID(type: "Alarm", key: "k")) == [5_000], "the next stage's record timestamp")
    }
}

/// Notes the record timestamp of every event it gets.
distributed actor Alarm: Entity {
    typealias ActorSystem = ShoalActorSystem
    var state: [Int64] = []

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    func note(_ context: EntityContext) {
        state.append(context.timestamp?.milliseconds ?? -1)
    }
}
