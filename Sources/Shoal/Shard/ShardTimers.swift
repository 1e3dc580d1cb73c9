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
    private var eventTime = Heap<Entry>()
    private var processingTime = Heap<Entry>()

    init(restoring stored: [EntityID: [EntityTimer]] = [:]) {
        for (id, timers) in stored {
            replace(id, with: timers.map { .set($0) })
        }
    }

    func timers(of id: EntityID) -> EntityTimers { byEntity[id] ?? EntityTimers() }

    var count: Int { byEntity.values.reduce(0) { $0 + $1.all.count } }

    /// Applies an entity's timer changes; returns its timers now.
    @discardableResult
    mutating func replace(_ id: EntityID, with changes: [TimerChange]) -> [EntityTimer] {
        var timers = byEntity[id] ?? EntityTimers()
        timers.apply(changes)
        for change in changes {
            guard case .set(let timer) = change else { continue }
            let entry = Entry(due: timer.due, clock: timer.clock, id: id, name: timer.name)
            switch timer.clock {
            case .eventTime: eventTime.insert(entry)
            case .processingTime: processingTime.insert(entry)
            }
        }
        byEntity[id] = timers.isEmpty ? nil : timers
        return timers.all
    }

    /// Drops all of the entity's timers.
    mutating func removeAll(of id: EntityID) {
        byEntity[id] = nil
    }

    /// Whether the entity has a timer due at `clocks`.
    func hasDue(_ id: EntityID, at clocks: TimerClocks) -> Bool {
        byEntity[id]?.byName.values.contains(where: clocks.isDue) ?? false
    }

    /// The entity's next timer due at `clocks`, taken out.
    mutating func takeNextDue(_ id: EntityID, at clocks: TimerClocks) -> EntityTimer? {
        guard var timers = byEntity[id], let timer = timers.takeNextDue(at: clocks) else { return nil }
        byEntity[id] = timers.isEmpty ? nil : timers
        return timer
    }

    /// Entities with a timer due at `clocks` (stale queue entries dropped).
    mutating func entitiesDue(at clocks: TimerClocks) -> Set<EntityID> {
        var due: Set<EntityID> = []
        collect(&eventTime, upTo: clocks.watermark, into: &due)
        collect(&processingTime, upTo: clocks.processingTime, into: &due)
        return due
    }

    private func collect(_ heap: inout Heap<Entry>, upTo time: EventTime, into due: inout Set<EntityID>) {
        while let first = heap.min, first.due <= time {
            heap.removeMin()
            let current = byEntity[first.id]?.byName[first.name]
            if current?.due == first.due, current?.clock == first.clock { due.insert(first.id) }
        }
    }
}

/// The partition clock's largest event time after each accepted record, so
/// a checkpoint stores the clock as it stood at the offset it commits.
struct ClockMarks: Sendable {
    private var marks: Deque<(offset: Int64, maxEventTime: EventTime?)> = []
    private(set) var committed: EventTime?

    init(restoring maxEventTime: EventTime?) {
        committed = maxEventTime
    }

    mutating func mark(_ offset: Int64, _ maxEventTime: EventTime?) {
        marks.append((offset, maxEventTime))
    }

    /// The clock at `nextOffset`: records before it are all applied.
    mutating func take(before nextOffset: Int64?) -> EventTime? {
        guard let nextOffset else { return committed }
        while let first = marks.first, first.offset < nextOffset {
            committed = first.maxEventTime ?? committed
            marks.removeFirst()
        }
        return committed
    }
}
