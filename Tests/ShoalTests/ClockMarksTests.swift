import Testing
@testable import Shoal

/// The clock marks a shard keeps between commits: where a timer set late
/// finds the record whose clocks first passed it.
@Suite struct ClockMarksTests {
    static func marks(_ offsets: ClosedRange<Int64>) -> ClockMarks {
        var marks = ClockMarks(restoring: nil)
        for offset in offsets {
            let time = EventTime(milliseconds: offset * 1_000)
            marks.mark(offset, time, clocks: TimerClocks(watermark: time, processingTime: time))
        }
        return marks
    }

    static let timer = EntityTimer(name: "t", clock: .eventTime, due: EventTime(milliseconds: 7_000))

    @Test func aCommitDropsTheMarksBeforeItsOffset() {
        var marks = Self.marks(0...9)
        #expect(marks.take(before: 8) == EventTime(milliseconds: 7_000))
        #expect(marks.crossing(of: Self.timer, from: 2)?.position == 8, "record 7, which passed it first, was committed and forgotten")
    }

    @Test func marksStayFromWhereATimerStillToFireFellDue() {
        var marks = Self.marks(0...9)
        #expect(marks.take(before: 8, keeping: 2) == EventTime(milliseconds: 7_000), "the committed clock is the same")
        #expect(marks.crossing(of: Self.timer, from: 2)?.position == 7, "a timer its firing sets finds where its clocks passed")
        #expect(marks.take(before: 10) == EventTime(milliseconds: 9_000))
        #expect(marks.crossing(of: Self.timer, from: 2) == nil)
    }
}
