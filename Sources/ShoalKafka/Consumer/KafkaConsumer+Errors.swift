import CRdKafka

extension KafkaConsumer {
    /// A message that carries an error instead of a record.
    func handleError(_ message: UnsafeMutablePointer<rd_kafka_message_t>) {
        let error = message.pointee.err
        if error == RD_KAFKA_RESP_ERR__PARTITION_EOF { return }
        if error == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET || error == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE,
           let topic = message.pointee.rkt {
            let partition = TopicPartition(String(cString: rd_kafka_topic_name(topic)), message.pointee.partition)
            offsetFellOffTheLog(partition, offset: message.pointee.offset, error: error)
            return
        }
        let text = rd_kafka_message_errstr(message).map { String(cString: $0) } ?? ""
        let wrapped = KafkaError.rdKafka(error, "consumer error: \(text)")
        logger.error("Kafka consumer error", metadata: ["error": "\(wrapped)"])
        emit(.error(wrapped))
    }

    /// Reports the lost offset loudly, then applies the configured policy.
    private func offsetFellOffTheLog(_ partition: TopicPartition, offset: Int64, error: rd_kafka_resp_err_t) {
        logger.error("Offset fell off the log: the broker no longer holds it; records were lost to retention", metadata: [
            "partition": "\(partition)", "offset": "\(offset)",
            "policy": "\(configuration.offsetOutOfRange)",
        ])
        emit(.offsetOutOfRange(partition, offset: offset))
        switch configuration.offsetOutOfRange {
        case .resetToEarliest:
            restart(partition, at: resolve(.beginning, of: partition))
        case .resetToLatest:
            restart(partition, at: resolve(.end, of: partition))
        case .stop:
            break
        }
    }

    /// Restarts fetching a partition that librdkafka stopped after an
    /// out-of-range error. A seek does not restart a stopped partition, so it
    /// is assigned again at `offset`; the others keep their positions.
    func restart(_ partition: TopicPartition, at offset: Int64) {
        let handle = client.handle
        // Every partition librdkafka assigns again starts unpaused.
        var reassigned = [partition: offset]
        if client.isCooperative {
            let removed = RDKafkaTopicPartitionList([partition])
            if let failure = rd_kafka_incremental_unassign(handle, removed.pointer) {
                return reportRestartFailure(KafkaError.consuming(failure, "restart of \(partition): unassign failed"))
            }
            let added = RDKafkaTopicPartitionList(offsets: [partition: offset])
            if let failure = rd_kafka_incremental_assign(handle, added.pointer) {
                return reportRestartFailure(KafkaError.consuming(failure, "restart of \(partition) at \(offset) failed"))
            }
        } else {
            reassigned = currentPositions().merging([partition: offset]) { $1 }
            let list = RDKafkaTopicPartitionList(offsets: reassigned)
            let error = rd_kafka_assign(handle, list.pointer)
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                return reportRestartFailure(KafkaError.rdKafka(error, "restart of \(partition) at \(offset) failed"))
            }
        }
        machine.withLock { apply($0.didAssign(reassigned)) }
        logger.notice("Partition restarted", metadata: ["partition": "\(partition)", "offset": "\(offset)"])
    }

    /// librdkafka's fetch positions of the current assignment.
    private func currentPositions() -> [TopicPartition: Int64] {
        var assigned: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        guard rd_kafka_assignment(client.handle, &assigned) == RD_KAFKA_RESP_ERR_NO_ERROR, let assigned else { return [:] }
        defer { rd_kafka_topic_partition_list_destroy(assigned) }
        rd_kafka_position(client.handle, assigned)
        var result: [TopicPartition: Int64] = [:]
        for (partition, offset, _) in RDKafkaTopicPartitionList.entries(of: assigned) {
            result[partition] = offset
        }
        return result
    }

    private func reportRestartFailure(_ error: KafkaError) {
        logger.error("Could not restart a partition", metadata: ["error": "\(error)"])
        emit(.error(error))
    }
}

extension KafkaConsumer {
    /// Moves an assigned partition's next fetch to `offset` (for a runtime
    /// that learnt where to start only after the assignment, by restoring
    /// state). The partition's pause, if any, holds; records of it fetched
    /// before are dropped. Returns false if the partition is not assigned.
    ///
    /// A seek, not a new assignment: under the lock that rebalance callbacks
    /// take too, so it cannot land on a partition revoked meanwhile, and it
    /// leaves the other partitions' fetch positions alone.
    @discardableResult
    public func reposition(_ partition: TopicPartition, to offset: Int64) -> Bool {
        let handle = client.handle
        let failure: KafkaError? = machine.withLock { state in
            guard state.assigned.contains(partition) else { return KafkaError(code: .assignment, reason: "\(partition) is not assigned") }
            let list = RDKafkaTopicPartitionList(offsets: [partition: offset])
            // Asynchronous (timeout 0): never blocks under the lock.
            if let error = rd_kafka_seek_partitions(handle, list.pointer, 0) {
                return KafkaError.consuming(error, "seek of \(partition) to \(offset) failed")
            }
            state.didSeek(partition, to: offset)
            return nil
        }
        guard let failure else {
            logger.debug("Partition repositioned", metadata: ["partition": "\(partition)", "offset": "\(offset)"])
            return true
        }
        logger.warning("Could not reposition a partition", metadata: ["error": "\(failure)"])
        return false
    }

    /// The group's committed offsets of `partitions`; partitions without one
    /// are left out.
    public func committedOffsets(_ partitions: [TopicPartition], timeout: Duration = .seconds(10)) async throws(KafkaError) -> [TopicPartition: Int64] {
        guard !partitions.isEmpty else { return [:] }
        let client = self.client
        return try await BlockingCalls.run { () throws(KafkaError) in
            let list = RDKafkaTopicPartitionList(partitions)
            let error = rd_kafka_committed(client.handle, list.pointer, timeout.timeoutMilliseconds)
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError.rdKafka(error, "reading committed offsets of \(partitions) failed", code: .commit)
            }
            var result: [TopicPartition: Int64] = [:]
            for (partition, offset, _) in list.entries where offset >= 0 { result[partition] = offset }
            return result
        }
    }
}

extension KafkaConsumer {
    /// This member's id in the group, once it joined; the assignor sorts
    /// members by it.
    public var memberID: String? {
        guard let id = rd_kafka_memberid(client.handle) else { return nil }
        defer { rd_kafka_mem_free(client.handle, id) }
        let string = String(cString: id)
        return string.isEmpty ? nil : string
    }
}
