import Foundation
import Metrics
import ShoalKafka

extension ShardState {
    /// Advances the partition's clock with a record's event time, as a
    /// replay does (``ReplayClocks``): the moment the record is applied at,
    /// and the reason when it is too late for the watermark.
    mutating func advanceClock(_ route: Route, _ time: EventTime?, now: EventTime) -> (moment: EntityDispatch.Moment, tooLate: String?) {
        var clock = self.clock ?? route.clock
        let (moment, tooLate) = clock.advance(time) { _ in now }
        self.clock = clock
        guard tooLate, let time else { return (moment, nil) }
        return (moment, clock.lateReason(time, watermark: moment.before.watermark))
    }
}

extension Shard {
    /// Settles a record too late for the watermark by its route's policy;
    /// the record completes once settled.
    func setAside(_ record: KafkaRecord, policy: LateEvents, reason: String) async {
        Counter(label: "shoal_late_events_total", dimensions: [("policy", policy.metricName)]).increment()
        switch policy {
        case .apply, .drop:
            complete(record.offset)
        case .deadLetter:
            await deadLetter(record, reason: reason)
        case .sideOutput(let topic):
            let side = DeadLetters(topic: topic, producer: services.producer, logger: services.logger)
            // With its own offset, not its position in a shard of several topics.
            let original = state.withLock { $0.sources?.original(record) } ?? record
            do {
                try await side.send(original, reason: reason)
                complete(record.offset)
            } catch {
                // Not lost: the dead-letter path retries until delivered.
                await deadLetter(record, reason: "\(reason); side output to \(topic) failed: \(error)")
            }
        }
    }
}

extension LateEvents {
    var metricName: String {
        switch self {
        case .apply: "apply"
        case .drop: "drop"
        case .sideOutput: "side_output"
        case .deadLetter: "dead_letter"
        }
    }
}
