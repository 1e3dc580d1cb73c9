import CConsumeBaseline
import Foundation
import ShoalKafka

/// The plain C librdkafka consume loop the Swift figures are measured against.
enum CBaseline {
    /// Seconds from the first of `records` records of `topic` to the last,
    /// read by the C poll loop (or its batch variant). The loop blocks, so it
    /// runs on a thread of its own.
    static func consume(bootstrap: String, topic: String, group: String, records: Int, batch: Bool = false) async -> Double {
        await withCheckedContinuation { continuation in
            Thread {
                var checksum = 0
                let seconds = shoal_baseline_consume(
                    bootstrap, topic, group, records, KafkaConsumerConfiguration.Fetch().queuedMinMessages, batch ? 1 : 0, &checksum
                )
                continuation.resume(returning: seconds)
            }.start()
        }
    }

    /// The poll loop's seconds, and the key and value bytes it read.
    static func consumeCounting(bootstrap: String, topic: String, group: String, records: Int) async -> (seconds: Double, bytes: Int) {
        await withCheckedContinuation { continuation in
            Thread {
                var bytes = 0
                let seconds = shoal_baseline_consume(
                    bootstrap, topic, group, records, KafkaConsumerConfiguration.Fetch().queuedMinMessages, 0, &bytes
                )
                continuation.resume(returning: (seconds, bytes))
            }.start()
        }
    }
}

extension CBaseline {
    /// Seconds from the first record of `source` read by the C pipe to the
    /// last of its copies in `destination` acknowledged by the broker, or a
    /// negative value on error.
    static func pipe(bootstrap: String, from source: String, to destination: String, group: String, records: Int) async -> Double {
        await withCheckedContinuation { continuation in
            Thread {
                var delivered = 0
                let seconds = shoal_baseline_pipe(
                    bootstrap, source, destination, group, records, KafkaConsumerConfiguration.Fetch().queuedMinMessages, &delivered
                )
                continuation.resume(returning: seconds)
            }.start()
        }
    }
}

extension CBaseline {
    /// The C pipe taking each record as it arrives, until `records` of
    /// `source` went to `destination`: a node's latency baseline. Seconds
    /// from its first record to its last delivery, negative on error.
    static func latencyPipe(bootstrap: String, from source: String, to destination: String, group: String, records: Int, fetchWaitMs: Int) async -> Double {
        await withCheckedContinuation { continuation in
            Thread {
                var delivered = 0
                let seconds = shoal_baseline_latency_pipe(
                    bootstrap, source, destination, group, records, KafkaConsumerConfiguration.Fetch().queuedMinMessages, fetchWaitMs, &delivered
                )
                continuation.resume(returning: seconds)
            }.start()
        }
    }
}
