import Synchronization

/// The consumer's pause of a shard's partition, applied outside the shard's
/// state lock: a consumer call takes the consumer's own locks, and under
/// the shard's lock it held up every record and mailbox of the partition
/// meanwhile. The shard's state decides (`ShardState.paused`); ``sync(to:apply:)``
/// applies the latest decision, one call at a time, so a resume decided
/// after a pause never reaches the consumer before that pause.
final class ConsumerPause: Sendable {
    /// Whether the consumer holds the partition paused, as far as this knows.
    private let applied = Mutex(false)

    /// Reads the decision (`desired`; nil leaves the pause as it is) and,
    /// when it differs from what the consumer holds, applies it, both while
    /// holding this pause's lock.
    func sync(to desired: () -> Bool?, apply: (Bool) -> Void) {
        applied.withLock { applied in
            guard let paused = desired(), paused != applied else { return }
            apply(paused)
            applied = paused
        }
    }

    /// Forgets the pause without a consumer call (the partition is being
    /// handed off: the consumer drops its pause with it); returns whether
    /// one was applied.
    func reset() -> Bool {
        applied.withLock { applied in
            defer { applied = false }
            return applied
        }
    }
}
