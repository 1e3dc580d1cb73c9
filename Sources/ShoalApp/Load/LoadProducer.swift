import Logging
import Shoal
import ShoalKafka

/// Writes a load generator's records to Kafka, at a steady rate or as fast
/// as the producer takes them.
struct LoadProducer {
    let brokers: [String]
    let logger: Logger

    /// Produces every record of `records`, at most `rate` a second (nil: no
    /// limit), and waits until all are delivered. `progress` is told how
    /// many were sent, about every second. Stops early, without error, when
    /// the task is cancelled. Returns how many were sent.
    @discardableResult
    func produce(
        _ records: some Sequence<LoadRecord>, rate: Int?, progress: (Int) -> Void = { _ in }
    ) async throws -> Int {
        let producer = try KafkaProducer(
            configuration: .init(client: .init(bootstrapServers: brokers, clientID: "shoal-load")), logger: logger
        )
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await producer.run() }
            defer { producer.triggerShutdown() }
            // Every topic's metadata first: a record to a topic the producer
            // has not looked up yet waits for it (up to a second), while
            // later records to known topics go out, out of order.
            _ = try await producer.awaitConnection(timeout: .seconds(10))
            let sent = try await send(records, through: producer, rate: rate, progress: progress)
            try await producer.flush(timeout: .seconds(60))
            return sent
        }
    }

    private func send(
        _ records: some Sequence<LoadRecord>, through producer: KafkaProducer, rate: Int?, progress: (Int) -> Void
    ) async throws -> Int {
        let clock = ContinuousClock()
        let start = clock.now
        var lastReport = start
        var sent = 0
        for record in records {
            if Task.isCancelled { break }
            try await producer.enqueue(KafkaProducerMessage(topic: record.topic, key: record.key, value: record.value))
            sent += 1
            if let rate, sent % max(1, rate / 1_000) == 0 {
                // Sleep off any lead over the schedule, in steps of about a millisecond.
                let due = start + .seconds(Double(sent) / Double(rate))
                if due > clock.now { try? await clock.sleep(until: due) }
            }
            if clock.now - lastReport >= .seconds(1) {
                lastReport = clock.now
                progress(sent)
            }
        }
        return sent
    }
}
