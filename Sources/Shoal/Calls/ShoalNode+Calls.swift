import Foundation
import ShoalKafka

extension ShoalNode {
    /// The dispatch of this node's calls, with remote calls when configured.
    func callDispatch(board: MembersBoard?, clients: CallClients?) -> CallDispatch {
        CallDispatch(
            partition: { try await self.callPartition(of: $0) }, local: { await self.localAttempt($0, $1, until: $2) },
            members: clients == nil ? nil : board?.members, clients: clients, selfNode: board?.id,
            timeout: configuration.calls.timeout, metrics: callMetrics
        )
    }

    /// Runs a call sent by another process; never forwards it. A key that
    /// is not here (any more, or yet) answers `notOwned`: the caller looks
    /// for the owner again.
    func serve(_ call: EntityCall) async -> ShoalResultHandler.Outcome {
        let partition: TopicPartition
        do {
            partition = try await callPartition(of: call.id)
        } catch {
            return .error(CallFailure(thrown: error))
        }
        switch await localAttempt(call, partition, until: .now + configuration.calls.timeout) {
        case .done(let outcome)?: return outcome
        case .retry(let reason)?: return .error(CallFailure(code: ShoalError.Code.notOwned.description, reason: reason))
        case nil: return .error(CallFailure(code: ShoalError.Code.notOwned.description, reason: "\(partition) is not owned by this node"))
        }
    }

    /// The call run by the partition's shard here; nil when the partition
    /// is not this node's.
    func localAttempt(_ call: EntityCall, _ partition: TopicPartition, until deadline: ContinuousClock.Instant) async -> CallDispatch.Attempt? {
        let (shard, restoring, route) = state.withLock {
            ($0.shards[partition], $0.restoring[partition] != nil, $0.topology.route(toEntity: call.id.type))
        }
        if restoring { return .retry("\(partition) is being restored") }
        guard let shard, let route else { return nil }
        do {
            return .done(try await shard.call(call, descriptor: route.entity, until: deadline))
        } catch let error as ShoalError where error.code == .notOwned {
            return .retry(error.reason)
        } catch {
            return .done(.error(CallFailure(thrown: error)))
        }
    }

    /// The partition of the entity's key: its type's lead topic, by that
    /// topic's partitioner, as its records are placed.
    func callPartition(of id: EntityID) async throws -> TopicPartition {
        let (route, topology) = state.withLock { ($0.topology.route(toEntity: id.type), $0.topology) }
        guard let route else {
            throw ShoalError(code: .invocation, reason: "no route leads to entity type \(id.type)")
        }
        guard let count = try await partitionCount(of: route.topic) else {
            throw ShoalError(code: .notOwned, reason: "partition count of \(route.topic) unknown")
        }
        let partitioner = topology.placement(of: route.topic).partitioner
        return TopicPartition(route.topic, partitioner.partition(for: id.key, partitionCount: count))
    }

    private func partitionCount(of topic: String) async throws -> Int32? {
        if let known = state.withLock({ $0.partitionCounts[topic] }) { return known }
        guard let consumer = state.withLock({ $0.consumer }) else { return nil }
        let metadata = try await consumer.awaitConnection(timeout: .seconds(10))
        let counts = metadata.topics.mapValues { Int32($0) }
        state.withLock { $0.partitionCounts.merge(counts) { $1 } }
        return counts[topic]
    }
}
