import DequeModule
import ShoalKafka

/// The order of a shard fed by several co-partitioned topics (see
/// ``CoPartitioning``): each record it takes in gets the next *position*,
/// which stands in for its offset everywhere inside the shard (the offset
/// tracker, mailboxes, timers, the journal's order, output ids), so the
/// order in which a key's events from different topics interleave is the
/// order the journal records and a replay repeats. Each record's own topic
/// and offset are kept until a commit covers it, to give each topic's
/// next offset.
///
/// A shard of one topic has none: there a record's position is its offset.
struct ShardSources: Sendable {
    /// The position the next record gets.
    private(set) var next: Int64
    /// Each topic's next offset after the records before the last position
    /// asked for by ``offsets(before:)``.
    private(set) var consumed: [String: Int64]
    /// Records placed and not yet before a commit, in position order:
    /// where each was read, and for one forwarded to the shard through its
    /// repartition topic, where it came from.
    private var open: Deque<(position: Int64, source: SourceOffset, origin: SourceOffset?)> = []

    /// Positions start at `next`; `consumed` is each topic's next offset
    /// as the file holds it.
    init(next: Int64, consumed: [String: Int64]) {
        self.next = next
        self.consumed = consumed
    }

    /// `record` at the next position (its offset replaced by it). A record
    /// forwarded through the repartition topic from `origin` takes its
    /// origin's topic, as its handler and the journal know it.
    mutating func place(_ record: KafkaRecord, origin: SourceOffset? = nil) -> KafkaRecord {
        var placed = record
        placed.offset = next
        if let origin { placed.topic = origin.topic }
        open.append((next, SourceOffset(topic: record.topic, offset: record.offset), origin))
        next += 1
        return placed
    }

    /// Where the record at `position` came from, while no commit covers
    /// it yet: its topic and offset, or its origin's when it was forwarded.
    func source(of position: Int64) -> SourceOffset? {
        entry(at: position).map { $0.origin ?? $0.source }
    }

    private func entry(at position: Int64) -> (position: Int64, source: SourceOffset, origin: SourceOffset?)? {
        var low = 0
        var high = open.count - 1
        while low <= high {
            let middle = (low + high) / 2
            let candidate = open[middle].position
            if candidate == position { return open[middle] }
            if candidate < position { low = middle + 1 } else { high = middle - 1 }
        }
        return nil
    }

    /// `record` with its own offset again, or as it was at its origin
    /// (for a dead letter).
    func original(_ record: KafkaRecord) -> KafkaRecord {
        guard let entry = entry(at: record.offset) else { return record }
        var original = record
        original.offset = entry.origin?.offset ?? entry.source.offset
        if let origin = entry.origin {
            original.topic = origin.topic
            original.partition = origin.partition ?? record.partition
        }
        return original
    }

    /// What `snapshot` (its record's number `offset`) says its entity
    /// applied, in the terms of a shard that is `shared` or not. A file
    /// changes numbering when its shard starts reading a second topic (a
    /// repartition topic created, a topic added) or stops: a snapshot from
    /// a shard of one topic has no per-topic offsets and its offset is the
    /// lead's; one from a shared shard has the lead's offset among its
    /// per-topic offsets and a position as its offset.
    static func appliedMarks(of snapshot: Snapshot?, offset: Int64?, shared: Bool, lead: String) -> (offset: Int64?, sources: [String: Int64]) {
        guard let snapshot else { return (offset, [:]) }
        if shared {
            return (offset, snapshot.sources.isEmpty ? [lead: snapshot.offset] : snapshot.sources)
        }
        return (snapshot.sources.isEmpty ? offset : snapshot.sources[lead], [:])
    }

    /// Each topic's next offset once every record before `position` is
    /// done; forgets those records.
    mutating func offsets(before position: Int64?) -> [String: Int64] {
        if let position {
            while let first = open.first, first.position < position {
                open.removeFirst()
                consumed[first.source.topic] = first.source.offset + 1
            }
        }
        return consumed
    }
}
