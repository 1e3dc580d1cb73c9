import Shoal

/// Whether a running vehicle is still reporting. A report that arrives in
/// time sets the deadline a timeout after it; switching the engine off
/// ends the watch. So each silence is reported once: reports older than
/// the latest (delivered late) never pull the deadline back, and reports
/// whose deadline is already behind the watermark (a modem uploading what
/// it buffered during a silence) neither end the silence nor start another.
struct Heartbeat: Codable, Sendable, Hashable {
    /// The latest report's time.
    var lastSeen: EventTime?
    /// When the engine was last switched off.
    var parkedAt: EventTime?

    /// Takes a report at `time`, with the partition's watermark; returns
    /// the deadline to set, when the report moves it.
    mutating func report(at time: EventTime, watermark: EventTime) -> EventTime? {
        // A report from before the engine went off, delivered late, says
        // nothing about now.
        if let parkedAt, time <= parkedAt { return nil }
        if let lastSeen, time <= lastSeen { return nil }
        lastSeen = time
        let deadline = time + FleetRules.heartbeatTimeout
        return deadline > watermark ? deadline : nil
    }

    /// Takes an engine switched off at `time`; true when that ends the
    /// watch (false when a later report shows the engine running again).
    mutating func park(at time: EventTime) -> Bool {
        parkedAt = max(parkedAt ?? time, time)
        return (lastSeen ?? .distantPast) <= time
    }
}
