import Foundation
import Synchronization

extension Shard {
    /// Runs a distributed call in the entity's turn. A call that leaves the
    /// state as it was and emits nothing is answered at once. One that
    /// changes it, emits outputs or sets timers (through
    /// ``EntityContext/current``) is as durable as an event: it is
    /// journaled, its effects and its id and outcome go into the next
    /// commit, and the reply waits for that commit; a retry with the same
    /// id is answered from that outcome, not run again.
    func run(_ call: EntityCall, after position: Int64, reply: CallReply, on entity: any Entity, id: EntityID, descriptor: EntityDescriptor) async {
        if let callID = call.callID, answeredBefore(CallKey(entity: id, callID: callID), reply: reply) { return }
        let before = try? await descriptor.snapshot(entity)
        let offset = state.withLock { $0.mailboxes[id]?.appliedOffset } ?? -1
        let started = ContinuousClock.now
        let (outcome, effects) = await EntityDispatch.run(
            call, on: entity, system: services.system, source: partition, after: offset, clocks: currentClocks, logger: services.logger,
            tables: services.tables
        )
        services.metrics.handlerLatency.record(ContinuousClock.now - started)
        guard let callID = call.callID, let after = try? await descriptor.snapshot(entity), after != before || !effects.isEmpty else {
            reply.resume(.success(outcome))
            return
        }
        let recorded = state.withLock { state -> Bool in
            guard let mailbox = state.mailboxes[id] else { return false }
            mailbox.calls.append(RecentCall(id: callID, outcome: outcome.encoded()))
            if mailbox.calls.count > RecentCall.kept { mailbox.calls.removeFirst(mailbox.calls.count - RecentCall.kept) }
            // Journaled after the last record the shard took in before it
            // (the entity's own are all before it in the mailbox, and so are
            // the timers those records made due): a replay runs it there.
            // Numbered like a timer firing, as its outputs are.
            state.pending.calls.append(JournaledCall(afterOffset: position, entity: id.type, key: id.key, call: call.encoded()))
            mailbox.firings += 1
            // The state after the same records as before, and this call.
            let snapshot = Snapshot(
                entity: id.type, key: id.key, version: descriptor.stateVersion, offset: mailbox.appliedOffset ?? -1, state: after,
                firings: mailbox.firings, sources: mailbox.sources, calls: mailbox.calls
            )
            state.pending.addTurn(outputs: effects.outputs, snapshot: snapshot, to: id, timestamp: nil)
            if !effects.timerChanges.isEmpty {
                // Due from the shard's next record on, as in a replay.
                let marks = state.clockMarks
                state.pending.timers[id] = state.timers.replace(id, with: effects.timerChanges) { marks.crossing(of: $0, from: position + 1) }
                _ = state.wakeIfCrossed(id, descriptor: descriptor(of:))
            }
            // It has a state now, even without records (offset -1 applies none).
            mailbox.appliedOffset = mailbox.appliedOffset ?? -1
            state.awaitingCommit[CallKey(entity: id, callID: callID), default: AwaitedReply(outcome: outcome, replies: [])].replies.append(reply)
            return true
        }
        if !recorded { reply.resume(.success(outcome)) }
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
