import DequeModule
import ShoalKafka

/// The merge of a shard fed by several topics: records wait in one queue
/// per topic and are taken in event-time order (the route's event time,
/// else the record's timestamp), so that a key's events from different
/// topics meet in the order they happened rather than the order their
/// fetches arrived, as Kafka Streams synchronises a task's partitions.
/// Each topic's own order is kept. A topic with nothing queued holds the
/// others back while it may still have earlier records, for at most
/// ``maxWait``: while the consumer knows of records of it not delivered
/// yet, or while it is flowing (it delivered records within the last
/// ``activeWindow``: a consumer's knowledge of a partition's end is only
/// as fresh as its last fetch). A topic that has gone quiet (a repartition
/// topic, mostly) holds nothing back.
struct ShardAligner: Sendable {
    /// The shard's input topics, the lead first (ties go to the earlier).
    let topics: [String]
    /// Whether a topic holds the others back while it flows (not a
    /// repartition topic: its records are late by nature, and one forward
    /// would make every batch of the others wait).
    private let waitsWhileFlowing: [Bool]
    /// How long a topic that may have records holds the others back.
    let maxWait: Duration
    private var queues: [Deque<(record: KafkaRecord, prepared: PreparedRecord, time: Int64)>]
    private var blockedSince: ContinuousClock.Instant?
    /// When each topic last delivered records.
    private var arrivals: [ContinuousClock.Instant?]
    /// Records waiting.
    private(set) var count = 0

    /// How long a topic counts as flowing after it delivered records.
    var activeWindow: Duration { maxWait * 10 }

    init(topics: [String], maxWait: Duration, quiet: Set<String> = []) {
        self.topics = topics
        self.maxWait = maxWait
        waitsWhileFlowing = topics.map { !quiet.contains($0) }
        queues = Array(repeating: [], count: topics.count)
        arrivals = Array(repeating: nil, count: topics.count)
    }

    /// Queues `records`, arrived `now`, behind their topics' earlier ones.
    mutating func add(_ records: [(KafkaRecord, PreparedRecord)], now: ContinuousClock.Instant = .now) {
        for (record, prepared) in records {
            let index = topics.firstIndex(of: record.topic) ?? 0
            queues[index].append((record, prepared, Self.time(of: record, prepared)))
            arrivals[index] = now
            count += 1
        }
    }

    /// The records that may go now, in order, and whether others wait
    /// (then the caller comes back after ``maxWait``). `pending` names the
    /// topics that may have records the shard was not given yet.
    mutating func release(pending: Set<String>, now: ContinuousClock.Instant) -> (ready: [(KafkaRecord, PreparedRecord)], waiting: Bool) {
        var ready: [(KafkaRecord, PreparedRecord)] = []
        // Which topics may still have earlier records, decided once per call
        // (not per record taken: that hashed each topic name every time).
        let mayHaveMore = topics.indices.map { index in
            pending.contains(topics[index]) || waitsWhileFlowing[index] && arrivals[index].map { now - $0 < activeWindow } == true
        }
        while count > 0 {
            let blocked = topics.indices.contains { queues[$0].isEmpty && mayHaveMore[$0] }
            if blocked {
                let since = blockedSince ?? now
                blockedSince = since
                if now - since < maxWait { return (ready, true) }
            } else {
                blockedSince = nil
            }
            var earliest: Int?
            for index in queues.indices where !queues[index].isEmpty {
                if earliest.map({ queues[index][0].time < queues[$0][0].time }) ?? true { earliest = index }
            }
            guard let index = earliest else { break }
            let next = queues[index].removeFirst()
            count -= 1
            ready.append((next.record, next.prepared))
        }
        blockedSince = nil
        return (ready, false)
    }

    /// Drops what waits (the shard stops: the next owner reads it again).
    mutating func removeAll() {
        for index in queues.indices { queues[index].removeAll() }
        count = 0
        blockedSince = nil
    }

    private static func time(of record: KafkaRecord, _ prepared: PreparedRecord) -> Int64 {
        if case .event(_, _, _, let time?, _) = prepared { return time.milliseconds }
        return record.timestamp?.milliseconds ?? .min
    }
}

extension Shard {
    /// The input topics that may have records the shard was not given yet
    /// (asked of the consumer outside the shard's lock).
    func pendingInputs() -> Set<String> {
        Set(inputs.filter { (services.inputLag($0) ?? 1) > 0 }.map(\.topic))
    }

    /// Takes what the aligner holds once its wait is over.
    func wakeAligner() {
        let wait = services.configuration.alignmentWait
        Task { [self] in
            try? await Task.sleep(for: wait)
            state.withLock { $0.alignmentWakeArmed = false }
            accept([])
        }
    }
}
