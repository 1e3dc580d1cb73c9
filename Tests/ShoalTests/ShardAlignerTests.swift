import Foundation
@testable import Shoal
import ShoalKafka
import Testing

@Suite("Event-time merge of a shard's topics")
struct ShardAlignerTests {
    let start = ContinuousClock.now

    func record(_ topic: String, _ offset: Int64, at time: Int64) -> (KafkaRecord, PreparedRecord) {
        let record = KafkaRecord(
            topic: topic, partition: 0, offset: offset, key: nil, value: nil, timestamp: KafkaTimestamp(milliseconds: time)
        )
        return (record, .failed("test"))
    }

    func names(_ released: [(KafkaRecord, PreparedRecord)]) -> [String] {
        released.map { "\($0.0.topic):\($0.0.offset)" }
    }

    /// Records come out in time order across topics, each topic's own order
    /// kept, ties to the earlier topic.
    @Test func recordsLeaveInTimeOrderKeepingEachTopicsOrder() {
        var aligner = ShardAligner(topics: ["items", "orders"], maxWait: .milliseconds(200))
        aligner.add([record("items", 0, at: 10), record("items", 1, at: 30), record("items", 2, at: 20)], now: start)
        aligner.add([record("orders", 0, at: 10), record("orders", 1, at: 25)], now: start)
        // Both topics quiet since: nothing more to wait for.
        let (ready, waiting) = aligner.release(pending: [], now: start + .seconds(5))
        #expect(names(ready) == ["items:0", "orders:0", "orders:1", "items:1", "items:2"])
        #expect(!waiting && aligner.count == 0)
    }

    /// A topic with nothing queued that may have records holds the others
    /// back until it delivers or the wait is over; one that has none left
    /// (no lag) does not.
    @Test func anEmptyTopicWithLagHoldsTheOthersBackForAtMostTheWait() {
        var aligner = ShardAligner(topics: ["items", "orders"], maxWait: .milliseconds(200))
        aligner.add([record("items", 0, at: 50), record("items", 1, at: 60)])
        var (ready, waiting) = aligner.release(pending: ["orders"], now: start)
        #expect(ready.isEmpty && waiting && aligner.count == 2)
        aligner.add([record("orders", 0, at: 55)])
        (ready, waiting) = aligner.release(pending: ["orders"], now: start + .milliseconds(10))
        #expect(names(ready) == ["items:0", "orders:0"], "orders ran dry again: items:1 waits")
        #expect(waiting)
        (ready, waiting) = aligner.release(pending: ["orders"], now: start + .milliseconds(300))
        #expect(names(ready) == ["items:1"] && !waiting, "the wait is over")
        aligner.add([record("items", 2, at: 70)], now: start + .seconds(5))
        (ready, _) = aligner.release(pending: [], now: start + .seconds(5))
        #expect(names(ready) == ["items:2"], "no lag, orders quiet for long: nothing to wait for")
    }

    /// A topic that delivered records a moment ago holds the others back
    /// even when the consumer's view of its end says it has none left (it
    /// is only as fresh as the last fetch).
    @Test func aFlowingTopicHoldsTheOthersBackThoughItsLagReadsZero() {
        var aligner = ShardAligner(topics: ["items", "orders"], maxWait: .milliseconds(200))
        aligner.add([record("orders", 0, at: 10)], now: start)
        _ = aligner.release(pending: [], now: start)
        aligner.add([record("items", 0, at: 50)], now: start + .milliseconds(20))
        var (ready, waiting) = aligner.release(pending: [], now: start + .milliseconds(20))
        #expect(ready.isEmpty && waiting, "orders flowed 20 ms ago")
        aligner.add([record("orders", 1, at: 40)], now: start + .milliseconds(60))
        (ready, waiting) = aligner.release(pending: [], now: start + .milliseconds(60))
        #expect(names(ready) == ["orders:1"] && waiting)
        (ready, waiting) = aligner.release(pending: [], now: start + .milliseconds(300))
        #expect(names(ready) == ["items:0"] && !waiting, "the wait is over")
    }

    /// A repartition topic holds nothing back for flowing, only while the
    /// consumer knows of records of it.
    @Test func aRepartitionTopicWaitsOnlyOnItsLag() {
        var aligner = ShardAligner(topics: ["items", "rep"], maxWait: .milliseconds(200), quiet: ["rep"])
        aligner.add([record("rep", 0, at: 5)], now: start)
        aligner.add([record("items", 0, at: 10)], now: start)
        #expect(names(aligner.release(pending: [], now: start).ready) == ["rep:0", "items:0"])
        aligner.add([record("items", 1, at: 20)], now: start + .milliseconds(1))
        #expect(names(aligner.release(pending: [], now: start + .milliseconds(1)).ready) == ["items:1"], "rep flowed 1 ms ago")
        aligner.add([record("items", 2, at: 30)], now: start + .milliseconds(2))
        #expect(aligner.release(pending: ["rep"], now: start + .milliseconds(2)).waiting, "rep has records not delivered")
    }

    @Test func aStoppingShardDropsWhatWaits() {
        var aligner = ShardAligner(topics: ["items", "orders"], maxWait: .seconds(1))
        aligner.add([record("items", 0, at: 1)])
        _ = aligner.release(pending: ["orders"], now: start)
        aligner.removeAll()
        #expect(aligner.count == 0 && aligner.release(pending: [], now: start).ready.isEmpty)
    }
}
