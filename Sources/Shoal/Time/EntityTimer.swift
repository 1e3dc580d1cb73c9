/// A timer an entity set. It fires once, through the entity's
/// ``Entity/timerFired(_:in:)``, in its turn among the entity's events.
public struct EntityTimer: Sendable, Hashable, Codable, Comparable {
    /// The clock a timer waits on.
    public enum Clock: String, Sendable, Hashable, Codable {
        /// Fires when the partition's watermark reaches `due`; the same
        /// events fire it at the same point in a node and in a replay.
        case eventTime
        /// Fires when the wall clock reaches `due` (in a replay: when the
        /// largest event time seen does).
        case processingTime
    }

    /// Unique per entity: setting a timer with the name of a pending one replaces it.
    public var name: String
    public var clock: Clock
    public var due: EventTime

    /// The runtime's own timer for an entity type's state time-to-live.
    public static let stateExpiry = "shoal.state-expiry"

    public init(name: String, clock: Clock, due: EventTime) {
        self.name = name
        self.clock = clock
        self.due = due
    }

    /// Firing order: by due time, then name.
    public static func < (left: EntityTimer, right: EntityTimer) -> Bool {
        (left.due, left.name, left.clock.rawValue) < (right.due, right.name, right.clock.rawValue)
    }
}

/// Where a partition's clocks stand: timers due at or before them fire.
struct TimerClocks: Sendable, Hashable {
    var watermark: EventTime
    var processingTime: EventTime

    func isDue(_ timer: EntityTimer) -> Bool {
        switch timer.clock {
        case .eventTime: timer.due <= watermark
        case .processingTime: timer.due <= processingTime
        }
    }
}

/// Where a timer first fell due: the position of the record (its offset in
/// a node, its index in a replay) whose clocks first passed it, and those
/// clocks. A timer fires with them, wherever its entity's turn comes, so a
/// node and a replay fire it with the same clocks.
struct TimerCrossing: Sendable, Hashable {
    var position: Int64
    var clocks: TimerClocks
}

/// One entity's pending timers, by name, with where each fell due once known.
struct EntityTimers: Sendable, Hashable {
    /// A pending timer, and the due time of its place in a shard's queue
    /// by due time (see ``ShardTimers``): at or before its own.
    private struct Pending: Sendable, Hashable {
        var timer: EntityTimer
        var place: EventTime
    }

    private var pending: [String: Pending] = [:]
    private var crossings: [String: TimerCrossing] = [:]

    var isEmpty: Bool { pending.isEmpty }
    var all: [EntityTimer] { pending.values.map(\.timer).sorted() }

    func timer(named name: String) -> EntityTimer? { pending[name]?.timer }

    /// Sets and cancels timers; `crossing` finds where a timer set now
    /// (at the current position) falls due, when that is known already.
    /// Returns the timers set that need a new place in a shard's queue by
    /// due time: a timer moved later keeps the place of the one it
    /// replaces (as a state's expiry does after every event), unless that
    /// one fell due already (its place was taken) or waited on another clock.
    @discardableResult
    mutating func apply(_ changes: [TimerChange], crossing: (EntityTimer) -> TimerCrossing? = { _ in nil }) -> [EntityTimer] {
        var toQueue: [EntityTimer] = []
        for change in changes {
            switch change {
            case .set(let timer):
                let current = pending[timer.name]
                // A late event must not pull the state's expiry back.
                if timer.name == EntityTimer.stateExpiry, let current, current.timer.due > timer.due { continue }
                let kept = Self.keptPlace(of: current, for: timer, crossed: crossings[timer.name] != nil)
                if kept == nil { toQueue.append(timer) }
                pending[timer.name] = Pending(timer: timer, place: kept ?? timer.due)
                crossings[timer.name] = crossing(timer)
            case .cancel(let name):
                pending[name] = nil
                crossings[name] = nil
            }
        }
        return toQueue
    }

    /// The place `timer` may take over from `current`, the pending timer it
    /// replaces: one not fallen due yet, on the same clock, placed no later.
    private static func keptPlace(of current: Pending?, for timer: EntityTimer, crossed: Bool) -> EventTime? {
        guard let current, !crossed, current.timer.clock == timer.clock, current.place <= timer.due else { return nil }
        return current.place
    }

    /// What a place in a shard's queue stands for when it comes up at `time`.
    enum PlaceOutcome {
        /// The timer is due.
        case due
        /// The timer was moved later: its place is now at this time.
        case movedTo(EventTime)
        /// The timer was cancelled, fired, or has another place.
        case stale
    }

    /// Reads the place at `place` of the timer `name` on `clock`, come up
    /// at `time`, and moves it to the timer's due time if the timer was
    /// moved past `time`.
    mutating func placeCameUp(_ name: String, clock: EntityTimer.Clock, at place: EventTime, time: EventTime) -> PlaceOutcome {
        guard var entry = pending[name], entry.timer.clock == clock, entry.place == place else { return .stale }
        guard entry.timer.due > time else { return .due }
        entry.place = entry.timer.due
        pending[name] = entry
        return .movedTo(entry.place)
    }

    /// Records where the timers due at `clocks` and not yet placed fell due;
    /// true when any was.
    @discardableResult
    mutating func markCrossed(at clocks: TimerClocks, position: Int64) -> Bool {
        guard !pending.isEmpty else { return false }
        var marked = false
        for (name, entry) in pending where crossings[name] == nil && clocks.isDue(entry.timer) {
            crossings[name] = TimerCrossing(position: position, clocks: clocks)
            marked = true
        }
        return marked
    }

    /// The next timer that fell due before `position` (any, when nil), in
    /// the order they fell due, taken out with the clocks it fires with.
    /// `beforeRecord`: before the entity's own record at `position`, which
    /// also finds the state expired when that record's clocks passed the
    /// expiry (a state-time-to-live after its previous event).
    mutating func takeNextCrossed(before position: Int64?, beforeRecord: Bool = false) -> (EntityTimer, TimerCrossing)? {
        // Called twice per event: no allocation, and nothing to do for the
        // many entities without timers.
        guard !crossings.isEmpty else { return nil }
        var next: (EntityTimer, TimerCrossing)?
        for (name, crossing) in crossings where position.map({ Self.fell(name, crossing, before: $0, beforeRecord: beforeRecord) }) ?? true {
            guard let timer = pending[name]?.timer else { continue }
            if let current = next, (current.1.position, current.0) <= (crossing.position, timer) { continue }
            next = (timer, crossing)
        }
        guard let (timer, crossing) = next else { return nil }
        pending[timer.name] = nil
        crossings[timer.name] = nil
        return (timer, crossing)
    }

    /// Whether a timer fell due before `position` (`beforeRecord`: see
    /// ``takeNextCrossed(before:beforeRecord:)``).
    func hasCrossed(before position: Int64, beforeRecord: Bool = false) -> Bool {
        crossings.contains { Self.fell($0.key, $0.value, before: position, beforeRecord: beforeRecord) }
    }

    /// Timers fire after the record whose clocks passed them; the state's
    /// expiry fires before it when it is the entity's own record, so that
    /// the record starts from a fresh state, as the expiry says.
    private static func fell(_ name: String, _ crossing: TimerCrossing, before position: Int64, beforeRecord: Bool) -> Bool {
        crossing.position < position || (beforeRecord && crossing.position == position && name == EntityTimer.stateExpiry)
    }

    /// Whether any of its timers fell due and has not fired yet.
    var hasCrossings: Bool { !crossings.isEmpty }

    /// The position where the last timer to fall due did.
    var latestCrossing: Int64? { crossings.values.lazy.map(\.position).max() }

    /// The position where the first of its timers still to fire fell due.
    var earliestCrossing: Int64? { crossings.values.lazy.map(\.position).min() }
}

/// A handler's request to set or cancel a timer, applied when it returns.
enum TimerChange: Sendable, Hashable {
    case set(EntityTimer)
    case cancel(String)

    /// The runtime's move of the state's expiry after an event.
    var movesStateExpiry: Bool {
        if case .set(let timer) = self { timer.name == EntityTimer.stateExpiry } else { false }
    }
}
