/// "A not followed by B within `within`": feed it a key's A and B events;
/// an A for which no B comes within `within` after it (in event time) is
/// reported by `timedOut(at:)` once the watermark has passed its span plus
/// the allowed lateness (no late B can arrive for it any more). Set an
/// event-time timer at `nextDeadline` to be called then.
///
/// ```swift
/// // State: var unpaid = NotFollowedBy<String, String>(within: .seconds(600))
/// state.unpaid.addFirst(order.id, at: order.at)          // an order
/// state.unpaid.addSecond(payment.order, at: payment.at)  // its payment
/// context.setTimer("unpaid", at: state.unpaid.nextDeadline)  (when not nil)
/// // in timerFired: for order in state.unpaid.timedOut(at: context.watermark) { ... }
/// ```
public struct NotFollowedBy<First: Codable & Sendable, Second: Codable & Sendable>: Codable, Sendable {
    public let within: Duration
    public let allowedLateness: Duration
    public private(set) var firsts: [PatternEvent<First>] = []
    /// Bs kept for an A that may still arrive late.
    public private(set) var seconds: [PatternEvent<Second>] = []

    public init(within: Duration, allowedLateness: Duration = .zero) {
        self.within = within
        self.allowedLateness = allowedLateness
    }

    /// Adds an A, unless a B it accepts (`satisfiedBy`, any B by default)
    /// already came within its span.
    public mutating func addFirst(_ value: First, at time: EventTime, satisfiedBy accepts: (Second) -> Bool = { _ in true }) {
        guard !seconds.contains(where: { time <= $0.at && $0.at - time <= within && accepts($0.value) }) else { return }
        firsts.insertSorted(PatternEvent(at: time, value: value)) { $0.at }
    }

    /// Adds a B: every pending A it follows within the span, and `satisfies`
    /// (every A by default; say which to join on an id), is satisfied.
    public mutating func addSecond(_ value: Second, at time: EventTime, satisfies: (First) -> Bool = { _ in true }) {
        let within = self.within
        firsts.removeAll { $0.at <= time && time - $0.at <= within && satisfies($0.value) }
        seconds.insertSorted(PatternEvent(at: time, value: value)) { $0.at }
    }

    /// The As whose span (plus lateness) the watermark has passed with no
    /// B: removed and returned, earliest first. (A B at the end of the span
    /// is still on time while the watermark is there, so only a later
    /// watermark times an A out.) Also drops Bs too old to satisfy any A
    /// still to come.
    public mutating func timedOut(at watermark: EventTime) -> [PatternEvent<First>] {
        let (within, lateness) = (self.within, allowedLateness)
        let due = firsts.filter { $0.at + within + lateness < watermark }
        firsts.removeAll { $0.at + within + lateness < watermark }
        seconds.removeAll { $0.at + lateness < watermark }
        return due
    }

    /// When the next A times out, or a kept B can be dropped (the first
    /// watermark past it).
    public var nextDeadline: EventTime? {
        let firstDeadline = firsts.first.map { $0.at + within + allowedLateness }
        let secondDeadline = seconds.first.map { $0.at + allowedLateness }
        return [firstDeadline, secondDeadline].compactMap { $0 }.min().map { $0 + .milliseconds(1) }
    }
}
