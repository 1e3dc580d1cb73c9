/// A span of event time, `start` included, `end` excluded.
public struct Window: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public var start: EventTime
    public var end: EventTime

    public init(start: EventTime, end: EventTime) {
        self.start = start
        self.end = end
    }

    public func contains(_ time: EventTime) -> Bool { start <= time && time < end }

    func overlaps(_ other: Window) -> Bool { start < other.end && other.start < end }

    public static func < (left: Window, right: Window) -> Bool { (left.start, left.end) < (right.start, right.end) }

    public var description: String { "[\(start.milliseconds), \(end.milliseconds))" }
}

/// How events are grouped into windows.
public enum WindowAssigner: Sendable, Hashable, Codable {
    /// Back-to-back windows of `size`, aligned to the epoch.
    case tumbling(size: Duration)
    /// Windows of `size` starting every `advance` (they overlap when
    /// `advance` is shorter), aligned to the epoch.
    case hopping(size: Duration, advance: Duration)
    /// A window per burst of activity: it grows while events come less than
    /// `gap` apart, and ends `gap` after its last event.
    case session(gap: Duration)

    /// The windows an event at `time` falls in (for sessions: its own
    /// window, before merging).
    func windows(for time: EventTime) -> [Window] {
        switch self {
        case .tumbling(let size):
            return Self.aligned(time, size: size.wholeMilliseconds, advance: size.wholeMilliseconds)
        case .hopping(let size, let advance):
            return Self.aligned(time, size: size.wholeMilliseconds, advance: advance.wholeMilliseconds)
        case .session(let gap):
            return [Window(start: time, end: time + gap)]
        }
    }

    /// Windows `[k·advance, k·advance + size)` containing `time`, oldest first.
    private static func aligned(_ time: EventTime, size: Int64, advance: Int64) -> [Window] {
        precondition(size > 0 && advance > 0, "window size and advance must be positive")
        let t = time.milliseconds
        // The latest start at or before t (floor division for negative times too).
        let last = t - ((t % advance) + advance) % advance
        var starts: [Int64] = []
        var start = last
        while start > t - size {
            starts.append(start)
            start -= advance
        }
        return starts.reversed().map { Window(start: EventTime(milliseconds: $0), end: EventTime(milliseconds: $0 + size)) }
    }

    var isSession: Bool {
        if case .session = self { true } else { false }
    }
}
