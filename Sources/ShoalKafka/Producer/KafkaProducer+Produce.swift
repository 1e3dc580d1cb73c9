import CRdKafka

extension KafkaProducer {
    /// Hands one record to librdkafka (copying its bytes). Returns the error
    /// librdkafka raised, if any; `opaque` is then still the caller's.
    func produce(_ message: KafkaProducerMessage, opaque: UnsafeMutableRawPointer?) -> KafkaError? {
        let headers = message.headers.isEmpty ? nil : Self.makeHeaders(message.headers)
        let error: OpaquePointer? = message.topic.withCString { topic in
            withBytes(message.key) { key, keyCount in
                withBytes(message.value) { value, valueCount in
                    var values: [rd_kafka_vu_t] = [
                        .init(vtype: RD_KAFKA_VTYPE_TOPIC, u: .init(cstr: topic)),
                        .init(vtype: RD_KAFKA_VTYPE_PARTITION, u: .init(i32: message.partition ?? RD_KAFKA_PARTITION_UA)),
                        .init(vtype: RD_KAFKA_VTYPE_MSGFLAGS, u: .init(i: RD_KAFKA_MSG_F_COPY)),
                        .init(vtype: RD_KAFKA_VTYPE_KEY, u: .init(mem: .init(ptr: key, size: keyCount))),
                        .init(vtype: RD_KAFKA_VTYPE_VALUE, u: .init(mem: .init(ptr: value, size: valueCount))),
                        .init(vtype: RD_KAFKA_VTYPE_OPAQUE, u: .init(ptr: opaque)),
                    ]
                    if let timestamp = message.timestamp {
                        values.append(.init(vtype: RD_KAFKA_VTYPE_TIMESTAMP, u: .init(i64: timestamp)))
                    }
                    if let headers {
                        values.append(.init(vtype: RD_KAFKA_VTYPE_HEADERS, u: .init(headers: headers)))
                    }
                    return rd_kafka_produceva(client.handle, values, values.count)
                }
            }
        }
        guard let error else { return nil }
        // On failure the headers were not taken over.
        if let headers { rd_kafka_headers_destroy(headers) }
        return KafkaError.consuming(error, "produce to \(message.topic) failed")
    }

    private static func makeHeaders(_ headers: [KafkaHeader]) -> OpaquePointer {
        let list = rd_kafka_headers_new(headers.count)!
        for header in headers {
            if let value = header.value {
                value.withUnsafeBytes { bytes in
                    _ = rd_kafka_header_add(list, header.key, -1, bytes.baseAddress, bytes.count)
                }
            } else {
                _ = rd_kafka_header_add(list, header.key, -1, nil, 0)
            }
        }
        return list
    }
}

private func withBytes<Result>(
    _ bytes: [UInt8]?, _ body: (UnsafeMutableRawPointer?, Int) -> Result
) -> Result {
    guard let bytes else { return body(nil, 0) }
    return bytes.withUnsafeBytes { buffer in
        body(UnsafeMutableRawPointer(mutating: buffer.baseAddress), buffer.count)
    }
}

/// A pending delivery result, passed to librdkafka as the message's opaque.
final class DeliveryContinuation: Sendable {
    let callback: @Sendable (Result<KafkaDeliveryReport, KafkaError>) -> Void

    init(_ callback: @escaping @Sendable (Result<KafkaDeliveryReport, KafkaError>) -> Void) {
        self.callback = callback
    }

    /// Called from librdkafka's delivery callback on the producer's poll thread.
    static func complete(_ message: UnsafePointer<rd_kafka_message_t>) {
        guard let opaque = message.pointee._private else { return }
        let continuation = Unmanaged<DeliveryContinuation>.fromOpaque(opaque).takeRetainedValue()
        let raw = message.pointee
        let topic = raw.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
        guard raw.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            let error = KafkaError.rdKafka(raw.err, "delivery to \(topic) failed", code: .delivery)
            continuation.callback(.failure(error))
            return
        }
        continuation.callback(.success(KafkaDeliveryReport(topic: topic, partition: raw.partition, offset: raw.offset)))
    }
}
