import ShoalKafka

/// What a route does with an event that arrives after its partition's
/// watermark has passed its time by more than the allowed lateness.
public enum LateEvents: Sendable, Hashable {
    /// Handle it anyway (the context says it is late).
    case apply
    /// Skip it; only the `shoal_late_events_total` metric counts it.
    case drop
    /// Skip it and copy the record to `topic`, with the reason in a header.
    case sideOutput(topic: String)
    /// Send it to the dead-letter topic with the reason.
    case deadLetter
}

/// Where a route's events get their event time, how far out of order they
/// may arrive, and what happens to those that arrive later than that.
///
/// The partition's watermark is the largest event time seen minus
/// `outOfOrderness`: event-time timers (and windows) up to it fire. An event
/// older than the watermark minus `allowedLateness` is too late and follows
/// `late`.
public struct EventTimePolicy<Event: Sendable>: Sendable {
    let time: @Sendable (Event, KafkaTimestamp?) -> EventTime?
    public var outOfOrderness: Duration
    public var allowedLateness: Duration
    public var late: LateEvents

    init(
        outOfOrderness: Duration, allowedLateness: Duration, late: LateEvents,
        time: @escaping @Sendable (Event, KafkaTimestamp?) -> EventTime?
    ) {
        self.time = time
        self.outOfOrderness = outOfOrderness
        self.allowedLateness = allowedLateness
        self.late = late
    }

    /// The record's Kafka timestamp (the default).
    public static func recordTimestamp(
        outOfOrderness: Duration = .zero, allowedLateness: Duration = .zero, late: LateEvents = .apply
    ) -> Self {
        Self(outOfOrderness: outOfOrderness, allowedLateness: allowedLateness, late: late) { _, timestamp in
            timestamp.map { EventTime(milliseconds: $0.milliseconds) }
        }
    }

    /// A field of the decoded event.
    public static func field(
        _ path: KeyPath<Event, EventTime> & Sendable, outOfOrderness: Duration = .zero,
        allowedLateness: Duration = .zero, late: LateEvents = .apply
    ) -> Self {
        Self(outOfOrderness: outOfOrderness, allowedLateness: allowedLateness, late: late) { event, _ in event[keyPath: path] }
    }

    /// Any function of the decoded event; nil when the event has no time.
    public static func custom(
        outOfOrderness: Duration = .zero, allowedLateness: Duration = .zero, late: LateEvents = .apply,
        _ time: @escaping @Sendable (Event) -> EventTime?
    ) -> Self {
        Self(outOfOrderness: outOfOrderness, allowedLateness: allowedLateness, late: late) { event, _ in time(event) }
    }
}
