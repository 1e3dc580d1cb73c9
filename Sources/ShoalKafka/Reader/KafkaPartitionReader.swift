import CRdKafka
import Foundation
import Logging
import Synchronization

/// Reads one partition at a time from a chosen offset up to an end offset,
/// outside any consumer group: nothing is committed and no group is joined.
/// For restoring state from a changelog topic and for tailing one.
///
/// Reading is blocking work and runs on a thread of its own; the records
/// reach `body` in offset order, in batches, on that thread.
public final class KafkaPartitionReader: Sendable {
    let client: RDKafkaClient
    let logger: Logger
    private let busy = Mutex(false)

    /// Creates the reader's client handle; it connects on first use.
    public init(client configuration: KafkaClientConfiguration, logger: Logger) throws(KafkaError) {
        self.logger = logger
        // A group id is required by librdkafka's assign; it is never joined
        // (no subscribe) and never committed to.
        let properties = configuration.properties + [
            ("group.id", "shoal-reader-\(UUID().uuidString)"),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("auto.offset.reset", "error"),
            ("enable.partition.eof", "false"),
            // Deep prefetch: consuming is several times faster with it.
            ("queued.min.messages", "1000000"),
            ("fetch.wait.max.ms", "10"),
        ]
        let config = try RDKafkaConfig(properties: properties, raw: configuration.rawProperties)
        client = try RDKafkaClient(kind: .consumer, config: config, context: RDKafkaContext(logger: logger))
        rd_kafka_poll_set_consumer(client.handle)
    }

    /// The partition's oldest retained offset and its end (the offset the
    /// next record will get), asked of the broker.
    public func watermarks(of partition: TopicPartition, timeout: Duration = .seconds(10)) async throws(KafkaError) -> (low: Int64, high: Int64) {
        let client = self.client
        return try await BlockingCalls.run { () throws(KafkaError) in
            var low: Int64 = -1
            var high: Int64 = -1
            let error = rd_kafka_query_watermark_offsets(
                client.handle, partition.topic, partition.partition, &low, &high, timeout.timeoutMilliseconds
            )
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError.rdKafka(error, "reading the offsets of \(partition) failed", code: .broker)
            }
            return (low, high)
        }
    }

    /// The cluster's topics and their partition counts.
    public func metadata(timeout: Duration = .seconds(10)) async throws(KafkaError) -> ClusterMetadata {
        let client = self.client
        return try await BlockingCalls.run { () throws(KafkaError) in try client.metadata(timeout: timeout) }
    }

    /// Reads `partition` from `start` until every record before `end` was
    /// handed to `body`, which runs on the reading thread and may throw to
    /// stop. Stops with a `timedOut` error when no record arrives for
    /// `idleTimeout`, with `offsetOutOfRange` when `start` fell off the log,
    /// and with a `shutDown` error when the calling task is cancelled.
    /// One read at a time per reader.
    public func read(
        _ partition: TopicPartition, from start: Int64, until end: Int64, idleTimeout: Duration = .seconds(30),
        _ body: @escaping @Sendable ([KafkaRecord]) throws -> Void
    ) async throws {
        guard start < end else { return }
        guard !busy.withLock({ busy in defer { busy = true }; return busy }) else {
            throw KafkaError(code: .invalidConfiguration, reason: "a KafkaPartitionReader reads one partition at a time")
        }
        defer { busy.withLock { $0 = false } }
        let job = ReadJob(client: client, partition: partition, start: start, end: end, idleTimeout: idleTimeout, body: body)
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let thread = Thread {
                    do {
                        try job.run()
                        continuation.resume()
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
                thread.name = "shoal-kafka-reader"
                thread.start()
            }
        } onCancel: {
            job.cancelled.store(true, ordering: .relaxed)
        }
    }
}

/// One read of a partition range, on the reading thread.
private final class ReadJob: Sendable {
    let client: RDKafkaClient
    let partition: TopicPartition
    let start: Int64
    let end: Int64
    let idleTimeout: Duration
    let cancelled = Atomic<Bool>(false)
    let body: @Sendable ([KafkaRecord]) throws -> Void

    init(
        client: RDKafkaClient, partition: TopicPartition, start: Int64, end: Int64, idleTimeout: Duration,
        body: @escaping @Sendable ([KafkaRecord]) throws -> Void
    ) {
        self.client = client
        self.partition = partition
        self.start = start
        self.end = end
        self.idleTimeout = idleTimeout
        self.body = body
    }

    func run() throws {
        let handle = client.handle
        let list = RDKafkaTopicPartitionList(offsets: [partition: start])
        let assigned = rd_kafka_assign(handle, list.pointer)
        guard assigned == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError.rdKafka(assigned, "assigning \(partition) to the reader failed", code: .assignment)
        }
        defer { rd_kafka_assign(handle, nil) }
        guard let queue = rd_kafka_queue_get_consumer(handle) else {
            throw KafkaError(code: .underlying, reason: "the reader has no consumer queue")
        }
        defer { rd_kafka_queue_destroy(queue) }
        let capacity = 4_096
        let messages = UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>.allocate(capacity: capacity)
        defer { messages.deallocate() }
        var next = start
        var lastProgress = ContinuousClock.now
        while next < end {
            if cancelled.load(ordering: .relaxed) {
                throw KafkaError(code: .shutDown, reason: "reading \(partition) was cancelled at offset \(next)")
            }
            // librdkafka waits for a full batch or the timeout: asking for no
            // more than the records left ends the read as soon as the last
            // one arrives, not 100 ms later (restore benchmark: a 512-record
            // scan took 0.10-0.17 s before).
            let wanted = Int(min(Int64(capacity), max(1, end - next)))
            let count = rd_kafka_consume_batch_queue(queue, 100, messages, wanted)
            guard count > 0 else {
                // A compacted log can lack the records just before `end`.
                if position() >= end { return }
                if ContinuousClock.now - lastProgress > idleTimeout {
                    throw KafkaError(code: .timedOut, reason: "no record of \(partition) arrived for \(idleTimeout) at offset \(next) (end \(end))")
                }
                continue
            }
            lastProgress = .now
            next = try deliver(messages, count: Int(count), next: next)
        }
    }

    /// The next offset librdkafka will hand out for the partition.
    private func position() -> Int64 {
        let list = RDKafkaTopicPartitionList([partition])
        guard rd_kafka_position(client.handle, list.pointer) == RD_KAFKA_RESP_ERR_NO_ERROR else { return -1 }
        return list.entries.first?.1 ?? -1
    }

    /// Hands the batch's records before `end` to `body`; returns the next offset.
    private func deliver(
        _ messages: UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>, count: Int, next: Int64
    ) throws -> Int64 {
        defer { for index in 0..<count { messages[index].map { rd_kafka_message_destroy($0) } } }
        var records: [KafkaRecord] = []
        records.reserveCapacity(count)
        let storage = KafkaRecord.pack(messages, count: count)
        var cursor = 0
        var position = next
        for index in 0..<count {
            guard let message = messages[index] else { continue }
            let error = message.pointee.err
            if error == RD_KAFKA_RESP_ERR__PARTITION_EOF { continue }
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                let code: KafkaError.Code = error == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET || error == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE
                    ? .offsetOutOfRange : .broker
                let text = rd_kafka_message_errstr(message).map { String(cString: $0) } ?? ""
                throw KafkaError.rdKafka(error, "reading \(partition) at \(position) failed: \(text)", code: code)
            }
            let offset = message.pointee.offset
            guard offset < end else {
                cursor += KafkaRecord.packedSize(of: message)
                position = end
                continue
            }
            records.append(KafkaRecord(message: message, topic: partition.topic, storage: storage, cursor: &cursor))
            position = offset + 1
        }
        if !records.isEmpty { try body(records) }
        return position
    }
}
