import Foundation

extension Shard {
    /// Stops the shard for a hand-off: no new intake; queued records that
    /// have not started are left for the next owner; running work finishes;
    /// entities are passivated. Returns the offset to commit.
    func stop() async -> Int64? {
        let (abandonedCalls, wasPaused) = state.withLock { state -> ([CallReply], Bool) in
            state.stopping = true
            let wasPaused = state.paused
            state.paused = false
            var notStarted: Set<Int64> = []
            var calls: [CallReply] = []
            for id in Array(state.mailboxes.keys) {
                state.mailboxes[id]?.queue.removeAll { work in
                    switch work {
                    case .record(let record, _, _): notStarted.insert(record.offset); return true
                    case .call(_, let reply): calls.append(reply); return true
                    case .passivate: return false
                    }
                }
            }
            state.tracker.abandon(notStarted)
            state.buffered -= notStarted.count
            return (calls, wasPaused)
        }
        // The partition's pause is cleared when it is next assigned here.
        if wasPaused { services.metrics.pausedPartitions.decrement() }
        for reply in abandonedCalls {
            reply.resume(.failure(ShoalError(code: .notOwned, reason: "\(partition) was handed off; call again")))
        }
        await waitUntilIdle()
        await passivateAll()
        return committable
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

    private func passivateAll() async {
        let residents = state.withLock { state in
            state.mailboxes.compactMap { id, mailbox in mailbox.entity.map { (id, $0, mailbox.descriptor) } }
        }
        for (id, entity, descriptor) in residents {
            if let snapshot = try? await descriptor.snapshot(entity) {
                services.states.save(id, snapshot)
            }
            services.metrics.residentEntities.decrement()
        }
        state.withLock { $0.mailboxes.removeAll() }
    }
}
