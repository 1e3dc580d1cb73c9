import Foundation

extension Shard {
    /// Stops the shard for a hand-off: no new intake; queued records that
    /// have not started are left for the next owner; running work finishes;
    /// what was applied is committed to the partition's file, its outputs
    /// delivered (bounded wait), the entities released and the file closed
    /// for the next owner. Returns the file's next offset of each input
    /// partition, for Kafka.
    ///
    /// A partition lost without a hand-off (`replicating: false`) may have
    /// a new owner writing its changelog already: its last commit goes to
    /// the file only, never after the new owner's records.
    func stop(replicating: Bool = true) async -> [TopicPartition: Int64] {
        // Not behind the turn: the actor takes this while a send is suspended.
        await persistence.beginHandOff(timeout: services.configuration.store.publishTimeout)
        if !replicating { await persistence.stopReplicating() }
        let abandonedCalls = state.withLock { state -> [CallReply] in
            state.stopping = true
            state.aligner?.removeAll()
            state.paused = false
            var notStarted: Set<Int64> = []
            var calls: [CallReply] = []
            for id in Array(state.mailboxes.keys) {
                state.mailboxes[id]?.queue.removeAll { work in
                    switch work {
                    case .record(let record, _, _, _): notStarted.insert(record.offset); return true
                    case .call(_, let reply, _): calls.append(reply); return true
                    case .timers: return true  // still in the file for the next owner
                    }
                }
            }
            state.tracker.abandon(notStarted)
            state.buffered -= notStarted.count
            return calls
        }
        // The partition's pause is cleared when it is next assigned here.
        if consumerPause.reset() { services.metrics.pausedPartitions.decrement() }
        for reply in abandonedCalls {
            reply.resume(.failure(ShoalError(code: .notOwned, reason: "\(partition) was handed off; call again")))
        }
        await waitUntilIdle()
        await checkpoint()
        failUncommittedCalls()
        releaseAll()
        await persistence.finish(timeout: services.configuration.store.publishTimeout)
        return await persistence.committedInputs
    }

    private func waitUntilIdle() async {
        await withCheckedContinuation { continuation in
            let idle = state.withLock { state -> Bool in
                if state.isIdle { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    /// Releases the resident actors; their states are in the file.
    private func releaseAll() {
        let residents = state.withLock { state in
            defer { state.mailboxes.removeAll() }
            return state.mailboxes.values.count { $0.entity != nil }
        }
        services.metrics.residentEntities.decrement(by: Double(residents))
    }

    /// Calls whose change the last commit did not hold, or whose commit did
    /// not reach the changelog: the caller tries again with the same call
    /// id, and the next owner answers it from the first execution if that
    /// was saved, or runs it.
    private func failUncommittedCalls() {
        let (waiting, batches) = state.withLock { state in
            defer {
                state.awaitingCommit = [:]
                state.replicating = []
            }
            return (state.awaitingCommit.values.flatMap(\.replies), state.replicating)
        }
        let error = ShoalError(code: .notOwned, reason: "\(partition) was handed off before the call's change was saved; call again")
        for reply in waiting { reply.resume(.failure(error)) }
        for batch in batches { batch.fail(error) }
    }
}
