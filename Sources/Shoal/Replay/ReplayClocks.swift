import ShoalKafka

/// The clock pass of a replay: walks the decoded events in order, advancing
/// each partition's clock as a node's shard does, stamps every step with its
/// moment, and settles events too late for the watermark by their route's
/// ``LateEvents`` policy.
struct ReplayClocks: Sendable {
    private var clocks: [TopicPartition: PartitionClock] = [:]
    var late: [(Int, ReplayResult.LateEvent)] = []
    var sideOutputs: [(ReplayOrder, ReplayResult.Output)] = []
    var deadLetters: [(Int, ReplayResult.Failure)] = []

    mutating func stamp(_ step: ReplayStep) {
        let partition = step.record.topicPartition
        var clock = clocks[partition] ?? step.route.clock
        let (moment, tooLate) = clock.advance(step.eventTime) { $0.maxEventTime ?? .distantPast }
        clocks[partition] = clock
        step.moment = moment
        if tooLate, let time = step.eventTime {
            settleTooLate(step, reason: clock.lateReason(time, watermark: moment.before.watermark), time: time, watermark: moment.before.watermark)
        }
    }

    /// Where `partition`'s clocks stand after the last event.
    func final(_ partition: TopicPartition) -> TimerClocks {
        clocks[partition].map(Self.timerClocks) ?? TimerClocks(watermark: .distantPast, processingTime: .distantPast)
    }

    /// A replay's processing time is the largest event time seen: a virtual
    /// clock that the events advance.
    private static func timerClocks(_ clock: PartitionClock) -> TimerClocks {
        TimerClocks(watermark: clock.watermark, processingTime: clock.maxEventTime ?? .distantPast)
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
