import Dispatch

/// Runs blocking librdkafka calls (commit, flush, metadata, committed
/// offsets) on threads of their own, so that they never hold a thread of
/// Swift's cooperative pool.
enum BlockingCalls {
    private static let queue = DispatchQueue(
        label: "shoal.kafka.blocking", qos: .utility, attributes: .concurrent
    )

    static func run<Result: Sendable>(
        _ body: @escaping @Sendable () throws(KafkaError) -> Result
    ) async throws(KafkaError) -> Result {
        let outcome: Swift.Result<Result, KafkaError> = await withCheckedContinuation { continuation in
            queue.async {
                do throws(KafkaError) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try outcome.get()
    }

    /// Waits on the current (non-cooperative) thread for an async operation,
    /// at most `timeout`. Used by the poll thread to run the runtime's
    /// rebalance hooks, which are async, from inside librdkafka's callback.
    static func wait<Result: Sendable>(
        timeout: Duration,
        _ operation: @escaping @Sendable () async -> Result
    ) -> Result? {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<Result>()
        Task {
            box.value = await operation()
            done.signal()
        }
        let deadline = DispatchTime.now() + .milliseconds(Int(timeout.milliseconds))
        guard done.wait(timeout: deadline) == .success else { return nil }
        return box.value
    }
}

import Synchronization

private final class ResultBox<Value: Sendable>: Sendable {
    private let storage = Mutex<Value?>(nil)
    var value: Value? {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}
