import CRdKafka

extension KafkaConsumer {
    /// librdkafka's rebalance callback, on the poll thread.
    func rebalance(
        client handle: OpaquePointer, error: rd_kafka_resp_err_t,
        list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>
    ) {
        let partitions = withFollowers(RDKafkaTopicPartitionList.partitions(of: list))
        let cooperative = client.isCooperative
        // The hooks may commit: the generation is settled while they run.
        machine.withLock { $0.rebalance.inCallback = true }
        defer { machine.withLock { $0.rebalance.inCallback = false } }
        switch error {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            assign(partitions, cooperative: cooperative)
            machine.withLock { $0.rebalance.didAssign() }
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            let lost = rd_kafka_assignment_lost(handle) != 0
            revoke(partitions, lost: lost, cooperative: cooperative)
            machine.withLock { $0.rebalance.didRevoke(cooperative: cooperative, lost: lost) }
        default:
            let wrapped = KafkaError.rdKafka(error, "rebalance failed", code: .assignment)
            logger.error("Rebalance error", metadata: ["error": "\(wrapped)"])
            emit(.error(wrapped))
            // Everything this member held is gone: the runtime hears so.
            tellLost(Array(machine.withLock { $0.assigned }).sorted())
            unassign(all: true, partitions: partitions, cooperative: false)
        }
    }

    /// `partitions` and, after each, the same partition of its followers.
    private func withFollowers(_ partitions: [TopicPartition]) -> [TopicPartition] {
        let followers = configuration.followers
        guard !followers.isEmpty else { return partitions }
        return partitions.flatMap { partition in
            [partition] + (followers[partition.topic] ?? []).map { TopicPartition($0, partition.partition) }
        }
    }

    private func assign(_ partitions: [TopicPartition], cooperative: Bool) {
        let offsets = startOffsets(for: partitions)
        let starts = partitions.map { ($0, offsets[$0] ?? Int64(RD_KAFKA_OFFSET_INVALID)) }
        let owned = RDKafkaTopicPartitionList(offsets: Dictionary(starts) { first, _ in first })
        let list = owned.pointer
        if cooperative {
            if let failure = rd_kafka_incremental_assign(client.handle, list) {
                report(KafkaError.consuming(failure, "incremental assign of \(partitions) failed"))
                return tellLost(partitions)
            }
        } else {
            let error = rd_kafka_assign(client.handle, list)
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                report(KafkaError.rdKafka(error, "assign of \(partitions) failed", code: .assignment))
                return tellLost(partitions)
            }
        }
        // Pauses do not survive librdkafka's assignment: apply them again.
        let actions = machine.withLock { state in
            let actions = state.didAssign(offsets)
            apply(actions)
            return actions
        }
        logger.info("Partitions assigned", metadata: [
            "partitions": "\(partitions.sorted())", "paused": "\(actions.pause)",
        ])
        emit(.assigned(offsets))
    }

    /// Asks the runtime where each partition starts; the rest start at the
    /// committed offset, or at the configured initial offset when none is.
    private func startOffsets(for partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        let listener = self.listener
        let chosen = BlockingCalls.wait(timeout: configuration.rebalanceHookTimeout) {
            await listener.partitionsAssigned(partitions)
        }
        if chosen == nil {
            logger.error("The assignment hook timed out; using committed offsets", metadata: [
                "partitions": "\(partitions)", "timeout": "\(configuration.rebalanceHookTimeout)",
            ])
            emit(.rebalanceHookTimedOut(partitions))
        }
        var offsets: [TopicPartition: Int64] = [:]
        var needCommitted: [TopicPartition] = []
        for partition in partitions {
            switch chosen?[partition] ?? .committed {
            case .offset(let offset): offsets[partition] = offset
            case .beginning: offsets[partition] = resolve(.beginning, of: partition)
            case .end: offsets[partition] = resolve(.end, of: partition)
            case .committed: needCommitted.append(partition)
            }
        }
        for (partition, offset) in committedOffsets(needCommitted) {
            offsets[partition] = offset
        }
        return offsets
    }

    /// The group's committed offsets; the initial-offset policy where none is.
    private func committedOffsets(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        guard !partitions.isEmpty else { return [:] }
        let list = RDKafkaTopicPartitionList(partitions)
        let error = rd_kafka_committed(client.handle, list.pointer, configuration.rebalanceHookTimeout.timeoutMilliseconds)
        if error != RD_KAFKA_RESP_ERR_NO_ERROR {
            // Without the committed offsets, librdkafka fetches them itself;
            // a missing one then surfaces as a reported reset, never silently.
            report(KafkaError.rdKafka(error, "reading committed offsets failed", code: .assignment))
            return Dictionary(uniqueKeysWithValues: partitions.map { ($0, Int64(RD_KAFKA_OFFSET_STORED)) })
        }
        var result: [TopicPartition: Int64] = [:]
        for (partition, offset, _) in list.entries {
            let initial: KafkaStartOffset = configuration.initialOffset == .earliest ? .beginning : .end
            result[partition] = offset >= 0 ? offset : resolve(initial, of: partition)
        }
        return result
    }

    /// Turns `.beginning` or `.end` into an absolute offset. librdkafka
    /// resolves logical start offsets itself, but measured here that path
    /// sometimes holds a partition's first fetch back by ~0.5 s; an absolute
    /// offset starts it at once. Falls back to the logical offset on error.
    func resolve(_ start: KafkaStartOffset, of partition: TopicPartition) -> Int64 {
        let logical = start == .beginning ? Int64(RD_KAFKA_OFFSET_BEGINNING) : Int64(RD_KAFKA_OFFSET_END)
        var low: Int64 = -1
        var high: Int64 = -1
        let error = rd_kafka_query_watermark_offsets(
            client.handle, partition.topic, partition.partition, &low, &high,
            configuration.rebalanceHookTimeout.timeoutMilliseconds
        )
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { return logical }
        return start == .beginning ? low : high
    }

    private func revoke(_ partitions: [TopicPartition], lost: Bool, cooperative: Bool) {
        // Records not yet handed out belong to the next owner now; a batch
        // the reader holds is finished before the hook runs, so the hook
        // never overlaps it and it never reaches the partition's next owner
        // in this process.
        buffer.purge(Set(partitions))
        if !buffer.waitForReader(timeout: configuration.rebalanceHookTimeout) {
            logger.warning("The reader kept its batch past the hook timeout; revoking anyway", metadata: [
                "partitions": "\(partitions)", "timeout": "\(configuration.rebalanceHookTimeout)",
            ])
        }
        let listener = self.listener
        let finished = BlockingCalls.wait(timeout: configuration.rebalanceHookTimeout) {
            if lost {
                await listener.partitionsLost(partitions)
            } else {
                await listener.partitionsRevoked(partitions)
            }
            return true
        }
        if finished == nil {
            logger.error("The revocation hook timed out; giving the partitions up anyway", metadata: [
                "partitions": "\(partitions)", "timeout": "\(configuration.rebalanceHookTimeout)",
            ])
            emit(.rebalanceHookTimedOut(partitions))
        }
        unassign(all: !cooperative, partitions: partitions, cooperative: cooperative)
        logger.info(lost ? "Partitions lost" : "Partitions revoked", metadata: ["partitions": "\(partitions.sorted())"])
        emit(lost ? .lost(partitions) : .revoked(partitions))
    }

    private func unassign(all: Bool, partitions: [TopicPartition], cooperative: Bool) {
        if cooperative {
            let list = RDKafkaTopicPartitionList(partitions)
            if let failure = rd_kafka_incremental_unassign(client.handle, list.pointer) {
                report(KafkaError.consuming(failure, "incremental unassign of \(partitions) failed"))
            }
        } else {
            rd_kafka_assign(client.handle, nil)
        }
        machine.withLock { $0.didRevoke(all ? Array($0.assigned) : partitions) }
    }

    /// Runs the lost hook for partitions this member will not consume
    /// after all (the hook that prepared them already ran).
    private func tellLost(_ partitions: [TopicPartition]) {
        guard !partitions.isEmpty else { return }
        let listener = self.listener
        let finished = BlockingCalls.wait(timeout: configuration.rebalanceHookTimeout) {
            await listener.partitionsLost(partitions)
            return true
        }
        if finished == nil { emit(.rebalanceHookTimedOut(partitions)) }
    }

    private func report(_ error: KafkaError) {
        logger.error("Rebalance step failed", metadata: ["error": "\(error)"])
        emit(.error(error))
    }
}
