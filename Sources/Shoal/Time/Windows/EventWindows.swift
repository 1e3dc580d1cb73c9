/// Windows over event time inside an entity's state: events fold into the
/// windows they fall in; a window closes, with its result, once the
/// partition's watermark passes its end plus the allowed lateness. Events
/// for windows already closed are refused (late). Only open windows are
/// kept, so the state stays bounded by how far events may be out of order.
///
/// ```swift
/// // in the entity's State:
/// var perMinute = EventWindows<WindowStatistics<Double>>(.tumbling(size: .seconds(60)))
///
/// // in the handler:
/// state.perMinute.add(reading.celsius, at: reading.at, watermark: context.watermark)
/// context.scheduleClosing(of: state.perMinute, timer: "minute")
///
/// // in timerFired:
/// for closed in state.perMinute.close(at: context.watermark) { ... emit ... }
/// context.scheduleClosing(of: state.perMinute, timer: "minute")
/// ```
public struct EventWindows<Aggregate: WindowAggregate>: Sendable, Codable {
    /// An open window and its aggregate so far.
    public struct Open: Sendable, Codable {
        public var window: Window
        public var aggregate: Aggregate
    }

    public let assigner: WindowAssigner
    public let allowedLateness: Duration
    /// Open windows, oldest first.
    public private(set) var open: [Open] = []

    public init(_ assigner: WindowAssigner, allowedLateness: Duration = .zero) {
        self.assigner = assigner
        self.allowedLateness = allowedLateness
    }

    /// Folds `input` at `time` into its windows that are still open at
    /// `watermark` (for sessions, merging the windows it joins). Returns
    /// false when every window it falls in has closed: a late event.
    @discardableResult
    public mutating func add(_ input: Aggregate.Input, at time: EventTime, watermark: EventTime) -> Bool {
        let windows = assigner.windows(for: time).filter { !isClosed($0, at: watermark) }
        guard !windows.isEmpty else { return false }
        if assigner.isSession {
            mergeSession(windows[0], input)
        } else {
            for window in windows { fold(input, into: window) }
        }
        return true
    }

    /// Removes and returns the windows closed at `watermark`, oldest first.
    public mutating func close(at watermark: EventTime) -> [Open] {
        let lateness = allowedLateness
        let closed = open.filter { $0.window.end + lateness <= watermark }
        open.removeAll { $0.window.end + lateness <= watermark }
        return closed
    }

    /// When the next window closes: set an event-time timer for it.
    public var nextClose: EventTime? { open.map { $0.window.end + allowedLateness }.min() }

    private func isClosed(_ window: Window, at watermark: EventTime) -> Bool {
        window.end + allowedLateness <= watermark
    }

    private mutating func fold(_ input: Aggregate.Input, into window: Window) {
        if let index = open.firstIndex(where: { $0.window == window }) {
            open[index].aggregate.add(input)
            return
        }
        var aggregate = Aggregate()
        aggregate.add(input)
        open.append(Open(window: window, aggregate: aggregate))
        open.sort { $0.window < $1.window }
    }

    /// A session window for one event, merged with every open session it
    /// overlaps (or touches: the gap is measured from event to event).
    private mutating func mergeSession(_ window: Window, _ input: Aggregate.Input) {
        var merged = Open(window: window, aggregate: Aggregate())
        merged.aggregate.add(input)
        for session in open where session.window.overlaps(window) {
            merged.window = Window(start: min(merged.window.start, session.window.start), end: max(merged.window.end, session.window.end))
            merged.aggregate.merge(session.aggregate)
        }
        open.removeAll { $0.window.overlaps(window) }
        open.append(merged)
        open.sort { $0.window < $1.window }
    }
}

extension EntityContext {
    /// Sets the event-time timer `timer` to when the next of `windows`
    /// closes, or cancels it when none is open.
    public func scheduleClosing<Aggregate>(of windows: EventWindows<Aggregate>, timer: String) {
        if let next = windows.nextClose {
            setTimer(timer, at: next)
        } else {
            cancelTimer(timer)
        }
    }
}
