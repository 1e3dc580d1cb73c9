@testable import Shoal
import Testing

@Suite("Shard timers")
struct ShardTimersTests {
    /// Where a timer set at a position falls due: the first record from
    /// there whose clocks pass it, found as a scan of every mark finds it
    /// (processing time may step back: the wall clock).
    @Test func aTimersCrossingIsTheFirstMarkFromItsPositionThatPassesIt() {
        let processing: [Int64] = [50, 120, 90, 130, 80, 140]
        var marks = ClockMarks(restoring: nil)
        for (index, time) in processing.enumerated() {
            let offset = Int64(10 + index * 2)  // 10, 12, ..., 20
            let clocks = TimerClocks(watermark: EventTime(milliseconds: offset * 10), processingTime: EventTime(milliseconds: time))
            marks.mark(offset, EventTime(milliseconds: offset * 10), clocks: clocks)
        }
        func crossing(_ clock: EntityTimer.Clock, due: Int64, from position: Int64) -> Int64? {
            marks.crossing(of: EntityTimer(name: "t", clock: clock, due: EventTime(milliseconds: due)), from: position)?.position
        }
        #expect(crossing(.eventTime, due: 150, from: 0) == 16)
        #expect(crossing(.eventTime, due: 150, from: 17) == 18)
        #expect(crossing(.eventTime, due: 150, from: 21) == nil)
        #expect(crossing(.eventTime, due: 201, from: 0) == nil, "past every mark")
        #expect(crossing(.processingTime, due: 100, from: 0) == 12)
        #expect(crossing(.processingTime, due: 100, from: 13) == 16, "not the mark whose clock stepped back")
        #expect(crossing(.processingTime, due: 135, from: 11) == 20)
        #expect(crossing(.processingTime, due: 141, from: 0) == nil)
    }
}
