import Foundation
import ShoalKafka
import Synchronization

/// What a node says about itself on the members topic, every standby
/// interval and when it leaves.
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
        self.timeout = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
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
        members.withLock { members in
            members.values.filter { now.timeIntervalSince($0.at) < timeout }.map(\.announcement).sorted { $0.node < $1.node }
        }
    }
}
