import ShoalKafka

/// The clock pass of a replay: walks the decoded events in order, advancing
/// each partition's clock as a node's shard does, stamps every step with its
/// moment, and settles events too late for the watermark by their route's
/// ``LateEvents`` policy.
struct ReplayClocks: Sendable {
    private var clocks: [TopicPartition: PartitionClock] = [:]
    /// Each partition's clocks after each of its events, by event index.
    private var timelines: [TopicPartition: [(index: Int64, clocks: TimerClocks)]] = [:]
    var late: [(Int, ReplayResult.LateEvent)] = []
    var sideOutputs: [(ReplayOrder, ReplayResult.Output)] = []
    var deadLetters: [(Int, ReplayResult.Failure)] = []

    mutating func stamp(_ step: ReplayStep) {
        let partition = step.record.topicPartition
        var clock = clocks[partition] ?? step.route.clock
        // A replay's processing time is the largest event time seen: a
        // virtual clock that the events advance.
        let (moment, tooLate) = clock.advance(step.eventTime) { $0.maxEventTime ?? .distantPast }
        clocks[partition] = clock
        timelines[partition, default: []].append((Int64(step.index), moment.after))
        step.moment = moment
        if tooLate, let time = step.eventTime {
            settleTooLate(step, reason: clock.lateReason(time, watermark: moment.before.watermark), time: time, watermark: moment.before.watermark)
        }
    }

    /// Where `timer`, set at event `position` of `partition`, falls due: the
    /// first of the partition's events from there whose clocks pass it.
    func crossing(of timer: EntityTimer, in partition: TopicPartition, from position: Int64) -> TimerCrossing? {
        guard let timeline = timelines[partition] else { return nil }
        var low = Self.firstIndex(in: timeline) { $0.index >= position }
        // Clocks never go back: the entries that pass the timer are a suffix.
        low = low + Self.firstIndex(in: timeline[low...]) { $0.clocks.isDue(timer) }
        guard low < timeline.count else { return nil }
        return TimerCrossing(position: timeline[low].index, clocks: timeline[low].clocks)
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

    private mutating func settleTooLate(_ step: ReplayStep, reason: String, time: EventTime, watermark: EventTime) {
        let record = step.record
        let policy = step.route.late
        late.append((step.index, .init(
            topic: record.topic, partition: record.partition, offset: record.offset, eventTime: time, watermark: watermark, policy: policy
        )))
        switch policy {
        case .apply:
            return
        case .drop:
            break
        case .sideOutput(let topic):
            sideOutputs.append((ReplayOrder(index: step.index, phase: 1, entity: "", sequence: 0), .init(
                source: OutputID(source: record.topicPartition, offset: record.offset, position: 0), topic: topic,
                key: record.keyString, value: record.value?.array ?? []
            )))
        case .deadLetter:
            deadLetters.append((step.index, step.failure(reason)))
        }
        step.tooLate = true
    }
}
