import Foundation
import ShoalTesting
import Testing
@testable import CounterApp

// The example of docs/testing-by-replay.md, compiled and run as a test.
// Keep the lines between the markers identical to the article's code block
// (`theArticleShowsTheCompiledExample` checks it).

// example:begin
@Test func countersAddUpTheirEvents() async throws {
    let replay = try Replay(CounterApp.self)
    let events = try [
        ReplayEvent(topic: "counter-events", offset: 0, key: "a", json: CounterEvent(key: "a", seq: 0, amount: 5)),
        ReplayEvent(topic: "counter-events", offset: 1, key: "a", json: CounterEvent(key: "a", seq: 1, amount: 7)),
    ]
    let result = try await replay.run(events)

    #expect(try result.outputs(CounterTotal.self).map(\.sum) == [5, 12])
    #expect(result.outputs.map(\.id) == ["counter-events/0/0/0", "counter-events/0/1/0"])

    let state = try #require(try result.state(Counter.State.self, of: EntityID(type: "Counter", key: "a")))
    #expect(state.count == 2 && state.sum == 12)
    let after = try result.states(of: EntityID(type: "Counter", key: "a"), as: Counter.State.self)
    #expect(after.map(\.count) == [1, 2], "the state after each event")
}
// example:end

@Test func theArticleShowsTheCompiledExample() throws {
    try expectArticleShowsExample(of: #filePath, article: "docs/testing-by-replay.md")
}
