import Foundation

extension Shard {
    /// Erases the entity in its turn (see ``ShoalActorSystem/erase(_:requester:)``):
    /// the records and calls before the request are erased with it; the
    /// reply, the entities that referenced it by its journal (for the
    /// requester to scrub), waits for the commit that deletes its rows,
    /// the purge of the file and the changelog image after it.
    func erase(_ id: EntityID, call: EntityCall, reply: CallReply, at place: CallPlace, descriptor: EntityDescriptor) async {
        // The erase commits with a next offset past every record the shard
        // took in before the request (the entity's among them, even those
        // whose snapshot a commit already wrote ahead of its offset): a
        // restart must not process them again and bring the entity back.
        // Half the call's timeout: the caller's own deadline started earlier,
        // and it should hear "erase again" rather than time out.
        let deadline = ContinuousClock.now + services.configuration.calls.timeout / 2
        let past = max(place.after, uncommittedOffset(of: id))
        switch await waitUntilCommittable(past: past, until: deadline) {
        case .stopping: return reply.resume(.failure(ShoalError(code: .notOwned, reason: "\(partition) is being handed off")))
        case .late:
            return reply.resume(.success(.error(CallFailure(
                code: ShoalError.Code.timedOut.description, reason: "\(partition): the records before the erase did not finish in time; erase again"
            ))))
        case .ready: break
        }
        let erasure = Erasure(entity: id, id: call.callID ?? UUID().uuidString, requester: call.requester)
        do {
            // In the store's turn: no commit is under way, so the entity's
            // rows are either pending or in the file, and a commit that
            // failed has put its rows back already.
            let wasResident = try await persistence.inTurnDo { [self] store in
                let inFile = try store.journalEvents(of: id)
                let pending = state.withLock { state in
                    state.pending.journal.filter { $0.entity == id.type && $0.key == id.key }.map { ($0.source?.topic, $0.event ?? []) }
                }
                // Decoding and the entity type's hook run outside the lock;
                // no commit runs in this turn, and no record of the entity
                // comes in (they queue behind the erase).
                let referrers = try JSONEncoder().encode(self.referrers(in: inFile + pending, of: id, descriptor))
                return state.withLock { erase(id, erasure, past: past, in: &$0, referrers: referrers, reply: reply) }
            }
            if wasResident { services.metrics.residentEntities.decrement() }
        } catch {
            reply.resume(.success(.error(CallFailure(thrown: error))))
        }
    }

    /// The erasure joins the pending checkpoint; the entity is released;
    /// the reply waits for the commit. Returns whether it was resident.
    private func erase(
        _ id: EntityID, _ erasure: Erasure, past offset: Int64, in state: inout ShardState, referrers: Data, reply: CallReply
    ) -> Bool {
        let resident = state.mailboxes[id]?.entity != nil
        state.pending.erase(erasure, after: offset)
        state.timers.removeAll(of: id)
        state.setEntity(nil, for: id)
        if let mailbox = state.mailboxes[id] {
            mailbox.appliedOffset = nil
            mailbox.firings = 0
            mailbox.sources = [:]
            mailbox.calls = []
        }
        state.awaitingCommit[CallKey(entity: id, callID: erasure.id), default: AwaitedReply(outcome: .value(referrers), replies: [])]
            .replies.append(reply)
        return resident
    }

    /// The offset (in a shard of several topics, the position) of the
    /// entity's last record not committed yet; -1 when all are.
    private func uncommittedOffset(of id: EntityID) -> Int64 {
        state.withLock { state in
            let journal = state.pending.journal.last { $0.entity == id.type && $0.key == id.key }?.offset
            return [journal, state.pending.snapshots[id]?.offset, state.committing[id]?.offset].compactMap { $0 }.max() ?? -1
        }
    }

    enum CommittableWait { case ready, stopping, late }

    /// Waits until a commit may claim a next offset past `offset`. A record
    /// before it whose handler calls the entity being erased waits behind
    /// the erase: the deadline ends that wait.
    private func waitUntilCommittable(past offset: Int64, until deadline: ContinuousClock.Instant) async -> CommittableWait {
        while true {
            let (stopping, committable) = state.withLock { ($0.stopping, $0.tracker.committable) }
            if stopping { return .stopping }
            if offset < 0 || committable.map({ $0 > offset }) == true { return .ready }
            if ContinuousClock.now >= deadline { return .late }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}
