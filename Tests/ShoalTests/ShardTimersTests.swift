@testable import Shoal
import Testing

@Suite("Shard timers")
struct ShardTimersTests {
    /// A held run given back puts the entity's timers back as they were
    /// before it: the timer put back falls due when a clock passes it,
    /// although the clock passed it while a later one replaced it.
    @Test func timersPutBackFallDueAgain() {
        var timers = ShardTimers()
        let id = EntityID(type: "Meter", key: "a")
        let early = EntityTimer(name: EntityTimer.stateExpiry, clock: .eventTime, due: EventTime(milliseconds: 100))
        timers.replace(id, with: [.set(early)])
        let before = timers.timers(of: id)
        // A held record moves the expiry on; the clock then passes the earlier one.
        timers.replace(id, with: [.set(EntityTimer(name: EntityTimer.stateExpiry, clock: .eventTime, due: EventTime(milliseconds: 1_000)))])
        #expect(timers.markCrossed(at: TimerClocks(watermark: EventTime(milliseconds: 500), processingTime: .distantPast), position: 1).isEmpty)
        timers.restore(id, before)
        #expect(timers.timers(of: id).all == [early])
        let crossed = timers.markCrossed(at: TimerClocks(watermark: EventTime(milliseconds: 600), processingTime: .distantPast), position: 2)
        #expect(crossed == [id], "the timer put back falls due")
    }
}
