import DequeModule
import HeapModule

/// A shard's pending timers: each entity's, and a queue by due time to find
/// the entities whose timers fell due when a clock moves. Every pending
/// timer not fallen due has one place in the queue, at its due time or
/// before it, which the entity's timers record: a timer moved later (a
/// state's expiry, after every event) keeps its place and is queued again
/// at its due time when the place comes up. The queue may hold stale
/// entries (a timer since cancelled, fired, or placed anew); they are
/// dropped when they come up.
struct ShardTimers: Sendable {
    struct Entry: Sendable, Comparable {
        var due: EventTime
        var clock: EntityTimer.Clock
        var id: EntityID
        var name: String

        static func < (left: Entry, right: Entry) -> Bool { left.due < right.due }
        static func == (left: Entry, right: Entry) -> Bool {
            (left.due, left.clock, left.id, left.name) == (right.due, right.clock, right.id, right.name)
        }
    }

    private(set) var byEntity: [EntityID: EntityTimers] = [:]
    /// Entities with a timer that fell due and has not fired yet.
    private var crossed: Set<EntityID> = []
    private var eventTime = Heap<Entry>()
    private var processingTime = Heap<Entry>()

    init(restoring stored: [EntityID: [EntityTimer]] = [:]) {
        for (id, timers) in stored {
            replace(id, with: timers.map { .set($0) })
        }
    }

    func timers(of id: EntityID) -> EntityTimers { byEntity[id] ?? EntityTimers() }

    /// Places in the queue by due time, stale ones included.
    var queued: Int { eventTime.count + processingTime.count }

    /// Applies an entity's timer changes (`crossing` finds where a timer set
    /// now fell due already, if it did).
    mutating func replace(_ id: EntityID, with changes: [TimerChange], crossing: (EntityTimer) -> TimerCrossing? = { _ in nil }) {
        // Changed in place: a copy taken out and stored back copied the
        // entity's tables on every event (`perf`, states with a time-to-live).
        let toQueue = byEntity[id, default: EntityTimers()].apply(changes, crossing: crossing)
        for timer in toQueue { queue(Entry(due: timer.due, clock: timer.clock, id: id, name: timer.name)) }
        settle(id)
    }

    /// Drops all of the entity's timers.
    mutating func removeAll(of id: EntityID) {
        byEntity[id] = nil
        crossed.remove(id)
    }

    private mutating func queue(_ entry: Entry) {
        switch entry.clock {
        case .eventTime: eventTime.insert(entry)
        case .processingTime: processingTime.insert(entry)
        }
    }

    /// Drops the entity's table once empty and notes whether it has a
    /// timer that fell due.
    private mutating func settle(_ id: EntityID) {
        guard let timers = byEntity[id], !timers.isEmpty else {
            byEntity[id] = nil
            crossed.remove(id)
            return
        }
        if timers.hasCrossings {
            crossed.insert(id)
        } else if !crossed.isEmpty {
            crossed.remove(id)
        }
    }

    /// Where the first timer that fell due and has not fired yet did: a
    /// timer its firing sets is looked up in the clocks from there on.
    var earliestCrossing: Int64? {
        crossed.compactMap { byEntity[$0]?.earliestCrossing }.min()
    }

    /// Whether one of the entity's timers fell due before `position`
    /// (`beforeRecord`: see ``EntityTimers/takeNextCrossed(before:beforeRecord:)``).
    func hasCrossed(_ id: EntityID, before position: Int64, beforeRecord: Bool = false) -> Bool {
        // Asked twice per record: a shard without timers skips hashing the id.
        guard !byEntity.isEmpty else { return false }
        return byEntity[id]?.hasCrossed(before: position, beforeRecord: beforeRecord) ?? false
    }

    /// The position where the entity's last timer to fall due did.
    func latestCrossing(of id: EntityID) -> Int64? {
        byEntity[id]?.latestCrossing
    }

    /// The entity's next timer that fell due before `position` (any, when
    /// nil), taken out with where it fell due.
    mutating func takeNextCrossed(_ id: EntityID, before position: Int64?, beforeRecord: Bool = false) -> (EntityTimer, TimerCrossing)? {
        guard let next = byEntity[id]?.takeNextCrossed(before: position, beforeRecord: beforeRecord) else { return nil }
        settle(id)
        return next
    }

    /// Marks the timers that `clocks`, reached at `position`, pass (and that
    /// had not fallen due yet); returns their entities.
    mutating func markCrossed(at clocks: TimerClocks, position: Int64) -> Set<EntityID> {
        var due: Set<EntityID> = []
        collect(.eventTime, upTo: clocks.watermark, into: &due)
        collect(.processingTime, upTo: clocks.processingTime, into: &due)
        let marked = due.filter { id in byEntity[id]?.markCrossed(at: clocks, position: position) ?? false }
        crossed.formUnion(marked)
        return marked
    }

    /// Takes the places up to `time` out of the queue: a timer due by then
    /// goes to `due`; one moved later since it took its place is queued
    /// again at its due time.
    private mutating func collect(_ clock: EntityTimer.Clock, upTo time: EventTime, into due: inout Set<EntityID>) {
        while let place = takePlace(on: clock, upTo: time) {
            switch byEntity[place.id]?.placeCameUp(place.name, clock: clock, at: place.due, time: time) {
            case .due?: due.insert(place.id)
            // Past `time`: not taken again by this loop.
            case .movedTo(let later)?: queue(Entry(due: later, clock: clock, id: place.id, name: place.name))
            case .stale?, nil: break
            }
        }
    }

    private mutating func takePlace(on clock: EntityTimer.Clock, upTo time: EventTime) -> Entry? {
        switch clock {
        case .eventTime:
            guard let first = eventTime.min, first.due <= time else { return nil }
            return eventTime.removeMin()
        case .processingTime:
            guard let first = processingTime.min, first.due <= time else { return nil }
            return processingTime.removeMin()
        }
    }
}

/// The partition clock after each accepted record not yet committed: a
/// checkpoint stores the clock as it stood at the offset it commits, and a
/// timer set late finds the record whose clocks first passed it.
struct ClockMarks: Sendable {
    static let keptLimit = 100_000

    private var marks: Deque<(offset: Int64, maxEventTime: EventTime?, clocks: TimerClocks)> = []
    private(set) var committed: EventTime?
    /// The largest watermark and processing time of any mark so far: a
    /// timer they do not pass, no mark passes. A state's expiry, set again
    /// by every record, is such a timer; looking for its crossing through
    /// every mark was 14 % of a node whose states have a time-to-live
    /// (`perf`, `node-throughput --window 16 --expiring`).
    private var reached = TimerClocks(watermark: .distantPast, processingTime: .distantPast)

    init(restoring maxEventTime: EventTime?) {
        committed = maxEventTime
    }

    mutating func mark(_ offset: Int64, _ maxEventTime: EventTime?, clocks: TimerClocks) {
        marks.append((offset, maxEventTime, clocks))
        reached.watermark = max(reached.watermark, clocks.watermark)
        reached.processingTime = max(reached.processingTime, clocks.processingTime)
    }

    /// The first record at or after `position` whose clocks pass `timer`.
    func crossing(of timer: EntityTimer, from position: Int64) -> TimerCrossing? {
        guard reached.isDue(timer) else { return nil }
        // Marks are in offset order: the first at or after `position` by halving.
        var (low, high) = (marks.startIndex, marks.endIndex)
        while low < high {
            let middle = (low + high) / 2
            if marks[middle].offset < position { low = middle + 1 } else { high = middle }
        }
        guard let mark = marks[low...].first(where: { $0.clocks.isDue(timer) }) else { return nil }
        return TimerCrossing(position: mark.offset, clocks: mark.clocks)
    }

    /// The last accepted record's offset.
    var lastOffset: Int64? { marks.last?.offset }

    /// The clock at `nextOffset`: records before it are all applied. The
    /// marks from `keeping` on stay, even below `nextOffset`: a timer that
    /// fell due there and has not fired, or is firing, may set a timer that
    /// its records' clocks passed already, and a replay finds where in its
    /// own timeline; so must the node, however many commits came between.
    mutating func take(before nextOffset: Int64?, keeping: Int64? = nil) -> EventTime? {
        guard let nextOffset else { return committed }
        var dropBefore = min(nextOffset, keeping ?? .max)
        // A timer stuck crossed (its entity cannot be activated) must not
        // keep every later record's mark: past this many, the oldest go.
        if marks.count > Self.keptLimit, let first = marks.first, first.offset < nextOffset {
            dropBefore = min(nextOffset, first.offset + Int64(marks.count - Self.keptLimit))
        }
        // The clock only moves forward: the last mark before `nextOffset` is the committed one.
        if let last = marks.last(where: { $0.offset < nextOffset && $0.maxEventTime != nil }) {
            committed = last.maxEventTime
        }
        while let first = marks.first, first.offset < dropBefore { marks.removeFirst() }
        return committed
    }
}
