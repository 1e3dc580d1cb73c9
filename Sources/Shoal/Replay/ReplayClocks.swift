import ShoalKafka

/// The clock pass of a replay: walks the decoded events in order, advancing
/// each partition's clock as a node's shard does, stamps every step with its
/// moment, and settles events too late for the watermark by their route's
/// ``LateEvents`` policy. Topics that feed one shard (``CoPartitioning``)
/// share its clock, with its lead topic's bounds, as in a node.
struct ReplayClocks: Sendable {
    /// A partition's clock and its clocks after each of its events, by event index.
    private struct Partition: Sendable {
        var clock: PartitionClock
        var timeline: [(index: Int64, clocks: TimerClocks)] = []
    }

    private var partitions: [Partition] = []
    private var slots: [TopicPartition: Int] = [:]
    /// The last event's partition: journals hold long runs of one, and
    /// hashing the topic name for every event was 4% of a replay (`perf`).
    private var last: (partition: TopicPartition, slot: Int)?
    var late: [(Int, ReplayResult.LateEvent)] = []
    var sideOutputs: [(ReplayOrder, ReplayResult.Output)] = []
    var deadLetters: [(Int, ReplayResult.Failure)] = []
    let coPartitioning: CoPartitioning
    /// The routes by topic, for a shard's lead route.
    let routes: [String: Route]

    init(coPartitioning: CoPartitioning, routes: [String: Route]) {
        self.coPartitioning = coPartitioning
        self.routes = routes
    }

    /// The shard (its lead partition) an event of `topic` and `partition` goes to.
    func shard(of topic: String, _ partition: Int32) -> TopicPartition {
        coPartitioning.shard(of: TopicPartition(topic, partition))
    }

    /// Advances the clock of `step`'s partition by it and stamps it with
    /// its moment; settles it when it comes too late.
    mutating func stamp(_ step: inout ReplayStep, of events: [ReplayEvent]) {
        let slot = slot(of: step, in: events)
        // A replay's processing time is the largest event time seen: a
        // virtual clock that the events advance.
        let (moment, tooLate) = partitions[slot].clock.advance(step.eventTime) { $0.maxEventTime ?? .distantPast }
        partitions[slot].timeline.append((Int64(step.index), moment.after))
        step.moment = moment
        if tooLate, let time = step.eventTime {
            let reason = partitions[slot].clock.lateReason(time, watermark: moment.before.watermark)
            step.tooLate = settleTooLate(step, events[step.index], reason: reason, time: time, watermark: moment.before.watermark)
        }
    }

    private mutating func slot(of step: ReplayStep, in events: [ReplayEvent]) -> Int {
        let (topic, number) = (events[step.index].topic, events[step.index].partition)
        if let last, last.partition.partition == number, last.partition.topic == topic { return last.slot }
        let partition = shard(of: topic, number)
        let slot = slots[partition] ?? {
            partitions.append(Partition(clock: routes[partition.topic]?.clock ?? step.route.clock))
            slots[partition] = partitions.count - 1
            return partitions.count - 1
        }()
        last = (TopicPartition(topic, number), slot)
        return slot
    }

    /// Where `timer`, set at event `position` of `partition`, falls due: the
    /// first of the partition's events from there whose clocks pass it.
    func crossing(of timer: EntityTimer, in partition: TopicPartition, from position: Int64) -> TimerCrossing? {
        guard let slot = slots[partition] else { return nil }
        let timeline = partitions[slot].timeline
        var low = Self.firstIndex(in: timeline) { $0.index >= position }
        // Clocks never go back: the entries that pass the timer are a suffix.
        low = low + Self.firstIndex(in: timeline[low...]) { $0.clocks.isDue(timer) }
        guard low < timeline.count else { return nil }
        return TimerCrossing(position: timeline[low].index, clocks: timeline[low].clocks)
    }

    /// The clocks of `partition` just before `position`: after the last
    /// event before it (both at the distant past before any).
    func clocks(in partition: TopicPartition, before position: Int64) -> TimerClocks {
        let start = TimerClocks(watermark: .distantPast, processingTime: .distantPast)
        guard let slot = slots[partition] else { return start }
        let timeline = partitions[slot].timeline
        let after = Self.firstIndex(in: timeline) { $0.index >= position }
        return after == 0 ? start : timeline[after - 1].clocks
    }

    /// The first position in a sorted-by-`predicate` slice where it holds.
    private static func firstIndex<Entries: RandomAccessCollection>(
        in entries: Entries, where predicate: (Entries.Element) -> Bool
    ) -> Int where Entries.Index == Int {
        var low = entries.startIndex
        var high = entries.endIndex
        while low < high {
            let middle = (low + high) / 2
            if predicate(entries[middle]) { high = middle } else { low = middle + 1 }
        }
        return low - entries.startIndex
    }

    /// Records a too-late event and what its route's policy does with it;
    /// true when it is not to be applied.
    private mutating func settleTooLate(
        _ step: ReplayStep, _ event: ReplayEvent, reason: String, time: EventTime, watermark: EventTime
    ) -> Bool {
        let policy = step.route.late
        late.append((step.index, .init(
            topic: event.topic, partition: event.partition, offset: event.offset, eventTime: time, watermark: watermark, policy: policy
        )))
        switch policy {
        case .apply:
            return false
        case .drop:
            break
        case .sideOutput(let topic):
            sideOutputs.append((ReplayOrder(index: step.index, phase: 1, entity: "", sequence: 0), .init(
                source: OutputID(source: shard(of: event.topic, event.partition), offset: event.offset, position: 0), topic: topic,
                key: event.key, value: event.value, timestamp: event.timestamp
            )))
        case .deadLetter:
            deadLetters.append((step.index, event.failure(reason)))
        }
        return true
    }
}
