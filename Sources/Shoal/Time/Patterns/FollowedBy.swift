/// "A followed by B within `within`": feed it a key's A and B events; a B
/// at most `within` after an A (in event time) matches the earliest such A,
/// whichever of the two arrived first. Each event matches once. Events that
/// can no longer match are dropped by `expire`.
///
/// ```swift
/// // State: var abandonedThenTicket = FollowedBy<String, String>(within: .seconds(1_800))
/// state.abandonedThenTicket.addFirst(cart.id, at: cart.at)
/// if let match = state.abandonedThenTicket.addSecond(ticket.id, at: ticket.at) { ... offer ... }
/// ```
public struct FollowedBy<First: Codable & Sendable, Second: Codable & Sendable>: Codable, Sendable {
    public struct Match {
        public var first: PatternEvent<First>
        public var second: PatternEvent<Second>
    }

    public let within: Duration
    public let allowedLateness: Duration
    public private(set) var firsts: [PatternEvent<First>] = []
    /// Bs kept for an A that may still arrive late.
    public private(set) var seconds: [PatternEvent<Second>] = []

    public init(within: Duration, allowedLateness: Duration = .zero) {
        self.within = within
        self.allowedLateness = allowedLateness
    }

    /// Adds an A; returns the match when a B it accepts (`matching`, any B
    /// by default) already came for it.
    public mutating func addFirst(_ value: First, at time: EventTime, matching accepts: (Second) -> Bool = { _ in true }) -> Match? {
        let first = PatternEvent(at: time, value: value)
        if let index = seconds.firstIndex(where: { time <= $0.at && $0.at - time <= within && accepts($0.value) }) {
            return Match(first: first, second: seconds.remove(at: index))
        }
        firsts.insertSorted(first) { $0.at }
        return nil
    }

    /// Adds a B; returns the match with the earliest A it follows in time
    /// (among those `matching` accepts: every A by default).
    public mutating func addSecond(_ value: Second, at time: EventTime, matching accepts: (First) -> Bool = { _ in true }) -> Match? {
        let second = PatternEvent(at: time, value: value)
        if let index = firsts.firstIndex(where: { $0.at <= time && time - $0.at <= within && accepts($0.value) }) {
            return Match(first: firsts.remove(at: index), second: second)
        }
        seconds.insertSorted(second) { $0.at }
        return nil
    }

    /// Drops what can no longer match: As whose span ended before the
    /// watermark (less the allowed lateness), Bs before it.
    public mutating func expire(at watermark: EventTime) {
        let horizon = watermark - allowedLateness
        firsts.removeAll { $0.at + within < horizon }
        seconds.removeAll { $0.at < horizon }
    }

    /// When the oldest pending event expires (the first watermark past it).
    public var nextExpiry: EventTime? {
        let firstExpiry = firsts.first.map { $0.at + within + allowedLateness }
        let secondExpiry = seconds.first.map { $0.at + allowedLateness }
        return [firstExpiry, secondExpiry].compactMap { $0 }.min().map { $0 + .milliseconds(1) }
    }
}
