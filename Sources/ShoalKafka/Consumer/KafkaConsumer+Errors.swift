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
            seek(partition, to: Int64(RD_KAFKA_OFFSET_BEGINNING))
        case .resetToLatest:
            seek(partition, to: Int64(RD_KAFKA_OFFSET_END))
        case .pause:
            pause([partition])
        }
    }

    /// Moves the fetch position of an assigned partition.
    func seek(_ partition: TopicPartition, to offset: Int64) {
        let list = RDKafkaTopicPartitionList(offsets: [partition: offset])
        if let error = rd_kafka_seek_partitions(client.handle, list.pointer, 0) {
            let wrapped = KafkaError.consuming(error, "seek of \(partition) to \(offset) failed")
            logger.error("Seek failed", metadata: ["error": "\(wrapped)"])
            emit(.error(wrapped))
        }
    }
}
