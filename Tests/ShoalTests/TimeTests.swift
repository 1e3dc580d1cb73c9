import Distributed
import Foundation
import ShoalTesting
import Testing

/// A heartbeat from a device; `at` is its event time in milliseconds.
private struct Heartbeat: Codable, Sendable {
    var device: String
    var at: EventTime
}

/// Raises an alert when a device has sent no heartbeat for ten minutes of
/// event time: each heartbeat moves its "silence" timer.
private distributed actor Watchdog: Entity {
    typealias ActorSystem = ShoalActorSystem
    struct State: Codable, Sendable {
        var heartbeats = 0
        var lastSeen: EventTime?
        var alerts: [EventTime] = []
    }

    var state = State()

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    func handle(_ heartbeat: Heartbeat, in context: EntityContext) {
        state.heartbeats += 1
        // Out-of-order heartbeats must not pull the deadline back.
        let latest = max(heartbeat.at, state.lastSeen ?? .distantPast)
        state.lastSeen = latest
        context.setTimer("silence", at: latest + .seconds(600))
    }

    func timerFired(_ timer: EntityTimer, in context: EntityContext) throws {
        state.alerts.append(timer.due)
        try context.emit(topic: "alerts", key: context.key, value: ["silentSince": timer.due.milliseconds - 600_000])
    }
}

/// Sets a timer on every heartbeat that throws when it fires.
private distributed actor Grumbler: Entity {
    typealias ActorSystem = ShoalActorSystem
    struct State: Codable, Sendable {}
    struct Grumble: NonRetryableError {}
    var state = State()

    init(actorSystem: ShoalActorSystem) { self.actorSystem = actorSystem }

    func handle(_ heartbeat: Heartbeat, in context: EntityContext) {
        context.setTimer("grumble", at: heartbeat.at + .seconds(60))
    }

    func timerFired(_ timer: EntityTimer, in context: EntityContext) throws { throw Grumble() }
}

private let minute: Int64 = 60_000

private func heartbeat(_ device: String, at minutes: Int64, offset: Int64, partition: Int32 = 0) throws -> ReplayEvent {
    try ReplayEvent(topic: "heartbeats", partition: partition, offset: offset, key: device, json: Heartbeat(device: device, at: EventTime(milliseconds: minutes * minute)))
}

private func watchdogReplay(outOfOrderness: Duration = .zero, lateness: Duration = .zero, late: LateEvents = .apply) throws -> Replay {
    try Replay { topology in
        topology.route(
            topic: "heartbeats", to: Watchdog.self, key: .field(\Heartbeat.device),
            eventTime: .field(\Heartbeat.at, outOfOrderness: outOfOrderness, allowedLateness: lateness, late: late)
        ) { watchdog, heartbeat, context in
            watchdog.handle(heartbeat, in: context)
        }
    }
}

struct TimeTests {
    @Test func anEventTimeTimerFiresWhenTheWatermarkPassesIt() async throws {
        // "a" beats at 0 and 5, then goes silent; "b" keeps the watermark
        // moving. a's timer is due at 15; b's events at 14 and 16 straddle it.
        let events = try [
            heartbeat("a", at: 0, offset: 0), heartbeat("a", at: 5, offset: 1), heartbeat("b", at: 14, offset: 2),
            heartbeat("b", at: 16, offset: 3), heartbeat("b", at: 20, offset: 4),
        ]
        let result = try await watchdogReplay().run(events)
        #expect(result.firedTimers.map(\.entity.key) == ["a"])
        #expect(result.firedTimers.first?.timer.due == EventTime(milliseconds: 15 * minute))
        #expect(try result.state(Watchdog.State.self, of: EntityID(type: "Watchdog", key: "a"))?.alerts == [EventTime(milliseconds: 15 * minute)])
        #expect(result.outputs.map(\.topic) == ["alerts"])
        // Numbered after a's last event (offset 1), as the first firing since.
        #expect(result.outputs.first?.id == "heartbeats/0/1/4294967296")
        #expect(result.pendingTimers[EntityID(type: "Watchdog", key: "b")]?.map(\.due) == [EventTime(milliseconds: 30 * minute)])
    }

    @Test func aTimerFiresInItsEntitysTurnBeforeTheEventThatFollowsIt() async throws {
        // a's deadline is 10; b at 10 brings the watermark exactly to it, so
        // the timer fires before a's next event (at 11) is handled.
        let events = try [heartbeat("a", at: 0, offset: 0), heartbeat("b", at: 10, offset: 1), heartbeat("a", at: 11, offset: 2)]
        let result = try await watchdogReplay().run(events)
        let ofA = result.transitions.filter { $0.entity.key == "a" }
        #expect(ofA.map { $0.timer?.name ?? "event \($0.offset)" } == ["event 0", "silence", "event 2"])
        let afterTimer = try JSONDecoder().decode(Watchdog.State.self, from: Data(ofA[1].state))
        #expect(afterTimer.alerts == [EventTime(milliseconds: 10 * minute)] && afterTimer.heartbeats == 1)
    }

    @Test func anOutOfOrderEventWithinTheBoundCountsBeforeTheWatermarkPassesIt() async throws {
        // Two minutes of out-of-orderness: the watermark trails the largest
        // time by two minutes. a's deadline is 15 after its beat at 5; b at
        // 16 puts the watermark at 14, so a's beat at 14 arrives in time and
        // moves the deadline to 24: nothing fires at 15.
        let events = try [
            heartbeat("a", at: 5, offset: 0), heartbeat("b", at: 16, offset: 1), heartbeat("a", at: 14, offset: 2),
            heartbeat("b", at: 17, offset: 3), heartbeat("b", at: 27, offset: 4),
        ]
        let result = try await watchdogReplay(outOfOrderness: .seconds(120)).run(events)
        let a = try #require(try result.state(Watchdog.State.self, of: EntityID(type: "Watchdog", key: "a")))
        #expect(a.heartbeats == 2)
        #expect(a.alerts == [EventTime(milliseconds: 24 * minute)])
        #expect(result.lateEvents.isEmpty)
        #expect(result.firedTimers.map(\.timer.due) == [EventTime(milliseconds: 24 * minute)])
    }

    @Test(arguments: [LateEvents.apply, .drop, .deadLetter, .sideOutput(topic: "late-heartbeats")])
    func eventsLaterThanTheAllowedLatenessFollowThePolicy(_ policy: LateEvents) async throws {
        // Watermark 20 after b's event; lateness one minute: a at 19 is late
        // but allowed, a at 10 is too late.
        let events = try [
            heartbeat("b", at: 20, offset: 0), heartbeat("a", at: 19, offset: 1), heartbeat("a", at: 10, offset: 2),
        ]
        let result = try await watchdogReplay(lateness: .seconds(60), late: policy).run(events)
        #expect(result.lateEvents.map(\.offset) == [2])
        #expect(result.lateEvents.first?.watermark == EventTime(milliseconds: 20 * minute))
        let a = try result.state(Watchdog.State.self, of: EntityID(type: "Watchdog", key: "a"))
        #expect(a?.heartbeats == (policy == .apply ? 2 : 1))
        #expect(result.failures.map(\.offset) == (policy == .deadLetter ? [2] : []))
        #expect(result.failures.first.map { $0.reason.hasPrefix("late event") } ?? true)
        let sideOutputs = result.outputs.filter { $0.topic == "late-heartbeats" }
        #expect(sideOutputs.map(\.source.offset) == (policy == .sideOutput(topic: "late-heartbeats") ? [2] : []))
    }

    @Test func eachPartitionHasItsOwnWatermark() async throws {
        // Partition 1 runs far ahead; a's timer on partition 0 waits for
        // partition 0's own watermark.
        let events = try [
            heartbeat("a", at: 0, offset: 0, partition: 0), heartbeat("c", at: 100, offset: 0, partition: 1),
            heartbeat("b", at: 9, offset: 1, partition: 0),
        ]
        let result = try await watchdogReplay().run(events)
        #expect(result.firedTimers.isEmpty)
        #expect(result.pendingTimers[EntityID(type: "Watchdog", key: "a")]?.map(\.due) == [EventTime(milliseconds: 10 * minute)])
    }

    /// Timers that fell due with no later event of their entity fire at
    /// the journal's end, entity by entity in the order of their names,
    /// whatever the lanes and the order the entities were met in.
    @Test(arguments: [1, 2])
    func timersLeftDueAtTheEndFireInTheOrderOfTheirEntitiesNames(lanes: Int) async throws {
        let devices = (0..<30).map { "d\(($0 * 7) % 30 < 10 ? "0" : "")\(($0 * 7) % 30)" }
        var events = try devices.enumerated().map { try heartbeat($0.element, at: 0, offset: Int64($0.offset)) }
        // Brings the watermark past every device's deadline (10 minutes).
        events.append(try heartbeat("zz-clock", at: 100, offset: Int64(devices.count)))
        let result = try await watchdogReplay().run(events, lanes: lanes)
        #expect(result.firedTimers.map(\.entity.key) == devices.sorted())
        #expect(result.outputs.compactMap(\.key) == devices.sorted())
        #expect(result.states.count == devices.count + 1)
        #expect(result.pendingTimers.keys.map(\.key) == ["zz-clock"])
    }

    /// Timers failing at the journal's end are reported in the order of
    /// their entities' names, the same in every run.
    @Test func timersFailingAtTheEndAreReportedInTheOrderOfTheirEntitiesNames() async throws {
        let devices = (0..<30).map { "g\(($0 * 7) % 30 < 10 ? "0" : "")\(($0 * 7) % 30)" }
        var events = try devices.enumerated().map { try heartbeat($0.element, at: 0, offset: Int64($0.offset)) }
        events.append(try heartbeat("zz-clock", at: 100, offset: Int64(devices.count)))
        let replay = try Replay { topology in
            topology.route(topic: "heartbeats", to: Grumbler.self, key: .field(\Heartbeat.device), eventTime: .field(\Heartbeat.at)) {
                grumbler, heartbeat, context in grumbler.handle(heartbeat, in: context)
            }
        }
        let result = try await replay.run(events, lanes: 2)
        let failing = result.failures.map { String($0.reason.split(separator: " ")[3]) }
        #expect(failing == devices.sorted().map { "Grumbler/\($0)" }, "\(result.failures.map(\.reason))")
    }

    @Test func timersReplayTheSameTwice() async throws {
        var events: [ReplayEvent] = []
        var generator = SystemRandomNumberGenerator()
        for offset in 0..<2_000 {
            let minutes = Int64(offset / 10) + Int64.random(in: -3...3, using: &generator)
            events.append(try heartbeat("d\(Int.random(in: 0..<50, using: &generator))", at: minutes, offset: Int64(offset)))
        }
        let replay = try watchdogReplay(outOfOrderness: .seconds(180))
        let first = try await replay.run(events)
        let second = try await replay.run(events, lanes: 1)
        #expect(!first.firedTimers.isEmpty)
        #expect(first == second)
    }
}

/// Counts a visitor's events; its state lives ten minutes without events.
private distributed actor Visitor: Entity {
    typealias ActorSystem = ShoalActorSystem
    struct State: Codable, Sendable { var visits = 0 }
    static var stateTimeToLive: Duration? { .seconds(600) }

    var state = State()

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    func visit() { state.visits += 1 }
}

struct StateTimeToLiveTests {
    private func replay(_ visits: [(String, Int64)]) async throws -> ReplayResult {
        let replay = try Replay { topology in
            topology.route(
                topic: "visits", to: Visitor.self, key: .field(\Heartbeat.device), eventTime: .field(\Heartbeat.at)
            ) { visitor, _, _ in
                visitor.visit()
            }
        }
        let events = try visits.enumerated().map { index, visit in
            try ReplayEvent(topic: "visits", offset: Int64(index), key: visit.0, json: Heartbeat(device: visit.0, at: EventTime(milliseconds: visit.1 * minute)))
        }
        return try await replay.run(events)
    }

    @Test func aStateExpiresAfterItsTimeToLiveWithoutEventsAndStartsAnew() async throws {
        // a visits at 0 and 5 (expiry moves to 15); b's visit at 16 passes
        // it; a's visit at 20 starts from a new state. c keeps visiting.
        let result = try await replay([("a", 0), ("c", 1), ("a", 5), ("c", 10), ("b", 16), ("c", 18), ("a", 20)])
        let a = try result.state(Visitor.State.self, of: EntityID(type: "Visitor", key: "a"))
        #expect(a?.visits == 1, "a's two earlier visits expired")
        #expect(try result.state(Visitor.State.self, of: EntityID(type: "Visitor", key: "c"))?.visits == 3)
        #expect(result.firedTimers.map(\.timer.name) == [EntityTimer.stateExpiry])
    }

    @Test func anEntitysOwnEventPastItsExpiryStartsFromANewState() async throws {
        // a's expiry is 10 after its visit at 0; no other event passes it,
        // and a's own visit at 20 does: that visit finds the state expired.
        let result = try await replay([("a", 0), ("a", 20)])
        #expect(try result.state(Visitor.State.self, of: EntityID(type: "Visitor", key: "a"))?.visits == 1)
        #expect(result.firedTimers.map(\.timer.name) == [EntityTimer.stateExpiry])
        // An entity's own event inside the time-to-live keeps the state.
        let kept = try await replay([("a", 0), ("a", 9)])
        #expect(try kept.state(Visitor.State.self, of: EntityID(type: "Visitor", key: "a"))?.visits == 2)
        #expect(kept.firedTimers.isEmpty)
    }

    @Test func aLateEventDoesNotPullTheExpiryBack() async throws {
        // a's expiry is 40 after its visit at 30; b at 35 moves the
        // watermark to 35; a's late visit at 20 (applied: the default
        // policy) must not bring the expiry back to 30, behind the watermark.
        let result = try await replay([("a", 30), ("b", 35), ("a", 20)])
        #expect(try result.state(Visitor.State.self, of: EntityID(type: "Visitor", key: "a"))?.visits == 2)
        #expect(result.firedTimers.isEmpty)
        #expect(result.pendingTimers[EntityID(type: "Visitor", key: "a")]?.first?.due == EventTime(milliseconds: 40 * minute))
    }

    @Test func anExpiredStateIsGoneFromTheResult() async throws {
        let result = try await replay([("a", 0), ("b", 30)])
        #expect(result.states[EntityID(type: "Visitor", key: "a")] == nil)
        #expect(result.states[EntityID(type: "Visitor", key: "b")] != nil)
    }
}
