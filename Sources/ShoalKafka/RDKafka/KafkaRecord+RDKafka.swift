import CRdKafka

extension KafkaRecord {
    /// Copies a librdkafka message into a Swift record. Its key and value
    /// are copied into `storage` at `cursor`, which advances past them.
    init(
        message: UnsafeMutablePointer<rd_kafka_message_t>, topic: String,
        storage: [UInt8], cursor: inout Int
    ) {
        let raw = message.pointee
        var key: KafkaBytes?
        if raw.key != nil {
            key = KafkaBytes(storage: storage, range: cursor..<(cursor + raw.key_len))
            cursor += raw.key_len
        }
        var value: KafkaBytes?
        if raw.payload != nil {
            value = KafkaBytes(storage: storage, range: cursor..<(cursor + raw.len))
            cursor += raw.len
        }
        self.init(
            topic: topic, partition: raw.partition, offset: raw.offset, key: key, value: value,
            headers: Self.headers(of: message), timestamp: Self.timestamp(of: message)
        )
    }

    /// The bytes a message takes in the packed storage.
    static func packedSize(of message: UnsafeMutablePointer<rd_kafka_message_t>) -> Int {
        let raw = message.pointee
        return (raw.key == nil ? 0 : raw.key_len) + (raw.payload == nil ? 0 : raw.len)
    }

    /// Copies the keys and values of `messages` (error messages included
    /// harmlessly) into one array, in order.
    static func pack(
        _ messages: UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>, count: Int
    ) -> [UInt8] {
        var total = 0
        for index in 0..<count {
            guard let message = messages[index], message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
            total += packedSize(of: message)
        }
        return [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            var cursor = 0
            for index in 0..<count {
                guard let raw = messages[index]?.pointee, raw.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
                if let key = raw.key, raw.key_len > 0 {
                    buffer.baseAddress!.advanced(by: cursor).update(from: key.assumingMemoryBound(to: UInt8.self), count: raw.key_len)
                }
                cursor += raw.key == nil ? 0 : raw.key_len
                if let payload = raw.payload, raw.len > 0 {
                    buffer.baseAddress!.advanced(by: cursor).update(from: payload.assumingMemoryBound(to: UInt8.self), count: raw.len)
                }
                cursor += raw.payload == nil ? 0 : raw.len
            }
            initialized = total
        }
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
