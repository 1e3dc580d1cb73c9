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
        let queue = rd_kafka_queue_get_consumer(client.handle)!
        defer { rd_kafka_queue_destroy(queue) }
        let capacity = configuration.fetch.batchSize
        let messages = UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>.allocate(capacity: capacity)
        defer { messages.deallocate() }
        var topicNameCache: [OpaquePointer: String] = [:]
        while !machine.withLock({ $0.closing }) {
            applyFlowControl()
            let count = fetch(queue: queue, into: messages, capacity: capacity)
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
    private func fetch(
        queue: OpaquePointer,
        into messages: UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>,
        capacity: Int
    ) -> Int {
        var count = Int(rd_kafka_consume_batch_queue(queue, 0, messages, capacity))
        if count > 0 { return count }
        guard let first = rd_kafka_consumer_poll(client.handle, Self.pollTimeoutMilliseconds) else { return 0 }
        messages[0] = first
        count = 1
        if capacity > 1 {
            count += max(0, Int(rd_kafka_consume_batch_queue(queue, 0, messages + 1, capacity - 1)))
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
        let storage = KafkaRecord.pack(messages, count: count)
        var cursor = 0
        for index in 0..<count {
            guard let message = messages[index] else { continue }
            defer { rd_kafka_message_destroy(message) }
            guard message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                handleError(message)
                continue
            }
            if !run.matches(message) {
                run.close(into: &ends)
                run = PartitionRun(message, names: &topicNameCache)
            }
            run.end = message.pointee.offset + 1
            records.append(KafkaRecord(message: message, topic: run.topic, storage: storage, cursor: &cursor))
        }
        run.close(into: &ends)
        if !records.isEmpty {
            buffer.append(RecordBuffer.Batch(records: records, ends: ends))
        }
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

    func matches(_ message: UnsafeMutablePointer<rd_kafka_message_t>) -> Bool {
        handle == message.pointee.rkt && partition == message.pointee.partition
    }

    func close(into ends: inout [TopicPartition: Int64]) {
        guard handle != nil, end >= 0 else { return }
        ends[TopicPartition(topic, partition)] = end
    }
}
