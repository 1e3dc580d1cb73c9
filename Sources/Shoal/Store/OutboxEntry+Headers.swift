import ShoalKafka

extension OutboxEntry {
    /// Headers as the outbox keeps them (besides the output's id, which
    /// is derived): a count, then each name and optional value, in the
    /// changelog's length-prefixed fields. Nil for none.
    package static func encode(headers: [KafkaHeader]) -> [UInt8]? {
        ChangelogWriter.list(headers) { writer, header in
            writer.string(header.key)
            writer.optionalData(header.value)
        }
    }

    /// The stored headers; nil when the bytes do not decode.
    package var decodedHeaders: [KafkaHeader]? {
        ChangelogReader.list(headers) { reader throws(ChangelogReader.Truncated) in
            KafkaHeader(key: try reader.string(), value: try reader.optionalData())
        }
    }
}
