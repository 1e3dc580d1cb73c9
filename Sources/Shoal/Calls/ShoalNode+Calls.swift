import Foundation
import ShoalKafka

extension ShoalNode {
    /// The dispatch of this node's calls, with remote calls when configured.
    func callDispatch(board: MembersBoard?, clients: CallClients?) -> CallDispatch {
        CallDispatch(
            partition: { try await self.callPartition(of: $0) }, local: { await self.localAttempt($0, $1, until: $2) },
            members: clients == nil ? nil : board?.members, clients: clients, selfNode: board?.id,
            timeout: configuration.calls.timeout, metrics: callMetrics, tracing: RecordTracing.active(configuration.tracer)
        )
    }

    /// Runs a call sent by another process; never forwards it. A key that
    /// is not here (any more, or yet) answers `notOwned`: the caller looks
    /// for the owner again.
    func serve(_ call: EntityCall, within timeout: Duration) async -> ShoalResultHandler.Outcome {
        let partition: TopicPartition
        do {
            partition = try await callPartition(of: call.id)
        } catch {
            return .error(CallFailure(thrown: error))
        }
        switch await localAttempt(call, partition, until: .now + min(timeout, configuration.calls.timeout)) {
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

    /// The partition of the entity's key, once the node runs.
    func callPartition(of id: EntityID) async throws -> TopicPartition {
        guard let keys = state.withLock({ $0.keyPartitions }) else {
            throw ShoalError(code: .notOwned, reason: "the node is not running; \(id) has no partition here")
        }
        return try await keys.partition(of: id)
    }
}
