import Synchronization

/// Meets a delivery result, which arrives on the poll thread, with the task
/// that awaits it, in whichever order they come.
final class DeliveryWaiter: Sendable {
    private enum State {
        case waiting
        case suspended(CheckedContinuation<Result<KafkaDeliveryReport, KafkaError>, Never>)
        case delivered(Result<KafkaDeliveryReport, KafkaError>)
    }

    private let state = Mutex(State.waiting)

    func deliver(_ result: Result<KafkaDeliveryReport, KafkaError>) {
        let continuation = state.withLock { state -> CheckedContinuation<Result<KafkaDeliveryReport, KafkaError>, Never>? in
            if case .suspended(let continuation) = state {
                state = .delivered(result)
                return continuation
            }
            state = .delivered(result)
            return nil
        }
        continuation?.resume(returning: result)
    }

    func result() async throws(KafkaError) -> KafkaDeliveryReport {
        let outcome = await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Result<KafkaDeliveryReport, KafkaError>? in
                if case .delivered(let result) = state { return result }
                state = .suspended(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
        return try outcome.get()
    }
}
