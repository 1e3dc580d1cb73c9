import DequeModule

/// Tracks which of a partition's records have had all their effects
/// completed, so that the committed offset never passes an unfinished one.
/// Records start in offset order and may complete in any order (different
/// keys run concurrently).
struct OffsetTracker: Sendable {
    private var inFlight: Deque<(offset: Int64, done: Bool)> = []
    private var completedUpTo: Int64?
    /// The first record left to the next owner: nothing at or after it commits.
    private var ceiling: Int64?

    /// The next offset to commit: every record before it is complete.
    var committable: Int64? {
        guard let completedUpTo else { return nil }
        return ceiling.map { min($0, completedUpTo) } ?? completedUpTo
    }

    init(startingAt offset: Int64? = nil) {
        completedUpTo = offset
    }

    var pendingCount: Int { inFlight.count }

    /// The last record taken in (before any, the one before the start):
    /// a call enqueued now runs after it in its entity's order.
    var lastTaken: Int64? { inFlight.last?.offset ?? completedUpTo.map { $0 - 1 } }

    mutating func begin(_ offset: Int64) {
        precondition(inFlight.last.map { $0.offset < offset } ?? true, "offsets begin in increasing order")
        if inFlight.isEmpty, completedUpTo == nil { completedUpTo = offset }
        inFlight.append((offset, false))
    }

    mutating func complete(_ offset: Int64) {
        guard let index = position(of: offset) else { return }
        inFlight[index].done = true
        while let first = inFlight.first, first.done {
            inFlight.removeFirst()
            completedUpTo = first.offset + 1
        }
    }

    /// Forgets records that never started: the next owner reads them again
    /// from the committed offset, so the commit stops at the first of them
    /// even when later records (of other keys) complete.
    mutating func abandon(_ offsets: Set<Int64>) {
        guard let first = offsets.min() else { return }
        ceiling = min(ceiling ?? first, first)
        inFlight.removeAll { offsets.contains($0.offset) && !$0.done }
    }

    private func position(of offset: Int64) -> Int? {
        var low = 0
        var high = inFlight.count - 1
        while low <= high {
            let middle = (low + high) / 2
            let candidate = inFlight[middle].offset
            if candidate == offset { return middle }
            if candidate < offset { low = middle + 1 } else { high = middle - 1 }
        }
        return nil
    }
}
