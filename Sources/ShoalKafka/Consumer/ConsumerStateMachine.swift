/// The consumer's bookkeeping: what it owns, what is paused and why, how far
/// the application has read. Kept under a lock; each transition returns the
/// librdkafka calls to make, which the caller makes under the same lock so
/// that they reach librdkafka in the order they were decided.
///
/// librdkafka only ever sees real transitions. In librdkafka 2.0, resuming a
/// partition that is not paused discards its prefetched records and fetches
/// again from where it was last paused, so the application reads records a
/// second time; a pause and a resume asked for twice must reach it once.
struct ConsumerStateMachine: Sendable {
    /// Partitions currently assigned to this member.
    private(set) var assigned: Set<TopicPartition> = []
    /// Partitions the application paused; re-applied after every assignment.
    private(set) var userPaused: Set<TopicPartition> = []
    /// Whether every partition is paused because the record buffer is full.
    private(set) var flowPaused = false
    /// The partitions paused in librdkafka now.
    private(set) var paused: Set<TopicPartition> = []
    /// The next offset the application will see, per partition.
    private(set) var positions: [TopicPartition: Int64] = [:]
    private(set) var closing = false
    /// Whether an assignment (even an empty one) ever reached this member.
    private(set) var everAssigned = false
    /// Where this member is in the group's rebalances, for commits.
    var rebalance = RebalanceProgress()
    /// Per assigned partition, where the poll thread expects its next record.
    private(set) var cursors: [TopicPartition: FetchCursor] = [:]
    private var assignments = 0

    /// The next offset expected from librdkafka for one assignment of a
    /// partition. A record below it was delivered already: librdkafka 2.0
    /// can deliver a record twice when a pause races the poll that returns it.
    struct FetchCursor: Equatable {
        /// Which assignment of the partition this is.
        var assignment: Int
        var next: Int64?
    }

    struct PauseActions: Equatable {
        var pause: [TopicPartition] = []
        var resume: [TopicPartition] = []
    }

    /// Partitions start fetching when librdkafka assigns them, whatever their
    /// pause before: those that should be paused are paused again.
    mutating func didAssign(_ partitions: [TopicPartition: Int64]) -> PauseActions {
        everAssigned = true
        assigned.formUnion(partitions.keys)
        paused.subtract(partitions.keys)
        for (partition, offset) in partitions {
            assignments += 1
            cursors[partition] = FetchCursor(assignment: assignments, next: nil)
            if offset >= 0 { positions[partition] = offset }
        }
        return reconcile()
    }

    /// The application moved `partition`'s fetch: records expected from
    /// the old position are no longer (a new cursor, as for an assignment).
    mutating func didSeek(_ partition: TopicPartition, to offset: Int64) {
        guard assigned.contains(partition) else { return }
        assignments += 1
        cursors[partition] = FetchCursor(assignment: assignments, next: nil)
        positions[partition] = offset
    }

    mutating func didRevoke(_ partitions: [TopicPartition]) {
        assigned.subtract(partitions)
        paused.subtract(partitions)
        for partition in partitions {
            positions[partition] = nil
            cursors[partition] = nil
        }
    }

    /// Records that `partition`'s records before `next` were fetched, unless
    /// it was assigned again meanwhile.
    mutating func fetched(_ partition: TopicPartition, assignment: Int, upTo next: Int64) {
        guard cursors[partition]?.assignment == assignment else { return }
        cursors[partition]?.next = next
    }

    mutating func pause(_ partitions: [TopicPartition]) -> PauseActions {
        userPaused.formUnion(partitions)
        return reconcile()
    }

    mutating func resume(_ partitions: [TopicPartition]) -> PauseActions {
        userPaused.subtract(partitions)
        return reconcile()
    }

    /// Pauses every partition when the buffer reaches the high watermark and
    /// resumes those the application did not pause once it drains below the low one.
    mutating func applyFlowControl(buffered: Int, high: Int, low: Int) -> PauseActions {
        if !flowPaused, buffered >= high {
            flowPaused = true
        } else if flowPaused, buffered <= low {
            flowPaused = false
        }
        return reconcile()
    }

    /// The calls that bring librdkafka's paused set to the wanted one.
    private mutating func reconcile() -> PauseActions {
        let wanted = flowPaused ? assigned : assigned.intersection(userPaused)
        let actions = PauseActions(
            pause: wanted.subtracting(paused).sorted(),
            resume: paused.subtracting(wanted).sorted()
        )
        paused = wanted
        return actions
    }

    mutating func advance(_ partition: TopicPartition, to next: Int64) {
        guard assigned.contains(partition) else { return }
        positions[partition] = next
    }

    mutating func startClosing() -> Bool {
        defer { closing = true }
        return !closing
    }
}

/// Whether this member may commit now: a commit that reaches the
/// coordinator with an old generation makes librdkafka give up the whole
/// assignment, so commits wait while librdkafka rejoins the group.
struct RebalanceProgress: Sendable {
    /// librdkafka's join state, read from its group debug log; nil until
    /// the first change is seen.
    var joinState: String?
    /// Without the join state: since when commits wait, if they do.
    private(set) var since: ContinuousClock.Instant?
    /// Whether the next assignment callback is the one librdkafka makes right
    /// after a cooperative revocation, which a rejoin follows.
    private var assignBeforeRejoin = false
    /// Whether a rebalance callback (with its hooks) is running: the
    /// generation is settled while it runs, so commits go through.
    var inCallback = false

    /// The coordinator refused a commit because the group is rebalancing.
    mutating func refused(at now: ContinuousClock.Instant = .now) {
        if since == nil { since = now }
    }

    /// This member gave partitions up; it rejoins the group next.
    mutating func didRevoke(cooperative: Bool, lost: Bool, at now: ContinuousClock.Instant = .now) {
        since = since ?? now
        assignBeforeRejoin = cooperative && !lost
    }

    /// An assignment ends the rebalance, unless a rejoin follows it.
    mutating func didAssign() {
        if assignBeforeRejoin {
            assignBeforeRejoin = false
        } else {
            since = nil
        }
    }

    /// Whether a commit may go now: in a rebalance callback, or while the
    /// group is steady. Without the join state, from a refusal or revocation
    /// until the rebalance's assignment, or `limit` (the rebalance timeout).
    func mayCommit(limit: Duration, now: ContinuousClock.Instant = .now) -> Bool {
        if inCallback { return true }
        if let joinState { return joinState == "steady" }
        guard let since else { return true }
        return now - since > limit
    }
}
