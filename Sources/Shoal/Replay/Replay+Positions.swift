import ShoalKafka

extension Replay {
    /// `events` with the offsets a node's shards would give them. A shard
    /// fed by several topics numbers its records in the order it takes
    /// them (see ``ShardSources``): a partition file's journal holds those
    /// positions already, but hand-written or JSON Lines events carry each
    /// topic's own offsets, which collide between topics. Such a shard's
    /// events, when their offsets do not already rise in the order given,
    /// are numbered from 0 in the order given, so that outputs get distinct
    /// ids; a journaled call among them takes the number of the record
    /// before it. (A replay applies events in the order given; a node merges a
    /// shard's topics by event time, and its journal records the result.)
    static func positioned(_ events: [ReplayEvent], coPartitioning: CoPartitioning) -> [ReplayEvent] {
        guard coPartitioning.groups.values.contains(where: { $0.count > 1 }) else { return events }
        var indices: [TopicPartition: [Int]] = [:]
        for (index, event) in events.enumerated() where coPartitioning.isShared(coPartitioning.leads[event.topic] ?? event.topic) {
            indices[coPartitioning.shard(of: TopicPartition(event.topic, event.partition)), default: []].append(index)
        }
        var positioned = events
        for shard in indices.values {
            // A journaled call holds the offset of the record before it, not one of its own.
            let offsets = shard.filter { events[$0].call == nil }.map { events[$0].offset }
            guard zip(offsets, offsets.dropFirst()).contains(where: { $0 >= $1 }) else { continue }
            var last: Int64 = -1
            for index in shard {
                if events[index].call == nil { last += 1 }
                positioned[index].offset = last
            }
        }
        return positioned
    }
}
