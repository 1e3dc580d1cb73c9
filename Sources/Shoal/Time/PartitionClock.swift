/// A partition's event-time clock: its watermark, and how an event's time
/// compares with it. Pure, so that a node's shard and a replay advance it
/// the same way from the same records.
struct PartitionClock: Sendable, Hashable {
    /// How a new event stands against the watermark before it.
    enum Arrival: Sendable, Hashable {
        case onTime
        /// Behind the watermark, within the allowed lateness.
        case late
        /// Behind the watermark by more than the allowed lateness.
        case tooLate
    }

    let outOfOrderness: Duration
    let allowedLateness: Duration
    /// The largest event time seen.
    private(set) var maxEventTime: EventTime?

    init(outOfOrderness: Duration, allowedLateness: Duration, maxEventTime: EventTime? = nil) {
        self.outOfOrderness = outOfOrderness
        self.allowedLateness = allowedLateness
        self.maxEventTime = maxEventTime
    }

    /// Event-time timers due at or before it fire; none before any event.
    var watermark: EventTime { maxEventTime.map { $0 - outOfOrderness } ?? .distantPast }

    /// Where an event with `time` stands now.
    func arrival(of time: EventTime) -> Arrival {
        guard time < watermark else { return .onTime }
        return time < watermark - allowedLateness ? .tooLate : .late
    }

    /// Takes an event's time into the watermark (never moves it back).
    mutating func observe(_ time: EventTime) {
        if maxEventTime.map({ time > $0 }) ?? true { maxEventTime = time }
    }
}

extension PartitionClock {
    /// Takes an event's time (if it has one) into the clock: the moment the
    /// event is applied at, and whether it is too late. `now` gives the
    /// processing time at a state of the clock (the wall clock in a node,
    /// the largest event time in a replay).
    mutating func advance(
        _ time: EventTime?, now: (PartitionClock) -> EventTime
    ) -> (moment: EntityDispatch.Moment, tooLate: Bool) {
        let before = TimerClocks(watermark: watermark, processingTime: now(self))
        var arrival = Arrival.onTime
        if let time {
            arrival = self.arrival(of: time)
            observe(time)
        }
        let after = TimerClocks(watermark: watermark, processingTime: now(self))
        let moment = EntityDispatch.Moment(eventTime: time, before: before, after: after, isLate: arrival != .onTime)
        return (moment, arrival == .tooLate)
    }

    /// Why an event too late for this clock is set aside.
    func lateReason(_ time: EventTime, watermark: EventTime) -> String {
        "late event: event time \(time.milliseconds) is more than the allowed lateness (\(allowedLateness)) behind the watermark \(watermark.milliseconds)"
    }
}
