/// The consumer's bookkeeping: what it owns, what is paused and why, how far
/// the application has read. Kept under a lock; each transition returns the
/// librdkafka calls to make, which the caller makes outside the lock.
struct ConsumerStateMachine: Sendable {
    /// Partitions currently assigned to this member.
    private(set) var assigned: Set<TopicPartition> = []
    /// Partitions the application paused; re-applied after every assignment.
    private(set) var userPaused: Set<TopicPartition> = []
    /// Whether every partition is paused because the record buffer is full.
    private(set) var flowPaused = false
    /// The next offset the application will see, per partition.
    private(set) var positions: [TopicPartition: Int64] = [:]
    private(set) var closing = false

    struct PauseActions: Equatable {
        var pause: [TopicPartition] = []
        var resume: [TopicPartition] = []
    }

    mutating func didAssign(_ partitions: [TopicPartition: Int64]) -> PauseActions {
        assigned.formUnion(partitions.keys)
        for (partition, offset) in partitions where offset >= 0 {
            positions[partition] = offset
        }
        let toPause = partitions.keys.filter { flowPaused || userPaused.contains($0) }
        return PauseActions(pause: toPause.sorted())
    }

    mutating func didRevoke(_ partitions: [TopicPartition]) {
        assigned.subtract(partitions)
        for partition in partitions { positions[partition] = nil }
    }

    mutating func pause(_ partitions: [TopicPartition]) -> PauseActions {
        userPaused.formUnion(partitions)
        return PauseActions(pause: partitions.filter(assigned.contains).sorted())
    }

    mutating func resume(_ partitions: [TopicPartition]) -> PauseActions {
        userPaused.subtract(partitions)
        guard !flowPaused else { return PauseActions() }
        return PauseActions(resume: partitions.filter(assigned.contains).sorted())
    }

    /// Pauses every partition when the buffer reaches the high watermark and
    /// resumes those the application did not pause once it drains below the low one.
    mutating func applyFlowControl(buffered: Int, high: Int, low: Int) -> PauseActions {
        if !flowPaused, buffered >= high {
            flowPaused = true
            return PauseActions(pause: assigned.subtracting(userPaused).sorted())
        }
        if flowPaused, buffered <= low {
            flowPaused = false
            return PauseActions(resume: assigned.subtracting(userPaused).sorted())
        }
        return PauseActions()
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
