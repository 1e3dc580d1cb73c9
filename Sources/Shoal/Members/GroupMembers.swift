import Foundation
import ShoalKafka
import Synchronization

/// What a node says about itself on the members topic: every standby
/// interval, whenever its partitions change, and when it leaves.
struct NodeAnnouncement: Codable, Sendable, Hashable {
    /// The node's id for this run.
    var node: String
    /// The node's member id in the consumer group (what the group's
    /// assignor sorts members by), once it joined.
    var member: String?
    /// The partition numbers it owns (or is restoring).
    var partitions: [Int32]
    /// How many topic-partitions it owns: the assignor balances by these.
    var assigned: Int
    /// Set in the last announcement of a node that stops.
    var leaving = false
    /// Where other processes send it calls (`host:port`), when it serves them.
    var address: String?
    /// The partitions it owns (or is restoring) by lead topic: where calls
    /// for their keys go.
    var shards: [String: [Int32]]?
}

/// The nodes of the group heard from lately, read from the members topic.
/// Kafka is the only coordinator: each node reads every announcement and
/// derives the same view.
final class GroupMembers: Sendable {
    struct Member: Sendable, Hashable {
        var announcement: NodeAnnouncement
        /// When it was announced (the record's timestamp).
        var at: Date
    }

    private let members = Mutex<[String: Member]>([:])
    /// How long a member counts as live after its last announcement.
    let timeout: TimeInterval

    init(timeout: Duration) {
        self.timeout = timeout.timeInterval
    }

    /// Folds announcements read from the members topic; undecodable ones are skipped.
    func apply(_ records: [KafkaRecord]) {
        let decoder = JSONDecoder()
        members.withLock { members in
            for record in records {
                guard let node = record.keyString else { continue }
                guard let value = record.value, let announcement = try? decoder.decode(NodeAnnouncement.self, from: Data(value.array)),
                      !announcement.leaving else {
                    members[node] = nil
                    continue
                }
                let at = record.timestamp.map { Date(timeIntervalSince1970: Double($0.milliseconds) / 1000) } ?? Date()
                members[node] = Member(announcement: announcement, at: at)
            }
        }
    }

    /// The members announced within the timeout, by node id.
    func live(now: Date = Date()) -> [NodeAnnouncement] {
        liveMembers(now: now).map(\.announcement)
    }

    func liveMembers(now: Date = Date()) -> [Member] {
        members.withLock { members in
            members.values.filter { now.timeIntervalSince($0.at) < timeout }.sorted { $0.announcement.node < $1.announcement.node }
        }
    }

    /// The call address of the node that owns `partition`: of several
    /// claims (a rebalance under way), the newest.
    func owner(of partition: TopicPartition, now: Date = Date()) -> (node: String, address: String)? {
        // On every remote call: one pass under the lock, no copy, no sort.
        let newest = members.withLock { members in
            members.values.lazy.filter { member in
                now.timeIntervalSince(member.at) < self.timeout && member.announcement.address != nil
                    && member.announcement.shards?[partition.topic]?.contains(partition.partition) == true
            }.max { $0.at < $1.at }
        }
        guard let newest, let address = newest.announcement.address else { return nil }
        return (newest.announcement.node, address)
    }

    /// Reads the announcements after `next` (at first, the latest ones) and
    /// returns where the next read starts.
    func read(_ topic: String, with reader: KafkaPartitionReader, from next: Int64?, idleTimeout: Duration) async throws -> Int64 {
        let partition = TopicPartition(topic, 0)
        let (low, high) = try await reader.watermarks(of: partition)
        guard high > (next ?? -1) else { return high }
        let start = max(low, next ?? (high - 10_000))
        try await reader.read(partition, from: start, until: high, idleTimeout: idleTimeout) { records in
            self.apply(records)
        }
        return high
    }
}
