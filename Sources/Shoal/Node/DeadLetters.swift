import Logging
import Metrics
import ShoalKafka

/// Sends records that cannot be decoded or handled to the dead-letter topic,
/// with headers naming the reason and the source, so a partition never stalls
/// on a poison record.
struct DeadLetters: Sendable {
    let topic: String
    let producer: KafkaProducer
    let logger: Logger
    let counter = Counter(label: "shoal_dead_letters_total")

    /// Produces the record's key and value with reason headers and waits
    /// for the broker to have it.
    /// - Throws: ``KafkaError`` when it is not delivered.
    func send(_ record: KafkaRecord, reason: String) async throws(KafkaError) {
        counter.increment()
        logger.warning("Dead-lettering a record", metadata: [
            "topic": "\(record.topic)", "partition": "\(record.partition)", "offset": "\(record.offset)",
            "reason": "\(reason)",
        ])
        let message = KafkaProducerMessage(
            topic: topic, key: record.key?.array, value: record.value?.array,
            headers: record.headers + [
                KafkaHeader(key: "shoal-dlq-reason", string: reason),
                KafkaHeader(key: "shoal-dlq-topic", string: record.topic),
                KafkaHeader(key: "shoal-dlq-partition", string: "\(record.partition)"),
                KafkaHeader(key: "shoal-dlq-offset", string: "\(record.offset)"),
            ]
        )
        try await producer.send(message)
    }
}
