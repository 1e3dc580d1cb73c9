import Foundation
import Logging
import ShoalKafka
import Synchronization

/// The node's side of the members topic: announces the node (its id, group
/// member id, owned partitions and call address) every standby interval and
/// as soon as its partitions change, and reads every node's announcements,
/// so that standbys are planned and calls routed from one shared view.
/// Kafka is the only coordinator.
final class MembersBoard: Sendable {
    let node: ShoalNode
    /// This node's id in announcements, new each run.
    let id: String
    let members: GroupMembers
    /// Where this node serves calls, once known.
    private let address = Mutex<String?>(nil)
    private let changed = Atomic<Bool>(true)
    /// Set by the leave announcement: nothing is announced after it.
    private let left = Atomic<Bool>(false)

    init(node: ShoalNode) {
        self.node = node
        self.id = UUID().uuidString.lowercased()
        self.members = GroupMembers(timeout: node.configuration.changelog.standbyInterval * 3 + .seconds(1))
    }

    private var configuration: ShoalNodeConfiguration { node.configuration }

    /// Sets the address announced for calls (known once the server listens).
    func announce(address: String) {
        self.address.withLock { $0 = address }
        changed.store(true, ordering: .relaxed)
    }

    /// The node's partitions changed: announce them at the next turn.
    func ownershipChanged() {
        changed.store(true, ordering: .relaxed)
    }

    /// Announces and reads until the node stops.
    func run(producer: KafkaProducer, consumer: KafkaConsumer) async {
        let reader: KafkaPartitionReader
        do {
            reader = try KafkaPartitionReader(client: configuration.client, logger: node.logger)
        } catch {
            node.logger.error("Cannot read the members topic: no reader", metadata: ["error": "\(error)"])
            return
        }
        var next: Int64?
        var announced = ContinuousClock.now - configuration.changelog.standbyInterval
        var failing = false
        while node.isRunning, !Task.isCancelled {
            if changed.exchange(false, ordering: .relaxed) || ContinuousClock.now - announced >= configuration.changelog.standbyInterval {
                await announce(producer, consumer, leaving: false)
                announced = .now
            }
            do {
                next = try await members.read(
                    configuration.membersTopic, with: reader, from: next, idleTimeout: configuration.changelog.readIdleTimeout
                )
                failing = false
            } catch {
                if !failing {
                    node.logger.warning("Cannot read the members topic", metadata: ["topic": "\(configuration.membersTopic)", "error": "\(error)"])
                }
                failing = true
            }
            try? await Task.sleep(for: Self.readInterval)
        }
    }

    /// How often announcements are read: bounds how long a call may go to
    /// a partition's previous owner after it moved.
    static let readInterval: Duration = .milliseconds(100)

    /// Tells the other nodes that this one leaves (before its producer stops).
    func leave(_ producer: KafkaProducer, _ consumer: KafkaConsumer) async {
        left.store(true, ordering: .relaxed)
        await announce(producer, consumer, leaving: true)
    }

    /// Queues the node's announcement; never waits for its delivery, so a
    /// stopping producer cannot hold the node up.
    private func announce(_ producer: KafkaProducer, _ consumer: KafkaConsumer, leaving: Bool) async {
        // A late turn of the loop must not bring a node that left back.
        guard leaving || !left.load(ordering: .relaxed) else { return }
        let owned = node.state.withLock { Set($0.shards.keys).union($0.restoring.keys) }
        var shards: [String: [Int32]] = [:]
        for partition in owned { shards[partition.topic, default: []].append(partition.partition) }
        let announcement = NodeAnnouncement(
            node: id, member: consumer.memberID, partitions: Set(owned.map(\.partition)).sorted(), assigned: owned.count,
            leaving: leaving, address: address.withLock { $0 }, shards: shards.mapValues { $0.sorted() }
        )
        guard let value = try? JSONEncoder().encode(announcement) else { return }
        let message = KafkaProducerMessage(topic: configuration.membersTopic, key: Array(id.utf8), value: Array(value))
        let logger = node.logger
        do {
            try await producer.enqueue(message) { result in
                if case .failure(let error) = result {
                    logger.warning("The node's announcement was not delivered", metadata: ["error": "\(error)"])
                }
            }
        } catch {
            logger.warning("Cannot announce the node on the members topic", metadata: ["error": "\(error)"])
        }
    }
}
