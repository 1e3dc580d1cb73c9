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

/// One entity's pending timers, by name.
struct EntityTimers: Sendable, Hashable, Codable {
    private(set) var byName: [String: EntityTimer] = [:]

    var isEmpty: Bool { byName.isEmpty }
    var all: [EntityTimer] { byName.values.sorted() }

    /// The first timer due at `clocks`, taken out.
    mutating func takeNextDue(at clocks: TimerClocks) -> EntityTimer? {
        // Called twice per event: no allocation, and nothing to do for the
        // many entities without timers.
        guard !byName.isEmpty else { return nil }
        var next: EntityTimer?
        for timer in byName.values where clocks.isDue(timer) {
            if next.map({ timer < $0 }) ?? true { next = timer }
        }
        guard let next else { return nil }
        byName[next.name] = nil
        return next
    }

    mutating func apply(_ changes: [TimerChange]) {
        for change in changes {
            switch change {
            case .set(let timer):
                // A late event must not pull the state's expiry back.
                if timer.name == EntityTimer.stateExpiry, let current = byName[timer.name], current.due > timer.due { continue }
                byName[timer.name] = timer
            case .cancel(let name): byName[name] = nil
            }
        }
    }

    /// The earliest due time on `clock`, if any timer waits on it.
    func earliest(_ clock: EntityTimer.Clock) -> EventTime? {
        byName.values.filter { $0.clock == clock }.map(\.due).min()
    }
}

/// A handler's request to set or cancel a timer, applied when it returns.
enum TimerChange: Sendable, Hashable {
    case set(EntityTimer)
    case cancel(String)
}
