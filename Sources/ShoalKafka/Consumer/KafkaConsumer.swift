import CRdKafka
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// A member of a Kafka consumer group.
///
/// Create it, hand the ``records`` sequence to one reader task, and run it
/// as a `Service` (``run()``): a dedicated poll thread subscribes, serves
/// rebalances through the ``KafkaRebalanceListener`` *before* partitions are
/// given up, re-applies pauses after every assignment, and keeps polling
/// while partitions are paused, so the member is never evicted for silence.
/// On graceful shutdown it revokes its partitions (running the hook) and
/// leaves the group.
public final class KafkaConsumer: Service, Sendable {
    let configuration: KafkaConsumerConfiguration
    let logger: Logger
    let listener: any KafkaRebalanceListener
    let client: RDKafkaClient
    let machine: Mutex<ConsumerStateMachine>
    /// librdkafka's group join state, from its log callback. Not in
    /// `machine`: the callback runs on librdkafka's main thread, which can
    /// hold librdkafka's own locks while it logs, and `pause`/`resume` call
    /// into librdkafka under `machine`'s lock; taking that lock here
    /// deadlocked the two (seen once in a test run). This lock is never held
    /// across a librdkafka call.
    let joinState = Mutex<String?>(nil)
    let buffer = RecordBuffer()
    let eventStream: AsyncStream<KafkaConsumerEvent>
    let eventSink: AsyncStream<KafkaConsumerEvent>.Continuation
    let started = Atomic<Bool>(false)

    /// Creates the member; it joins the group when ``run()`` starts.
    /// - Throws: ``KafkaError`` with code `invalidConfiguration` naming the
    ///   property librdkafka rejected.
    public init(
        configuration: KafkaConsumerConfiguration,
        listener: any KafkaRebalanceListener = NoRebalanceHooks(),
        logger: Logger
    ) throws(KafkaError) {
        guard !configuration.topics.isEmpty else {
            throw KafkaError(code: .invalidConfiguration, reason: "a consumer needs at least one topic")
        }
        guard configuration.fetch.bufferLowWatermark < configuration.fetch.bufferHighWatermark else {
            throw KafkaError(
                code: .invalidConfiguration,
                reason: "fetch.bufferLowWatermark must be below fetch.bufferHighWatermark"
            )
        }
        self.configuration = configuration
        self.logger = logger
        self.listener = listener
        self.machine = Mutex(ConsumerStateMachine())
        (eventStream, eventSink) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(4_096))
        let rebalance = RebalanceRelay()
        let events = eventSink
        let context = RDKafkaContext(
            logger: logger,
            onRebalance: { client, error, list in
                rebalance.target?.rebalance(client: client, error: error, list: list)
            },
            onError: { events.yield(.error($0)) },
            onJoinState: { state in rebalance.target?.joinState.withLock { $0 = state } },
            forwardsDebug: !configuration.client.debugContexts.isEmpty
        )
        let config = try RDKafkaConfig(properties: configuration.properties, raw: configuration.client.rawProperties)
        self.client = try RDKafkaClient(kind: .consumer, config: config, context: context)
        rebalance.target = self
        rd_kafka_poll_set_consumer(client.handle)
    }

    /// Record batches in partition order, for one reader. Ends after shutdown.
    public var records: KafkaRecordBatches { KafkaRecordBatches(consumer: self) }

    /// Rebalances, offsets that fell off the log, and errors.
    public var events: AsyncStream<KafkaConsumerEvent> { eventStream }

    /// Runs the poll loop until graceful shutdown or cancellation, then
    /// revokes the partitions (running the flush hook) and leaves the group.
    public func run() async throws {
        guard !started.exchange(true, ordering: .relaxed) else {
            throw KafkaError(code: .shutDown, reason: "a KafkaConsumer runs once")
        }
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await runPollThread()
            } onGracefulShutdown: {
                self.triggerShutdown()
            }
        } onCancel: {
            self.triggerShutdown()
        }
    }

    /// Asks the poll loop to stop: it revokes, leaves the group and ends ``records``.
    public func triggerShutdown() {
        guard machine.withLock({ $0.startClosing() }) else { return }
        client.wakeConsumerPoll()
    }

    /// Stops fetching `partitions`; the pause holds across rebalances.
    public func pause(_ partitions: [TopicPartition]) {
        // Applied under the lock: a pause and a resume from two threads must
        // reach librdkafka in the order they were decided. The calls only
        // enqueue an operation, they never block.
        machine.withLock { apply($0.pause(partitions)) }
    }

    /// Resumes fetching `partitions`.
    public func resume(_ partitions: [TopicPartition]) {
        machine.withLock { apply($0.resume(partitions)) }
    }

    /// The partitions this member owns now.
    public var assignment: Set<TopicPartition> { machine.withLock { $0.assigned } }

    /// The partitions the application paused.
    public var pausedPartitions: Set<TopicPartition> { machine.withLock { $0.userPaused } }

    /// Commits `offsets` (the next offset to read, per partition) for the group,
    /// waiting for the coordinator's answer.
    ///
    /// While the group rebalances (the coordinator refused a commit for it,
    /// or this member gave partitions up and rejoins), commits fail at once
    /// (code `commit`) until the rebalance assigns this member its
    /// partitions; from the rebalance hooks they go through. A commit that
    /// reached the coordinator with the old generation would make librdkafka
    /// give up the whole assignment.
    public func commit(_ offsets: [TopicPartition: Int64]) async throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        try checkMayCommit()
        let client = self.client
        do {
            try await BlockingCalls.run { () throws(KafkaError) in
                // Checked again on the blocking thread, just before the call:
                // the hop there can take long enough for a rejoin to begin.
                try self.checkMayCommit()
                try Self.commitBlocking(client.handle, offsets)
            }
        } catch {
            if Self.meansRebalancing(error) { machine.withLock { $0.rebalance.refused() } }
            throw error
        }
    }

    private func checkMayCommit() throws(KafkaError) {
        let limit = configuration.maxPollInterval
        let joined = joinState.withLock { $0 }
        guard machine.withLock({ machine in
            machine.rebalance.joinState = joined ?? machine.rebalance.joinState
            return machine.rebalance.mayCommit(limit: limit)
        }) else {
            throw KafkaError(
                code: .commit, reason: "the group is rebalancing: commit after it",
                rdKafkaCode: RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS.rawValue
            )
        }
    }

    private static func meansRebalancing(_ error: KafkaError) -> Bool {
        let rebalancing: [rd_kafka_resp_err_t] = [
            RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS, RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION,
        ]
        return rebalancing.contains { $0.rawValue == error.rdKafkaCode }
    }

    /// Consumer lag per assigned partition: the high watermark minus the next
    /// offset the application will read. From the last fetch responses; no
    /// broker round trip.
    public func lag() -> [TopicPartition: Int64] {
        let positions = machine.withLock { state in
            state.assigned.map { ($0, state.positions[$0]) }
        }
        var result: [TopicPartition: Int64] = [:]
        for (partition, position) in positions {
            result[partition] = lag(of: partition, at: position)
        }
        return result
    }

    /// The lag of one assigned partition (see ``lag()``); nil when it is
    /// not assigned or its high watermark is not known yet.
    /// The offset of the next record the consumer delivers from an
    /// assigned `partition`: after the last one delivered, else where its
    /// fetch starts; nil while that is not known yet.
    public func nextOffset(of partition: TopicPartition) -> Int64? {
        let known = machine.withLock { state -> Int64?? in
            state.assigned.contains(partition) ? .some(state.positions[partition] ?? nil) : .none
        }
        guard let known else { return nil }
        if let known { return known }
        let list = RDKafkaTopicPartitionList([partition])
        rd_kafka_position(client.handle, list.pointer)
        return RDKafkaTopicPartitionList.entries(of: list.pointer).first.map(\.1).flatMap { $0 >= 0 ? $0 : nil }
    }

    public func lag(of partition: TopicPartition) -> Int64? {
        guard let position = machine.withLock({ state in state.assigned.contains(partition) ? state.positions[partition] : nil as Int64?? }) else {
            return nil
        }
        return lag(of: partition, at: position)
    }

    /// The cached high watermark minus `position` (the log start when nil);
    /// nil while the high watermark is not known.
    private func lag(of partition: TopicPartition, at position: Int64?) -> Int64? {
        var low: Int64 = -1
        var high: Int64 = -1
        rd_kafka_get_watermark_offsets(client.handle, partition.topic, partition.partition, &low, &high)
        guard high >= 0 else { return nil }
        return max(0, high - max(position ?? low, low))
    }

    /// Waits until a broker answers a metadata request, at most `timeout`.
    /// - Throws: ``KafkaError`` with code `brokerUnreachable` naming the cause.
    public func awaitConnection(timeout: Duration) async throws(KafkaError) -> ClusterMetadata {
        let client = self.client
        return try await BlockingCalls.run { () throws(KafkaError) in try client.metadata(timeout: timeout) }
    }

    static func commitBlocking(_ handle: OpaquePointer, _ offsets: [TopicPartition: Int64]) throws(KafkaError) {
        let list = RDKafkaTopicPartitionList(offsets: offsets)
        let error = rd_kafka_commit(handle, list.pointer, 0)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError.rdKafka(error, "commit of \(offsets.count) partition offsets failed", code: .commit)
        }
        for (partition, _, partitionError) in list.entries where partitionError != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError.rdKafka(partitionError, "commit for \(partition) failed", code: .commit)
        }
    }

    func apply(_ actions: ConsumerStateMachine.PauseActions) {
        if !actions.pause.isEmpty || !actions.resume.isEmpty {
            logger.trace("Pause state applied", metadata: ["pause": "\(actions.pause)", "resume": "\(actions.resume)"])
        }
        if !actions.pause.isEmpty {
            let list = RDKafkaTopicPartitionList(actions.pause)
            rd_kafka_pause_partitions(client.handle, list.pointer)
        }
        if !actions.resume.isEmpty {
            let list = RDKafkaTopicPartitionList(actions.resume)
            rd_kafka_resume_partitions(client.handle, list.pointer)
        }
    }

    func emit(_ event: KafkaConsumerEvent) {
        eventSink.yield(event)
    }
}

/// Lets the C rebalance callback, created before the consumer exists, reach it.
private final class RebalanceRelay: Sendable {
    // The consumer holds its client, which holds the context, which holds this
    // relay: a weak reference breaks that cycle.
    private let weakStorage = Mutex<WeakConsumer>(WeakConsumer())

    var target: KafkaConsumer? {
        get { weakStorage.withLock { $0.value } }
        set { weakStorage.withLock { $0.value = newValue } }
    }
}

private struct WeakConsumer {
    weak var value: KafkaConsumer?
}

/// The records of a ``KafkaConsumer``, in batches. Each partition's records
/// come in offset order.
public struct KafkaRecordBatches: AsyncSequence, Sendable {
    public typealias Element = [KafkaRecord]
    let consumer: KafkaConsumer

    public struct AsyncIterator: AsyncIteratorProtocol {
        let consumer: KafkaConsumer
        let lease: ReaderLease

        public mutating func next() async -> [KafkaRecord]? {
            consumer.buffer.readerReturned()
            guard let batch = await consumer.buffer.next() else { return nil }
            consumer.didHandOut(batch)
            return batch.records
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(consumer: consumer, lease: ReaderLease(consumer.buffer))
    }
}

/// Tells the buffer when a reader stops reading (its iterator is released),
/// so that a revocation does not wait for a batch nobody will finish.
final class ReaderLease: Sendable {
    let buffer: RecordBuffer

    init(_ buffer: RecordBuffer) {
        self.buffer = buffer
    }

    deinit {
        buffer.readerReturned()
    }
}
