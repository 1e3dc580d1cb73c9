import CRdKafka
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// An idempotent Kafka producer with the Java client's key partitioning.
///
/// Run it as a `Service` (``run()``): its poll thread serves delivery
/// results. On graceful shutdown it flushes what is queued, then returns.
/// Sending before `run()` starts is allowed; delivery results wait for it.
public final class KafkaProducer: Service, Sendable {
    let configuration: KafkaProducerConfiguration
    let logger: Logger
    let client: RDKafkaClient
    private let stopping = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)

    /// Creates the producer. No thread starts until ``run()``.
    /// - Throws: ``KafkaError`` with code `invalidConfiguration` naming the property.
    public init(configuration: KafkaProducerConfiguration, logger: Logger) throws(KafkaError) {
        self.configuration = configuration
        self.logger = logger
        let context = RDKafkaContext(logger: logger, onDelivery: { message in
            DeliveryContinuation.complete(message)
        })
        let config = try RDKafkaConfig(properties: configuration.properties, raw: configuration.client.rawProperties)
        client = try RDKafkaClient(kind: .producer, config: config, context: context)
    }

    /// Serves delivery results until graceful shutdown or cancellation, then
    /// flushes queued records (bounded by the delivery timeout).
    public func run() async throws {
        guard !started.exchange(true, ordering: .relaxed) else {
            throw KafkaError(code: .shutDown, reason: "a KafkaProducer runs once")
        }
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await runPollThread()
            } onGracefulShutdown: {
                self.triggerShutdown()
            }
        } onCancel: {
            self.triggerShutdown()
        }
    }

    /// Serves delivery results until ``triggerShutdown()`` only, ignoring
    /// graceful shutdown: for an owner that must keep producing while it
    /// winds down (a node draining its partitions), then stops it itself.
    public func runUntilTriggered() async throws {
        guard !started.exchange(true, ordering: .relaxed) else {
            throw KafkaError(code: .shutDown, reason: "a KafkaProducer runs once")
        }
        await runPollThread()
    }

    /// Asks ``run()`` to flush and return.
    public func triggerShutdown() {
        stopping.store(true, ordering: .relaxed)
    }

    /// Sends a record and waits for its delivery.
    @discardableResult
    public func send(_ message: KafkaProducerMessage) async throws(KafkaError) -> KafkaDeliveryReport {
        let waiter = DeliveryWaiter()
        try await enqueue(message) { waiter.deliver($0) }
        return try await waiter.result()
    }

    /// Queues a record without waiting for delivery. When the local queue is
    /// full the caller suspends until there is room (never drops).
    /// `onDelivery` runs on the producer's poll thread; keep it short.
    public func enqueue(
        _ message: KafkaProducerMessage,
        onDelivery: (@Sendable (Result<KafkaDeliveryReport, KafkaError>) -> Void)? = nil
    ) async throws(KafkaError) {
        let opaque = onDelivery.map { Unmanaged.passRetained(DeliveryContinuation($0)).toOpaque() }
        while true {
            guard let failure = produce(message, opaque: opaque) else { return }
            if failure.code == .queueFull, !stopping.load(ordering: .relaxed) {
                try? await Task.sleep(for: .milliseconds(1))
                continue
            }
            if let opaque { Unmanaged<DeliveryContinuation>.fromOpaque(opaque).release() }
            throw failure
        }
    }

    /// Waits until every queued record is delivered or failed, at most `timeout`.
    public func flush(timeout: Duration) async throws(KafkaError) {
        let client = self.client
        try await BlockingCalls.run { () throws(KafkaError) in
            let error = rd_kafka_flush(client.handle, timeout.timeoutMilliseconds)
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError.rdKafka(error, "flush did not finish within \(timeout)")
            }
        }
    }

    /// Waits until a broker answers, at most `timeout`; returns the cluster's metadata.
    public func awaitConnection(timeout: Duration) async throws(KafkaError) -> ClusterMetadata {
        let client = self.client
        return try await BlockingCalls.run { () throws(KafkaError) in try client.metadata(timeout: timeout) }
    }

    private func runPollThread() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let thread = Thread { [self] in
                while !stopping.load(ordering: .relaxed) {
                    rd_kafka_poll(client.handle, 100)
                }
                let error = rd_kafka_flush(client.handle, configuration.deliveryTimeout.timeoutMilliseconds)
                if error != RD_KAFKA_RESP_ERR_NO_ERROR {
                    logger.error("Records were still queued at shutdown", metadata: [
                        "queued": "\(rd_kafka_outq_len(client.handle))",
                    ])
                }
                rd_kafka_poll(client.handle, 0)
                continuation.resume()
            }
            thread.name = "shoal-kafka-producer"
            thread.start()
        }
    }
}
