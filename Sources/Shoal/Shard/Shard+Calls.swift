import Foundation

extension Shard {
    /// Runs a distributed call in the entity's turn. A call that leaves the
    /// state as it was is answered at once. One that changes it is as
    /// durable as an event: the new state and the call's id and outcome go
    /// into the next commit, and the reply waits for that commit; a retry
    /// with the same id is answered from that outcome, not run again.
    func run(_ call: EntityCall, reply: CallReply, on entity: any Entity, id: EntityID, descriptor: EntityDescriptor) async {
        if let callID = call.callID, answeredBefore(callID, of: id, reply: reply) { return }
        let before = try? await descriptor.snapshot(entity)
        let started = ContinuousClock.now
        let outcome = await services.system.execute(call, on: entity)
        services.metrics.handlerLatency.record(ContinuousClock.now - started)
        guard let callID = call.callID, let after = try? await descriptor.snapshot(entity), after != before else {
            reply.resume(.success(outcome))
            return
        }
        state.withLock { state in
            guard let mailbox = state.mailboxes[id] else { return }
            mailbox.calls.append(RecentCall(id: callID, outcome: outcome.encoded()))
            if mailbox.calls.count > RecentCall.kept { mailbox.calls.removeFirst(mailbox.calls.count - RecentCall.kept) }
            // The state after the same records as before, and this call.
            state.pending.snapshots[id] = Snapshot(
                entity: id.type, key: id.key, version: descriptor.stateVersion, offset: mailbox.appliedOffset ?? -1, state: after,
                firings: mailbox.firings, sources: mailbox.sources, calls: mailbox.calls
            )
            state.pending.expired[id] = nil
            state.awaitingCommit[callID] = AwaitedReply(outcome: outcome, replies: [reply])
        }
    }

    /// Whether the call with `callID` ran already: then `reply` gets its
    /// outcome, at once when committed, else with its commit.
    private func answeredBefore(_ callID: String, of id: EntityID, reply: CallReply) -> Bool {
        let known = state.withLock { state -> [UInt8]? in
            if state.awaitingCommit[callID] != nil {
                state.awaitingCommit[callID]?.replies.append(reply)
                return []
            }
            if state.committingReplies[callID] != nil {
                state.committingReplies[callID]?.replies.append(reply)
                return []
            }
            return state.mailboxes[id]?.calls.last { $0.id == callID }?.outcome
        }
        guard let known else { return false }
        if !known.isEmpty {
            let outcome = (try? ShoalResultHandler.Outcome(decoding: known))
                ?? .error(CallFailure(code: ShoalError.Code.invocation.description, reason: "the stored outcome of call \(callID) does not decode"))
            reply.resume(.success(outcome))
        }
        return true
    }
}
