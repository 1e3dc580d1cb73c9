import CRdKafka

/// Builds a `rd_kafka_conf_t` from typed properties. The handle is owned
/// here until `rd_kafka_new` takes it over (``takeHandle()``), and destroyed
/// in `deinit` otherwise.
final class RDKafkaConfig {
    private var handle: OpaquePointer?

    init(properties: [(String, String)], raw: [String: String]) throws(KafkaError) {
        handle = rd_kafka_conf_new()
        for (name, value) in properties {
            try set(name, value)
        }
        // The escape hatch comes last so it can override a typed setting.
        for (name, value) in raw.sorted(by: { $0.key < $1.key }) {
            try set(name, value)
        }
    }

    deinit {
        if let handle { rd_kafka_conf_destroy(handle) }
    }

    /// Sets one property; a rejected value is an error naming the property.
    func set(_ name: String, _ value: String) throws(KafkaError) {
        guard let handle else { preconditionFailure("configuration already handed over") }
        var reason = [CChar](repeating: 0, count: 512)
        let result = rd_kafka_conf_set(handle, name, value, &reason, reason.count)
        guard result == RD_KAFKA_CONF_OK else {
            let text = String(errorBuffer: reason)
            throw KafkaError(
                code: .invalidConfiguration,
                reason: "invalid Kafka configuration property \"\(name)\" = \"\(value)\": \(text)"
            )
        }
    }

    /// The raw handle, for setting callbacks before the client is created.
    var unsafeHandle: OpaquePointer {
        guard let handle else { preconditionFailure("configuration already handed over") }
        return handle
    }

    /// Hands the handle over to librdkafka, which destroys it from then on.
    func takeHandle() -> OpaquePointer {
        let taken = unsafeHandle
        handle = nil
        return taken
    }
}

extension String {
    /// Decodes a NUL-terminated C error buffer.
    init(errorBuffer: [CChar]) {
        let bytes = errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        self.init(decoding: bytes, as: UTF8.self)
    }
}
