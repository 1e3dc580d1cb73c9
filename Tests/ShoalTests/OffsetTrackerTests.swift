@testable import Shoal
import Testing

@Suite("Offset tracker")
struct OffsetTrackerTests {
    @Test func commitsOnlyUpToTheFirstUnfinishedRecord() {
        var tracker = OffsetTracker()
        for offset in [10, 11, 13, 14] as [Int64] { tracker.begin(offset) }
        #expect(tracker.committable == 10)
        tracker.complete(11)
        #expect(tracker.committable == 10, "10 is still running")
        tracker.complete(10)
        #expect(tracker.committable == 12)
        tracker.complete(14)
        #expect(tracker.committable == 12)
        tracker.complete(13)
        #expect(tracker.committable == 15)
        #expect(tracker.pendingCount == 0)
    }

    @Test func laterCompletionsDoNotCommitPastAnAbandonedRecord() {
        var tracker = OffsetTracker(startingAt: 10)
        for offset in 10...12 as ClosedRange<Int64> { tracker.begin(offset) }
        tracker.abandon([11])  // queued behind its key: never started
        tracker.complete(10)
        tracker.complete(12)  // another key's record, already running
        #expect(tracker.committable == 11, "11 is read again by the next owner")
        #expect(tracker.pendingCount == 0)
    }

    @Test func abandonedRecordsAreNotCommitted() {
        var tracker = OffsetTracker(startingAt: 5)
        for offset in 5...8 as ClosedRange<Int64> { tracker.begin(offset) }
        tracker.complete(5)
        tracker.abandon([7, 8])
        #expect(tracker.committable == 6)
        tracker.complete(6)
        #expect(tracker.committable == 7, "7 and 8 never ran: the next owner reads them")
        #expect(tracker.pendingCount == 0)
    }
}
