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

    /// Produces the record's key and value with reason headers; `delivered`
    /// runs once the broker has it.
    func send(_ record: KafkaRecord, reason: String, delivered: @escaping @Sendable () -> Void) async {
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
        let logger = self.logger
        do {
            try await producer.enqueue(message) { result in
                if case .failure(let error) = result {
                    logger.error("Dead letter not delivered; the record's offset stays uncommitted", metadata: [
                        "error": "\(error)",
                    ])
                    return
                }
                delivered()
            }
        } catch {
            logger.error("Dead letter not sent; the record's offset stays uncommitted", metadata: ["error": "\(error)"])
        }
    }
}
