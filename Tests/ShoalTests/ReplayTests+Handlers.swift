import Foundation
import Synchronization
import Testing
@testable import CounterApp
@testable import Shoal

extension ReplayTests {
    /// A handler that suspends takes the route's async form, one that does
    /// not the sync form (no task switch of its own): both must replay the
    /// same outputs, transitions and states, the poison event failing alike.
    @Test func handlersThatSuspendAndHandlersThatDoNotReplayAlike() async throws {
        let suspended = Mutex(0)
        let sync = try Replay(topics: CounterApp.topics) { topology in
            topology.route(topic: "counter-events", to: Counter.self, key: .field(\CounterEvent.key)) { counter, event, context in
                try counter.handle(event, in: context)
            }
        }
        let async = try Replay(topics: CounterApp.topics) { topology in
            topology.route(topic: "counter-events", to: Counter.self, key: .field(\CounterEvent.key)) { counter, event, context in
                await Task.yield()
                suspended.withLock { $0 += 1 }
                try counter.handle(event, in: context)
            }
        }
        var events = CounterWorkload(keys: 20, perKey: 10).messages.enumerated().map { index, message in
            ReplayEvent(topic: "counter-events", offset: Int64(index), key: message.key, value: Array(message.value.utf8))
        }
        events.append(try ReplayEvent(
            topic: "counter-events", offset: Int64(events.count), key: "poison", json: CounterEvent(key: "poison", seq: 0, amount: 1, poison: true)
        ))
        let syncResult = try await sync.run(events)
        let asyncResult = try await async.run(events)
        let retries = ShoalNodeConfiguration.defaultHandlerAttempts - 1
        #expect(suspended.withLock { $0 } == events.count + retries, "the async form ran for every event, the poison one as often as a node tries it")
        #expect(syncResult == asyncResult)
        #expect(syncResult.outputs.count == 200)
        #expect(syncResult.failures.map(\.offset) == [200], "the poison event failed in both")
        #expect(syncResult.states.keys.filter { $0.key != "poison" }.count == 20)
    }

    /// Lanes count replayed events in batches; the reports still come at
    /// every 100,000, once each, whatever the batch sizes.
    @Test func progressIsReportedAtEveryHundredThousand() {
        let reports = Mutex<[Int]>([])
        let progress = ReplayProgress { done in reports.withLock { $0.append(done) } }
        for _ in 0..<195 { progress.advance(by: ReplayProgress.batch) }
        progress.advance(by: 7)
        progress.advance(by: 100_000)
        #expect(reports.withLock { $0 } == [100_000, 200_000], "299,687 replayed")
        progress.advance(by: 313)
        #expect(reports.withLock { $0 } == [100_000, 200_000, 300_000], "exactly 300,000")
    }
}

extension ReplayTests {
    /// A journal line keeps any record value: JSON as JSON, text that is
    /// not JSON as `valueText`, other bytes as `valueBase64`; each reads back
    /// as the same bytes.
    @Test func journalLinesKeepValuesThatAreNotJSON() throws {
        let values: [[UInt8]] = [Array(#"{"b":1,"a":[true,null]}"#.utf8), Array("plain text, not JSON".utf8), [0xFF, 0x00, 0xC3]]
        let events = values.enumerated().map { index, value in ReplayEvent(topic: "raw", offset: Int64(index), key: "k", value: value, timestamp: 7) }
        let lines = events.map(\.journalLine)
        #expect(lines[1].contains(#""valueText":"plain text, not JSON""#) && lines[2].contains(#""valueBase64":"/wDD""#), "\(lines)")
        let read = try ReplayJournal.jsonLines(lines.joined(separator: "\n"))
        #expect(read.map(\.value) == [Array(#"{"a":[true,null],"b":1}"#.utf8), values[1], values[2]], "JSON comes back with sorted keys")
        #expect(read.map(\.offset) == [0, 1, 2] && read.allSatisfy { $0.timestamp == 7 })

        let both = #"{"topic":"raw","key":"k","value":1,"valueText":"1"}"#
        let error = try #require(throws: ShoalError.self) { try ReplayJournal.jsonLines(both, source: "two.jsonl") }
        #expect(error.reason == "two.jsonl line 1: both value and valueText: give one")
    }
}
