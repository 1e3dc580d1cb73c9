import Foundation

extension Shard {
    /// Erases the entity in its turn (see ``ShoalActorSystem/erase(_:requester:)``):
    /// the records and calls before the request are erased with it; the
    /// reply, the entities that referenced it by its journal (for the
    /// requester to scrub), waits for the commit that deletes its rows,
    /// the purge of the file and the changelog image after it.
    func erase(_ id: EntityID, call: EntityCall, reply: CallReply, descriptor: EntityDescriptor) async {
        // The erase commits with a next offset past the entity's records:
        // a restart must not process them again and bring it back. Until
        // the records before them are done, a commit could not claim that.
        guard let last = await waitUntilCommittable(uncommittedOffset(of: id)) else {
            reply.resume(.failure(ShoalError(code: .notOwned, reason: "\(partition) is being handed off")))
            return
        }
        // No record of it comes in meanwhile (they queue behind the erase):
        // its rows only move from the pending ones to the file.
        let referrers: Data
        do {
            referrers = try JSONEncoder().encode(self.referrers(in: try await journaledEvents(of: id), of: id, descriptor))
        } catch {
            reply.resume(.success(.error(CallFailure(thrown: error))))
            return
        }
        let erasure = Erasure(entity: id, id: call.callID ?? "", requester: call.requester)
        let wasResident = state.withLock { state -> Bool in
            let resident = state.mailboxes[id]?.entity != nil
            state.pending.erase(erasure, after: last)
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
        if wasResident { services.metrics.residentEntities.decrement() }
    }

    /// The offset (in a shard of several topics, the position) of the
    /// entity's last record not committed yet; -1 when all are.
    private func uncommittedOffset(of id: EntityID) -> Int64 {
        state.withLock { state in
            let journal = state.pending.journal.last { $0.entity == id.type && $0.key == id.key }?.offset
            return [journal, state.pending.snapshots[id]?.offset, state.committing[id]?.offset].compactMap { $0 }.max() ?? -1
        }
    }

    /// Waits until a commit may claim a next offset past `offset`; nil
    /// when the shard stops first.
    private func waitUntilCommittable(_ offset: Int64) async -> Int64? {
        while true {
            let (stopping, committable) = state.withLock { ($0.stopping, $0.tracker.committable) }
            if stopping { return nil }
            if offset < 0 || committable.map({ $0 > offset }) == true { return offset }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}
