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

    /// A state's expiry moves later after every event: it keeps one place
    /// in the queue, taken again at its due time when the place comes up,
    /// and falls due then, not at the time it was first set for. A timer
    /// moved earlier takes a new place; a cancelled one never falls due.
    @Test func aTimerMovedLaterKeepsItsPlaceAndFallsDueAtItsNewTime() {
        var timers = ShardTimers()
        let device = EntityID(type: "device", key: "a")
        func expiry(_ due: Int64) -> [TimerChange] {
            [.set(EntityTimer(name: EntityTimer.stateExpiry, clock: .eventTime, due: EventTime(milliseconds: due)))]
        }
        func due(at watermark: Int64) -> Set<EntityID> {
            let clocks = TimerClocks(watermark: EventTime(milliseconds: watermark), processingTime: .distantPast)
            return timers.markCrossed(at: clocks, position: watermark)
        }
        for time in stride(from: Int64(100), through: 1_000, by: 10) { timers.replace(device, with: expiry(time)) }
        #expect(timers.queued == 1, "one place for 91 moves")
        #expect(due(at: 500).isEmpty, "not due at a time it was once set for")
        #expect(timers.queued == 1, "its place taken again at its due time")
        #expect(due(at: 999).isEmpty)
        #expect(due(at: 1_000) == [device])

        let sensor = EntityID(type: "device", key: "b")
        timers.replace(sensor, with: [.set(EntityTimer(name: "check", clock: .eventTime, due: EventTime(milliseconds: 2_000)))])
        timers.replace(sensor, with: [.set(EntityTimer(name: "check", clock: .eventTime, due: EventTime(milliseconds: 1_200)))])
        let gauge = EntityID(type: "device", key: "c")
        timers.replace(gauge, with: [.set(EntityTimer(name: "check", clock: .eventTime, due: EventTime(milliseconds: 1_100)))])
        timers.replace(gauge, with: [.cancel("check")])
        #expect(due(at: 1_250) == [sensor], "moved earlier: due at its new time; cancelled: never")
        #expect(due(at: 3_000).isEmpty, "nothing left due once the stale places come up")
        #expect(timers.queued == 0)
    }

    /// A timer that fell due and is set again later takes a new place (the
    /// old one was taken); one set on another clock waits on that clock; a
    /// timer moved earlier, then later, keeps one place, not two.
    @Test func aTimerSetAgainAfterFallingDueOrOnAnotherClockTakesANewPlace() {
        var timers = ShardTimers()
        let device = EntityID(type: "device", key: "a")
        func set(_ name: String, _ clock: EntityTimer.Clock = .eventTime, due: Int64) {
            timers.replace(device, with: [.set(EntityTimer(name: name, clock: clock, due: EventTime(milliseconds: due)))])
        }
        func due(watermark: Int64, processingTime: Int64 = 0) -> Set<EntityID> {
            let clocks = TimerClocks(watermark: EventTime(milliseconds: watermark), processingTime: EventTime(milliseconds: processingTime))
            return timers.markCrossed(at: clocks, position: watermark)
        }
        set("check", due: 100)
        #expect(due(watermark: 150) == [device])
        set("check", due: 200)
        #expect(due(watermark: 199).isEmpty)
        #expect(due(watermark: 200) == [device], "set again after falling due: due at its new time")

        set("idle", .eventTime, due: 300)
        set("idle", .processingTime, due: 350)
        #expect(due(watermark: 400, processingTime: 0).isEmpty, "no longer waits on the watermark")
        #expect(due(watermark: 400, processingTime: 350) == [device])

        set("close", due: 2_000)
        set("close", due: 1_200)
        set("close", due: 5_000)
        #expect(due(watermark: 2_500).isEmpty)
        #expect(timers.queued == 1, "the place at 1,200 moved to 5,000; the one at 2,000 dropped")
        #expect(due(watermark: 4_999).isEmpty)
        #expect(due(watermark: 5_000) == [device])
    }
}
