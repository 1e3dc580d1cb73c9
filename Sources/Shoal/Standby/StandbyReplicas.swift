import Foundation
import Logging
import ShoalKafka
import Synchronization

/// Keeps this node's standby copies: announces the node on the members
/// topic, reads the other nodes' announcements, works out (as every node
/// does, alike) which partitions it keeps copies of, and folds their
/// changelog into local files every standby interval. A failover to this
/// node then restores only what the copy had not folded yet.
final class StandbyReplicas: Sendable {
    let node: ShoalNode
    /// This node's id in announcements, new each run.
    let id: String
    let members: GroupMembers
    /// Input topics and their partition counts.
    let topics: [String: Int32]
    let partitionCount: Int32

    private struct State {
        var copies: [Int32: StandbyCopy] = [:]
        /// Partitions assigned to this node: never copied.
        var claimed: Set<TopicPartition> = []
        /// The last error per copy, logged once.
        var failures: [Int32: String] = [:]
    }

    private let state = Mutex(State())

    init(node: ShoalNode, topics: [String: Int32]) {
        self.node = node
        self.id = UUID().uuidString.lowercased()
        self.topics = topics
        self.partitionCount = topics.values.max() ?? 0
        self.members = GroupMembers(timeout: node.configuration.changelog.standbyInterval * 3 + .seconds(1))
    }

    private var configuration: ShoalNodeConfiguration { node.configuration }
    var logger: Logger { node.logger }

    /// Takes `partitions` for this node's shards: their copies are released
    /// first, so their files are free to open.
    func claim(_ partitions: [TopicPartition]) async {
        let released = state.withLock { state in
            state.claimed.formUnion(partitions)
            return Set(partitions.map(\.partition)).compactMap { state.copies.removeValue(forKey: $0) }
        }
        for copy in released { await copy.release() }
    }

    /// Gives `partitions` back: they may be copied again.
    func unclaim(_ partitions: [TopicPartition]) {
        state.withLock { $0.claimed.subtract(partitions) }
    }

    /// Removes and returns the copies whose partition matches.
    func takeCopies(where matches: (Int32) -> Bool) -> [StandbyCopy] {
        state.withLock { state in
            let taken = state.copies.filter { matches($0.key) }
            for partition in taken.keys { state.copies[partition] = nil }
            return Array(taken.values)
        }
    }

    func withCopies<Value>(_ body: ([Int32: StandbyCopy]) -> Value) -> Value {
        state.withLock { body($0.copies) }
    }

    /// Keeps a newly opened copy unless its partition was claimed meanwhile.
    func adopt(_ copy: StandbyCopy) -> Bool {
        state.withLock { state in
            guard !state.claimed.contains(where: { $0.partition == copy.partition }), state.copies[copy.partition] == nil else {
                return false
            }
            state.copies[copy.partition] = copy
            return true
        }
    }

    /// Logs a copy's failure once until it changes or clears.
    func note(_ error: any Error, for partition: Int32) {
        let text = "\(error)"
        let isNew = state.withLock { state in
            defer { state.failures[partition] = text }
            return state.failures[partition] != text
        }
        if isNew {
            logger.warning("A standby copy cannot follow its changelog; retrying", metadata: ["partition": "\(partition)", "error": "\(text)"])
        }
    }

    func cleared(_ partition: Int32) {
        state.withLock { _ = $0.failures.removeValue(forKey: partition) }
    }

    /// Runs until the node stops, then releases every copy.
    func run(producer: KafkaProducer, consumer: KafkaConsumer) async {
        let readers: (members: KafkaPartitionReader, changelog: KafkaPartitionReader)
        do {
            readers = (
                try KafkaPartitionReader(client: configuration.client, logger: logger),
                try KafkaPartitionReader(client: configuration.client, logger: logger)
            )
        } catch {
            logger.error("Standbys cannot start: no reader", metadata: ["error": "\(error)"])
            return
        }
        var membersNext: Int64?
        while node.isRunning, !Task.isCancelled {
            await announce(producer, consumer, leaving: false)
            membersNext = await readMembers(readers.members, from: membersNext)
            await follow(wanted(), reader: readers.changelog)
            try? await Task.sleep(for: configuration.changelog.standbyInterval)
        }
        let copies = state.withLock { state in
            defer { state.copies = [:] }
            return Array(state.copies.values)
        }
        for copy in copies { await copy.release() }
        node.metrics.standbyPartitions.record(0)
    }

    /// Tells the other nodes that this one leaves (before its producer stops).
    func leave(_ producer: KafkaProducer, _ consumer: KafkaConsumer) async {
        await announce(producer, consumer, leaving: true)
    }

    /// The partitions this node should keep copies of now.
    private func wanted() -> Set<Int32> {
        let owned = state.withLock { Set($0.claimed.map(\.partition)) }
        let plan = StandbyPlan(members: members.live(), partitionCount: partitionCount, standbys: configuration.changelog.standbys)
        return plan.partitions(for: id).subtracting(owned)
    }

    /// Queues the node's announcement; never waits for its delivery, so a
    /// stopping producer cannot hold the node up.
    private func announce(_ producer: KafkaProducer, _ consumer: KafkaConsumer, leaving: Bool) async {
        let owned = state.withLock { $0.claimed }
        let announcement = NodeAnnouncement(
            node: id, member: consumer.memberID, partitions: Set(owned.map(\.partition)).sorted(), assigned: owned.count,
            leaving: leaving
        )
        guard let value = try? JSONEncoder().encode(announcement) else { return }
        let message = KafkaProducerMessage(topic: configuration.membersTopic, key: Array(id.utf8), value: Array(value))
        let logger = self.logger
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

    /// Reads the announcements after `next` (at first, the latest ones).
    private func readMembers(_ reader: KafkaPartitionReader, from next: Int64?) async -> Int64? {
        let topic = TopicPartition(configuration.membersTopic, 0)
        do {
            let (low, high) = try await reader.watermarks(of: topic)
            let start = max(low, next ?? (high - 10_000))
            let members = self.members
            try await reader.read(topic, from: start, until: high, idleTimeout: configuration.changelog.readIdleTimeout) { records in
                members.apply(records)
            }
            return high
        } catch {
            logger.warning("Cannot read the members topic", metadata: ["topic": "\(topic.topic)", "error": "\(error)"])
            return next
        }
    }
}
