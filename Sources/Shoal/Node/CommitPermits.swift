import DequeModule
import Synchronization

/// The shards whose commit is scheduled or running, and the permits that
/// bound how many commits work in their files at once. SQLite blocks the
/// thread a commit runs on, so fewer commits write than there are cores
/// (handlers keep one). A commit gives its permit back as soon as its
/// file work is done (``release(_:)``), before it publishes its outputs:
/// held through the publishing, one permit let the node's 32 shards
/// commit one after the other, and at 50,000 records/s a shard waited
/// 1.2–2.5 s for its turn (docs/benchmarks.md).
final class CommitPermits: Sendable {
    private struct State {
        var scheduled: Set<ObjectIdentifier> = []
        var holding: Set<ObjectIdentifier> = []
        var waiting: Deque<(ObjectIdentifier, CheckedContinuation<Void, Never>)> = []
    }

    private let state = Mutex(State())
    let limit: Int

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Whether the shard's commit may be scheduled (none of it is).
    func schedule(_ shard: ObjectIdentifier) -> Bool {
        state.withLock { $0.scheduled.insert(shard).inserted }
    }

    /// Waits until fewer than `limit` commits hold a permit, and takes one.
    func acquire(for shard: ObjectIdentifier) async {
        await withCheckedContinuation { continuation in
            let granted = state.withLock { state -> Bool in
                guard state.holding.count < limit else {
                    state.waiting.append((shard, continuation))
                    return false
                }
                state.holding.insert(shard)
                return true
            }
            if granted { continuation.resume() }
        }
    }

    /// Gives the shard's permit, if it holds one, to the next waiting.
    func release(_ shard: ObjectIdentifier) {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.holding.remove(shard) != nil, let (waiter, continuation) = state.waiting.popFirst() else { return nil }
            state.holding.insert(waiter)
            return continuation
        }
        next?.resume()
    }

    /// The shard's commit is over: its permit (if still held) goes, and it
    /// may be scheduled again.
    func end(_ shard: ObjectIdentifier) {
        release(shard)
        _ = state.withLock { $0.scheduled.remove(shard) }
    }

    /// Commits holding a permit, and waiting for one.
    var counts: (holding: Int, waiting: Int) {
        state.withLock { ($0.holding.count, $0.waiting.count) }
    }
}
