import CRdKafka

extension KafkaRecord {
    /// Copies a librdkafka message into a Swift record. `topicNames` caches
    /// topic names per topic handle, so a batch decodes each name once.
    init(message: UnsafeMutablePointer<rd_kafka_message_t>, topicNames: inout [OpaquePointer: String]) {
        let raw = message.pointee
        let topic: String
        if let handle = raw.rkt {
            if let cached = topicNames[handle] {
                topic = cached
            } else {
                topic = String(cString: rd_kafka_topic_name(handle))
                topicNames[handle] = topic
            }
        } else {
            topic = ""
        }
        self.init(
            topic: topic,
            partition: raw.partition,
            offset: raw.offset,
            key: raw.key.map { Array(UnsafeRawBufferPointer(start: $0, count: raw.key_len)) },
            value: raw.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: raw.len)) },
            headers: Self.headers(of: message),
            timestamp: Self.timestamp(of: message)
        )
    }

    private static func timestamp(of message: UnsafeMutablePointer<rd_kafka_message_t>) -> KafkaTimestamp? {
        var kind = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let milliseconds = rd_kafka_message_timestamp(message, &kind)
        switch kind {
        case RD_KAFKA_TIMESTAMP_CREATE_TIME: return KafkaTimestamp(milliseconds: milliseconds, kind: .createTime)
        case RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME: return KafkaTimestamp(milliseconds: milliseconds, kind: .logAppendTime)
        default: return nil
        }
    }

    private static func headers(of message: UnsafeMutablePointer<rd_kafka_message_t>) -> [KafkaHeader] {
        var headers: OpaquePointer?
        guard rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR, let headers else {
            return []
        }
        var result: [KafkaHeader] = []
        var index = 0
        while true {
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            guard rd_kafka_header_get_all(headers, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR,
                  let name else { break }
            let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
            result.append(KafkaHeader(key: String(cString: name), value: bytes))
            index += 1
        }
        return result
    }
}
