import Foundation
import Synchronization
import Tracing

extension Shard {
    /// Runs a distributed call in the entity's turn. A call that leaves the
    /// state as it was and emits nothing is answered at once. One that
    /// changes it, emits outputs or sets timers (through
    /// ``EntityContext/current``) is as durable as an event: it is
    /// journaled, its effects and its id and outcome go into the next
    /// commit, and the reply waits for that commit; a retry with the same
    /// id is answered from that outcome, not run again. A call that throws
    /// leaves nothing: the entity is rolled back, as after a handler that
    /// throws.
    func run(
        _ call: EntityCall, at place: CallPlace, reply: CallReply, on entity: any Entity, id: EntityID, descriptor: EntityDescriptor,
        span: (any Span)?
    ) async {
        if let callID = call.callID, answeredBefore(CallKey(entity: id, callID: callID), reply: reply) { return }
        let before = try? await descriptor.snapshot(entity)
        // Journaled after the last record the shard took in before the call
        // (the entity's records are all before it in the mailbox), or after
        // the entity's own when its state is ahead of that (after a restart).
        let (applied, after) = state.withLock { state in
            let applied = state.mailboxes[id]?.appliedOffset
            return (applied, max(place.after, applied ?? -1))
        }
        let started = ContinuousClock.now
        var (outcome, effects) = await EntityDispatch.run(
            call, on: entity, system: services.system, source: partition, after: applied ?? -1,
            clocks: TimerClocks(watermark: place.watermark, processingTime: EventTime(Date())), logger: services.logger, tables: services.tables
        )
        services.metrics.handlerLatency.record(ContinuousClock.now - started)
        // The turn's span goes with its outputs.
        if let span, let tracing = services.tracing { effects.outputs = tracing.inject(span.context, into: effects.outputs) }
        if let failure = EntityDispatch.discarded(outcome, effects, on: id, hasRecords: applied.map { $0 >= 0 } ?? false) {
            if let span { RecordTracing.failed(span, failure) }
            // Nothing of it stays: the entity as it was before the call.
            _ = await restore(id, descriptor)
            reply.resume(.success(.error(failure)))
            return
        }
        guard let callID = call.callID, let state = try? await descriptor.snapshot(entity), state != before || !effects.isEmpty else {
            reply.resume(.success(outcome))
            return
        }
        let recorded = record(call, callID, outcome, effects, state: state, after: after, id: id, descriptor: descriptor, reply: reply)
        if !recorded { reply.resume(.success(outcome)) }
    }

    /// Puts a state-changing call into the next commit, and its reply with
    /// it; false when the entity left meanwhile.
    private func record(
        _ call: EntityCall, _ callID: String, _ outcome: ShoalResultHandler.Outcome, _ effects: EntityDispatch.CallEffects, state after: [UInt8],
        after place: Int64, id: EntityID, descriptor: EntityDescriptor, reply: CallReply
    ) -> Bool {
        state.withLock { state -> Bool in
            guard let mailbox = state.mailboxes[id] else { return false }
            mailbox.calls.append(RecentCall(id: callID, outcome: outcome.encoded()))
            if mailbox.calls.count > RecentCall.kept { mailbox.calls.removeFirst(mailbox.calls.count - RecentCall.kept) }
            // Journaled for a replay, which traces nothing.
            var journaled = call
            journaled.traceContext = nil
            state.pending.calls.append(JournaledCall(afterOffset: place, entity: id.type, key: id.key, call: journaled.encoded()))
            // The state after the same records as before, and this call.
            let snapshot = Snapshot(
                entity: id.type, key: id.key, version: descriptor.stateVersion, offset: mailbox.appliedOffset ?? -1, state: after,
                firings: mailbox.firings, sources: mailbox.sources, calls: mailbox.calls
            )
            state.pending.addCall(callID, after: place, outputs: effects.outputs, snapshot: snapshot, to: id)
            if !effects.timerChanges.isEmpty {
                // Due from the shard's next record on, as in a replay.
                state.changeTimers(effects.timerChanges, of: id, from: place + 1)
                _ = state.wakeIfCrossed(id, descriptor: descriptor(of:))
            }
            // It has a state now, even without records (offset -1 applies none).
            mailbox.appliedOffset = mailbox.appliedOffset ?? -1
            state.awaitingCommit[CallKey(entity: id, callID: callID), default: AwaitedReply(outcome: outcome, replies: [])].replies.append(reply)
            return true
        }
    }

    /// Whether the call ran already: then `reply` gets its outcome, at once
    /// when committed and replicated, else with its commit.
    private func answeredBefore(_ key: CallKey, reply: CallReply) -> Bool {
        enum Known { case waiting, stored([UInt8]), unknown }
        let known = state.withLock { state -> Known in
            if state.awaitingCommit[key] != nil {
                state.awaitingCommit[key]?.replies.append(reply)
                return .waiting
            }
            if state.replicating.contains(where: { $0.join(key, reply) }) { return .waiting }
            return state.mailboxes[key.entity]?.calls.last { $0.id == key.callID }.map { .stored($0.outcome) } ?? .unknown
        }
        switch known {
        case .unknown: return false
        case .waiting: return true
        case .stored(let bytes):
            let outcome = (try? ShoalResultHandler.Outcome(decoding: bytes))
                ?? .error(CallFailure(code: ShoalError.Code.invocation.description, reason: "the stored outcome of call \(key.callID) does not decode"))
            reply.resume(.success(outcome))
            return true
        }
    }
}

/// Where a call was queued: after the shard's last record taken in (-1:
/// none), with the partition's watermark then.
struct CallPlace: Sendable {
    var after: Int64
    var watermark: EventTime
}

/// The replies of one commit's state-changing calls, sent once the commit's
/// changelog records are delivered, or failed when the shard stops first.
final class ReplyBatch: Sendable {
    private let state = Mutex<(replies: [CallKey: AwaitedReply], done: Bool)>(([:], false))

    func fill(_ replies: [CallKey: AwaitedReply]) {
        state.withLock { $0.replies = replies }
    }

    /// Adds a retry's reply to its call's; false when the call is not in
    /// the batch or the batch was answered already.
    func join(_ key: CallKey, _ reply: CallReply) -> Bool {
        state.withLock { state in
            guard !state.done, state.replies[key] != nil else { return false }
            state.replies[key]?.replies.append(reply)
            return true
        }
    }

    /// The replies of a commit that failed: they wait for the next one.
    func takeBack() -> [CallKey: AwaitedReply] {
        state.withLock { state in
            state.done = true
            defer { state.replies = [:] }
            return state.replies
        }
    }

    func send() {
        answer { .success($0.outcome) }
    }

    func fail(_ error: ShoalError) {
        answer { _ in .failure(error) }
    }

    private func answer(_ result: (AwaitedReply) -> Result<ShoalResultHandler.Outcome, any Error>) {
        for awaited in takeBack().values {
            for reply in awaited.replies { reply.resume(result(awaited)) }
        }
    }
}
