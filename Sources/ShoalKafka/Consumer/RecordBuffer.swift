import Dispatch
import DequeModule
import Synchronization

/// The bounded hand-off between the consumer's poll thread and the one task
/// that reads records. When it holds more than the high watermark the poll
/// thread first waits briefly for room (librdkafka's bounded prefetch queue
/// holds what arrives meanwhile), then pauses its partitions and keeps
/// polling. Hand-written because it sits on the hot path of every record.
final class RecordBuffer: Sendable {
    struct Batch: Sendable {
        var records: [KafkaRecord]
        /// The next offset per partition once this batch is read.
        var ends: [TopicPartition: Int64]
    }

    private struct State {
        var batches: Deque<Batch> = []
        var count = 0
        var finished = false
        var waiter: CheckedContinuation<Batch?, Never>?
        /// The poll thread waits for the count to drop to this, if set.
        var spaceWanted: Int?
        /// Whether the reader holds a batch: from hand-out until it asks for
        /// the next one or stops reading.
        var readerHolds = false
        /// Whether the poll thread waits for the reader to come back.
        var returnWanted = false
    }

    private let state = Mutex(State())
    private let space = DispatchSemaphore(value: 0)
    private let readerBack = DispatchSemaphore(value: 0)

    /// Blocks the calling (poll) thread until the reader has finished with
    /// the batch it holds, or `timeout` passes. Returns whether it finished.
    func waitForReader(timeout: Duration) -> Bool {
        let deadline = DispatchTime.now() + .milliseconds(Int(timeout.milliseconds))
        while true {
            let holds = state.withLock { state in
                state.returnWanted = state.readerHolds && !state.finished
                return state.returnWanted
            }
            guard holds else { return true }
            if readerBack.wait(timeout: deadline) == .timedOut {
                return state.withLock { state in
                    state.returnWanted = false
                    return !state.readerHolds
                }
            }
        }
    }

    /// The reader is done with its batch: it asks for the next or stops.
    func readerReturned() {
        let wake = state.withLock { state in
            state.readerHolds = false
            defer { state.returnWanted = false }
            return state.returnWanted
        }
        if wake { readerBack.signal() }
    }

    /// Blocks the calling (poll) thread until at most `limit` records are
    /// buffered or `timeout` passes. Returns whether there is room.
    func waitForSpace(limit: Int, timeout: Duration) -> Bool {
        let full = state.withLock { state in
            guard state.count > limit, !state.finished else { return false }
            state.spaceWanted = limit
            return true
        }
        guard full else { return true }
        _ = space.wait(timeout: .now() + .milliseconds(Int(timeout.milliseconds)))
        return state.withLock { state in
            state.spaceWanted = nil
            return state.count <= limit
        }
    }

    var count: Int { state.withLock { $0.count } }

    /// Adds a batch, waking the reader if it waits.
    func append(_ batch: Batch) {
        let waiter: CheckedContinuation<Batch?, Never>? = state.withLock { state in
            if let waiter = state.waiter {
                state.waiter = nil
                // Handed straight to the reader: it holds this batch now.
                state.readerHolds = true
                return waiter
            }
            state.batches.append(batch)
            state.count += batch.records.count
            return nil
        }
        waiter?.resume(returning: batch)
    }

    /// Drops buffered records of `partitions` (they were revoked: their new
    /// owner reads them from the committed offset).
    func purge(_ partitions: Set<TopicPartition>) {
        state.withLock { state in
            var kept: Deque<Batch> = []
            var count = 0
            for var batch in state.batches {
                batch.records.removeAll { partitions.contains($0.topicPartition) }
                for partition in partitions { batch.ends[partition] = nil }
                guard !batch.records.isEmpty else { continue }
                count += batch.records.count
                kept.append(batch)
            }
            state.batches = kept
            state.count = count
        }
    }

    /// Ends the sequence: the reader gets the buffered batches, then `nil`.
    func finish() {
        space.signal()
        let waiter = state.withLock { state -> CheckedContinuation<Batch?, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The next batch, suspending until there is one or the buffer finishes.
    func next() async -> Batch? {
        if let ready = state.withLock({ take(&$0) }) { return ready }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready: Batch?? = state.withLock { state in
                    if let ready = take(&state) { return ready }
                    if Task.isCancelled { return .some(nil) }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
    }

    /// Under the lock: the first batch (waking a poll thread that waits for
    /// room), `.some(nil)` once finished and drained, `nil` when the reader
    /// must wait.
    private func take(_ state: inout State) -> Batch?? {
        guard let batch = state.batches.popFirst() else {
            return state.finished ? .some(nil) : nil
        }
        state.count -= batch.records.count
        state.readerHolds = true
        if let limit = state.spaceWanted, state.count <= limit {
            state.spaceWanted = nil
            space.signal()
        }
        return .some(batch)
    }
}
