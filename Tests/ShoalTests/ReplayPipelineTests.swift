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
        let replay = try Replay { node in
            node.route(topic: "echo", to: Echo.self, key: .field(\CounterEvent.key)) { echo, event, context in
                try echo.handle(event, in: context)
            }
        }
        let events = try Self.events.map { try ReplayEvent(topic: "echo", offset: $0.offset, key: $0.key, json: CounterEvent(key: $0.key, seq: 0, amount: 1)) }
        await #expect(throws: ShoalError.self) { try await replay.runPipeline(events) }
        #expect(try await replay.run(events).outputs.count == 2, "one stage alone replays")
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
