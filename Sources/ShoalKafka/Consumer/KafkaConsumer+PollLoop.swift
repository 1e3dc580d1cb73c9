import CRdKafka
import Foundation

extension KafkaConsumer {
    /// Starts the poll thread and suspends until it ends.
    func runPollThread() async throws {
        let outcome: Result<Void, KafkaError> = await withCheckedContinuation { continuation in
            let thread = Thread { [self] in
                continuation.resume(returning: pollLoop())
            }
            thread.name = "shoal-kafka-consumer"
            thread.start()
        }
        try outcome.get()
    }

    /// The poll thread's body: subscribe, fetch into the buffer, serve
    /// callbacks, and on shutdown close (revoking through the hook).
    private func pollLoop() -> Result<Void, KafkaError> {
        defer { buffer.finish(); eventSink.finish() }
        do throws(KafkaError) {
            try subscribe()
        } catch {
            return .failure(error)
        }
        let capacity = configuration.fetch.batchSize
        let messages = UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>.allocate(capacity: capacity)
        defer { messages.deallocate() }
        var topicNameCache: [OpaquePointer: String] = [:]
        while !machine.withLock({ $0.closing }) {
            applyFlowControl()
            let count = fetch(into: messages, capacity: capacity)
            if count > 0 { deliver(messages, count: count, topicNameCache: &topicNameCache) }
        }
        close()
        return .success(())
    }

    private func subscribe() throws(KafkaError) {
        let list = RDKafkaTopicPartitionList(configuration.topics.map { TopicPartition($0, RD_KAFKA_PARTITION_UA) })
        let error = rd_kafka_subscribe(client.handle, list.pointer)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError.rdKafka(error, "subscribing to \(configuration.topics) failed", code: .subscription)
        }
        logger.info("Joined consumer group", metadata: [
            "group": "\(configuration.groupID)", "topics": "\(configuration.topics)",
        ])
    }

    /// Waits up to the poll interval for one message, then takes whatever
    /// else is ready without waiting, so a partial batch never waits.
    ///
    /// One message per call, not `rd_kafka_consume_batch_queue`: in
    /// librdkafka 2.0 the batch call advances a partition's application
    /// offset past messages that a pause then discards, so the resume
    /// fetches after them and they are never delivered (fixed upstream in
    /// 2.1). Pausing is how both the node and the buffer apply backpressure.
    private func fetch(
        into messages: UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>,
        capacity: Int
    ) -> Int {
        guard let first = rd_kafka_consumer_poll(client.handle, Self.pollTimeoutMilliseconds) else { return 0 }
        messages[0] = first
        var count = 1
        while count < capacity, let next = rd_kafka_consumer_poll(client.handle, 0) {
            messages[count] = next
            count += 1
        }
        return count
    }

    /// Bounded so that shutdown and flow-control changes are noticed quickly.
    static var pollTimeoutMilliseconds: Int32 { 100 }

    /// Converts a batch of messages into records and buffers them. Records
    /// come in runs of one partition, so the partition bookkeeping is done
    /// once per run rather than once per record.
    private func deliver(
        _ messages: UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>,
        count: Int, topicNameCache: inout [OpaquePointer: String]
    ) {
        var records: [KafkaRecord] = []
        records.reserveCapacity(count)
        var ends: [TopicPartition: Int64] = [:]
        var run = PartitionRun()
        var repeats = 0
        let storage = KafkaRecord.pack(messages, count: count)
        var cursor = 0
        for index in 0..<count {
            guard let message = messages[index] else { continue }
            defer { rd_kafka_message_destroy(message) }
            guard message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                // Handling an error can assign the partition again.
                close(&run, into: &ends)
                run = PartitionRun()
                handleError(message)
                continue
            }
            if !run.matches(message) {
                close(&run, into: &ends)
                run = PartitionRun(message, names: &topicNameCache)
                run.cursor = machine.withLock { $0.cursors[run.topicPartition] }
            }
            guard run.accepts(message.pointee.offset) else {
                cursor += KafkaRecord.packedSize(of: message)
                repeats += 1
                continue
            }
            run.end = message.pointee.offset + 1
            records.append(KafkaRecord(message: message, topic: run.topic, storage: storage, cursor: &cursor))
        }
        close(&run, into: &ends)
        if repeats > 0 {
            logger.debug("Dropped records delivered twice by librdkafka", metadata: ["count": "\(repeats)"])
        }
        if !records.isEmpty {
            buffer.append(RecordBuffer.Batch(records: records, ends: ends))
        }
    }

    private func close(_ run: inout PartitionRun, into ends: inout [TopicPartition: Int64]) {
        guard let cursor = run.cursor, run.end >= 0 else { return }
        ends[run.topicPartition] = run.end
        machine.withLock { $0.fetched(run.topicPartition, assignment: cursor.assignment, upTo: run.end) }
        run.end = -1
    }

    /// Backpressure. A full buffer first makes the poll thread wait for the
    /// reader, up to `flowPauseDelay`: pausing purges librdkafka's prefetched
    /// records, and refetching them made the consumer ~10× slower in the
    /// consume benchmark when the reader was only briefly behind. A reader
    /// that stays behind gets its partitions paused, and polling goes on.
    private func applyFlowControl() {
        let fetch = configuration.fetch
        if buffer.count >= fetch.bufferHighWatermark, !machine.withLock({ $0.flowPaused }) {
            let deadline = ContinuousClock.now + fetch.flowPauseDelay
            while ContinuousClock.now < deadline, !machine.withLock({ $0.closing }) {
                if buffer.waitForSpace(limit: fetch.bufferLowWatermark, timeout: .milliseconds(100)) { return }
            }
        }
        let buffered = buffer.count
        let actions = machine.withLock { state in
            let actions = state.applyFlowControl(
                buffered: buffered, high: fetch.bufferHighWatermark, low: fetch.bufferLowWatermark
            )
            apply(actions)
            return actions
        }
        if !actions.pause.isEmpty {
            logger.debug("Reader is behind: pausing partitions", metadata: ["buffered": "\(buffered)"])
        }
    }

    /// Records a handed-out batch's end offsets, and wakes the poll thread
    /// when the buffer drained enough to resume.
    func didHandOut(_ batch: RecordBuffer.Batch) {
        let wake = machine.withLock { state in
            for (partition, next) in batch.ends { state.advance(partition, to: next) }
            return state.flowPaused
        }
        if wake, buffer.count <= configuration.fetch.bufferLowWatermark {
            client.wakeConsumerPoll()
        }
    }

    private func close() {
        logger.info("Leaving consumer group", metadata: ["group": "\(configuration.groupID)"])
        // librdkafka 2.0 aborts destroying a cooperative-sticky member that
        // never received an assignment (an assertion on its assignor state;
        // fixed upstream in 2.3): such a handle is left to the process exit.
        if configuration.assignmentStrategy == .cooperativeSticky, !machine.withLock({ $0.everAssigned }) {
            client.leakOnDeinit.store(true, ordering: .releasing)
            logger.debug("Left the group before a first assignment: the client handle is kept until exit")
        }
        // Serves the final revocation through the rebalance hook on this thread.
        let error = rd_kafka_consumer_close(client.handle)
        if error != RD_KAFKA_RESP_ERR_NO_ERROR {
            logger.warning("Leaving the group reported an error", metadata: [
                "error": "\(KafkaError.rdKafka(error, "consumer close"))",
            ])
        }
    }
}

/// Consecutive messages of one partition within a fetched batch.
private struct PartitionRun {
    var handle: OpaquePointer?
    var partition: Int32 = -1
    var topic = ""
    var end: Int64 = -1
    /// Where this assignment of the partition stands; nil when it is not
    /// assigned (its records belong to another member now).
    var cursor: ConsumerStateMachine.FetchCursor?

    init() {}

    init(_ message: UnsafeMutablePointer<rd_kafka_message_t>, names: inout [OpaquePointer: String]) {
        handle = message.pointee.rkt
        partition = message.pointee.partition
        if let handle {
            if let name = names[handle] {
                topic = name
            } else {
                topic = String(cString: rd_kafka_topic_name(handle))
                names[handle] = topic
            }
        }
    }

    var topicPartition: TopicPartition { TopicPartition(topic, partition) }

    func matches(_ message: UnsafeMutablePointer<rd_kafka_message_t>) -> Bool {
        handle == message.pointee.rkt && partition == message.pointee.partition
    }

    /// Whether a record at `offset` is new for this assignment.
    func accepts(_ offset: Int64) -> Bool {
        guard let cursor else { return false }
        let next = end >= 0 ? end : cursor.next
        return next.map { offset >= $0 } ?? true
    }
}
