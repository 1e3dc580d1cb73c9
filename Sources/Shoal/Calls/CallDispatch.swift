import Foundation
import ShoalKafka

/// Takes a call to its key's entity wherever it lives: on this node when it
/// owns the key's partition, else on the owner the members topic names. A
/// partition that is moving (handed off, restoring, owner not announced
/// yet, owner gone) is tried again, with back-off, until the call's timeout.
struct CallDispatch: EntityCallRouter {
    /// The result of one try.
    enum Attempt: Sendable {
        case done(ShoalResultHandler.Outcome)
        /// Not here, or moving: try again later.
        case retry(String)
    }

    /// The key's partition: its entity type's lead topic, partitioned as
    /// that topic's records are.
    let partition: @Sendable (EntityID) async throws -> TopicPartition
    /// Runs the call here (waiting no longer than the deadline while the
    /// shard is full); nil when this process does not own the partition.
    let local: @Sendable (EntityCall, TopicPartition, ContinuousClock.Instant) async -> Attempt?
    let members: GroupMembers?
    let clients: CallClients?
    /// This node's id in announcements, never called remotely.
    let selfNode: String?
    let timeout: Duration
    let metrics: CallMetrics
    /// Spans of the calls made here; nil when nothing traces.
    var tracing: RecordTracing?

    func deliver(_ call: EntityCall) async throws -> ShoalResultHandler.Outcome {
        guard let tracing else { return try await route(call) }
        var call = call
        let span = tracing.callerSpan(for: &call)
        do {
            let outcome = try await route(call)
            RecordTracing.end(span, with: .success(outcome))
            return outcome
        } catch {
            RecordTracing.end(span, with: .failure(error))
            throw error
        }
    }

    /// Tries the call where its key lives until it is answered or its time runs out.
    private func route(_ call: EntityCall) async throws -> ShoalResultHandler.Outcome {
        let deadline = ContinuousClock.now + timeout
        var backoff: Duration = .milliseconds(20)
        while true {
            switch try await attempt(call, until: deadline) {
            case .done(let outcome):
                return outcome
            case .retry(let reason):
                guard ContinuousClock.now + backoff < deadline else {
                    throw ShoalError(code: .timedOut, reason: "\(call.id) \(call.target): no reply within \(timeout): \(reason)")
                }
                metrics.retries.increment()
                try await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .milliseconds(500))
            }
        }
    }

    private func attempt(_ call: EntityCall, until deadline: ContinuousClock.Instant) async throws -> Attempt {
        let partition: TopicPartition
        do {
            partition = try await self.partition(call.id)
        } catch let error as ShoalError where error.code == .notOwned {
            return .retry(error.reason)  // the topic's partition count not known yet
        }
        if let attempt = await local(call, partition, deadline) { return attempt }
        guard let members, let clients else {
            throw ShoalError(
                code: .notOwned,
                reason: "\(call.id) belongs to \(partition), which this node does not own (nodes serve calls for each other with --listen and a call secret)"
            )
        }
        guard let owner = members.owner(of: partition), owner.node != selfNode else {
            return .retry("no node announced \(partition) yet")
        }
        let started = ContinuousClock.now
        guard deadline > started else { return .retry("the call's time ran out") }
        metrics.forwarded.increment()
        do {
            let outcome = try await clients.send(call, to: owner.address, timeout: deadline - started)
            metrics.sent(outcome, since: started)
            if case .error(let failure) = outcome, failure.code == ShoalError.Code.notOwned.description {
                return .retry("\(owner.address): \(failure.reason)")
            }
            return .done(outcome)
        } catch let error as CallTransportError {
            metrics.sent(nil, since: started)
            // The node is down, stopping, or its connection broke: its
            // partitions move, and the call goes to their next owner.
            return .retry("\(owner.address) unreachable: \(error)")
        } catch {
            metrics.sent(nil, since: started)
            throw error
        }
    }
}
