import Foundation
import Logging
import ShoalKafka
import Synchronization

/// Keeps this node's standby copies: from the nodes' announcements on the
/// members topic (``MembersBoard``) it works out (as every node does,
/// alike) which partitions it keeps copies of, and folds their changelog
/// into local files every standby interval. A failover to this
/// node then restores only what the copy had not folded yet.
final class StandbyReplicas: Sendable {
    let node: ShoalNode
    let board: MembersBoard
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

    init(node: ShoalNode, topics: [String: Int32], board: MembersBoard) {
        self.node = node
        self.board = board
        self.topics = topics
        self.partitionCount = topics.values.max() ?? 0
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
    func run() async {
        let reader: KafkaPartitionReader
        do {
            reader = try KafkaPartitionReader(client: configuration.client, logger: logger)
        } catch {
            logger.error("Standbys cannot start: no reader", metadata: ["error": "\(error)"])
            return
        }
        while node.isRunning, !Task.isCancelled {
            await follow(wanted(), reader: reader)
            try? await Task.sleep(for: configuration.changelog.standbyInterval)
        }
        let copies = state.withLock { state in
            defer { state.copies = [:] }
            return Array(state.copies.values)
        }
        for copy in copies { await copy.release() }
        node.metrics.standbyPartitions.record(0)
    }

    /// The partitions this node should keep copies of now.
    private func wanted() -> Set<Int32> {
        let owned = state.withLock { Set($0.claimed.map(\.partition)) }
        let plan = StandbyPlan(members: board.members.live(), partitionCount: partitionCount, standbys: configuration.changelog.standbys)
        return plan.partitions(for: board.id).subtracting(owned)
    }
}
