/// "At least `threshold` matching events within `within`": feed it the
/// matching events of one key; it reports a match once that many fall in
/// one span of `within`, in event time, whatever order they arrive in. The
/// events of a match are consumed (the next match needs new ones). Events
/// too old to be part of any future match are dropped by `expire`.
///
/// ```swift
/// // State: var smallPayments = CountWithin<String>(threshold: 5, within: .seconds(120))
/// if let match = state.smallPayments.add(payment.id, at: payment.at) { ... alert ... }
/// state.smallPayments.expire(at: context.watermark)
/// ```
public struct CountWithin<Value: Codable & Sendable>: Codable, Sendable {
    public let threshold: Int
    public let within: Duration
    public let allowedLateness: Duration
    /// Events that may still be part of a match, by time.
    public private(set) var pending: [PatternEvent<Value>] = []

    public init(threshold: Int, within: Duration, allowedLateness: Duration = .zero) {
        precondition(threshold > 0, "a threshold of at least one event")
        self.threshold = threshold
        self.within = within
        self.allowedLateness = allowedLateness
    }

    /// Adds a matching event; returns the `threshold` events of a match,
    /// earliest first, when this one completes one.
    public mutating func add(_ value: Value, at time: EventTime) -> [PatternEvent<Value>]? {
        pending.insertSorted(PatternEvent(at: time, value: value)) { $0.at }
        guard let new = pending.lastIndex(where: { $0.at == time }) else { return nil }
        // The earliest run of `threshold` consecutive events (by time) that
        // includes the new one and spans no more than `within`.
        let first = max(0, new - threshold + 1)
        let last = min(new, pending.count - threshold)
        guard first <= last else { return nil }
        for start in first...last where pending[start + threshold - 1].at - pending[start].at <= within {
            let match = Array(pending[start..<(start + threshold)])
            pending.removeSubrange(start..<(start + threshold))
            return match
        }
        return nil
    }

    /// Drops events that no event still to come (at or after `watermark`
    /// minus the allowed lateness) can join in a match.
    public mutating func expire(at watermark: EventTime) {
        let horizon = watermark - allowedLateness - within
        pending.removeAll { $0.at < horizon }
    }

    /// When the oldest pending event expires (the first watermark past its
    /// span): an event-time timer then keeps the state clean when no more
    /// events come.
    public var nextExpiry: EventTime? { pending.first.map { $0.at + within + allowedLateness + .milliseconds(1) } }
}
