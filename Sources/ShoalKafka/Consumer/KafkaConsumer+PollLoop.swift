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
        while !machine.withLock({ $0.closing }) {
            applyFlowControl()
            let count = fetch(queue: queue, into: messages, capacity: capacity)
            if count > 0 { deliver(messages, count: count) }
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

    private func deliver(_ messages: UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>, count: Int) {
        var records: [KafkaRecord] = []
        records.reserveCapacity(count)
        var ends: [TopicPartition: Int64] = [:]
        var topicNames: [OpaquePointer: String] = [:]
        for index in 0..<count {
            guard let message = messages[index] else { continue }
            defer { rd_kafka_message_destroy(message) }
            guard message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                handleError(message)
                continue
            }
            let record = KafkaRecord(message: message, topicNames: &topicNames)
            ends[record.topicPartition] = record.offset + 1
            records.append(record)
        }
        if !records.isEmpty {
            buffer.append(RecordBuffer.Batch(records: records, ends: ends))
        }
    }

    private func applyFlowControl() {
        let fetch = configuration.fetch
        let buffered = buffer.count
        let actions = machine.withLock {
            $0.applyFlowControl(buffered: buffered, high: fetch.bufferHighWatermark, low: fetch.bufferLowWatermark)
        }
        apply(actions)
    }

    /// Records a handed-out batch's end offsets, and wakes the poll thread
    /// when the buffer drained enough to resume.
    func didHandOut(_ batch: RecordBuffer.Batch) {
        let wake = machine.withLock { state in
            for (partition, next) in batch.ends { state.advance(partition, to: next) }
            return state.flowPaused
        }
        if wake, buffer.count <= configuration.fetch.bufferLowWatermark {
            rd_kafka_queue_yield_consumer(client.handle)
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

/// Wakes a consumer blocked in a poll so it re-checks its state.
func rd_kafka_queue_yield_consumer(_ handle: OpaquePointer) {
    guard let queue = rd_kafka_queue_get_consumer(handle) else { return }
    rd_kafka_queue_yield(queue)
    rd_kafka_queue_destroy(queue)
}
