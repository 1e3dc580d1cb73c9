import DequeModule
import HeapModule

/// A shard's pending timers: each entity's, and a queue by due time to find
/// the entities whose timers fell due when a clock moves. The queue may hold
/// stale entries (a timer since replaced, cancelled or fired); they are
/// checked against the entity's timers when they come up.
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

    /// Applies an entity's timer changes (`crossing` finds where a timer set
    /// now fell due already, if it did); returns its timers now.
    @discardableResult
    mutating func replace(
        _ id: EntityID, with changes: [TimerChange], crossing: (EntityTimer) -> TimerCrossing? = { _ in nil }
    ) -> [EntityTimer] {
        var timers = byEntity[id] ?? EntityTimers()
        timers.apply(changes, crossing: crossing)
        for change in changes {
            guard case .set(let timer) = change else { continue }
            let entry = Entry(due: timer.due, clock: timer.clock, id: id, name: timer.name)
            switch timer.clock {
            case .eventTime: eventTime.insert(entry)
            case .processingTime: processingTime.insert(entry)
            }
        }
        store(timers, of: id)
        return timers.all
    }

    /// Drops all of the entity's timers.
    mutating func removeAll(of id: EntityID) {
        byEntity[id] = nil
        crossed.remove(id)
    }

    private mutating func store(_ timers: EntityTimers, of id: EntityID) {
        byEntity[id] = timers.isEmpty ? nil : timers
        if timers.hasCrossings { crossed.insert(id) } else { crossed.remove(id) }
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
        guard var timers = byEntity[id], let next = timers.takeNextCrossed(before: position, beforeRecord: beforeRecord) else { return nil }
        store(timers, of: id)
        return next
    }

    /// Marks the timers that `clocks`, reached at `position`, pass (and that
    /// had not fallen due yet); returns their entities.
    mutating func markCrossed(at clocks: TimerClocks, position: Int64) -> Set<EntityID> {
        var due: Set<EntityID> = []
        collect(&eventTime, upTo: clocks.watermark, into: &due)
        collect(&processingTime, upTo: clocks.processingTime, into: &due)
        let marked = due.filter { id in byEntity[id]?.markCrossed(at: clocks, position: position) ?? false }
        crossed.formUnion(marked)
        return marked
    }

    private func collect(_ heap: inout Heap<Entry>, upTo time: EventTime, into due: inout Set<EntityID>) {
        while let first = heap.min, first.due <= time {
            heap.removeMin()
            let current = byEntity[first.id]?.byName[first.name]
            if current?.due == first.due, current?.clock == first.clock { due.insert(first.id) }
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
