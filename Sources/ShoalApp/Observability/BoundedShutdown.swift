import Logging
import ServiceLifecycle
import Synchronization

/// Runs a service that must not hold the process's exit: once its graceful
/// shutdown begins it has `limit` to return; past it, it is cancelled and
/// left behind, and `run` returns. A span exporter whose collector accepts
/// connections and never answers held a node's exit for over a minute
/// although its own timeouts were 2 s.
struct BoundedShutdown: Service {
    let service: any Service
    let limit: Duration
    let name: String
    let logger: Logger

    func run() async throws {
        let outcome = FirstOutcome()
        // Unstructured, so that `run` can return without it; both inherit
        // the task-local graceful shutdown of this service's task.
        let running = Task { [service] in
            do {
                try await service.run()
                outcome.finish(.success(()))
            } catch {
                outcome.finish(.failure(error))
            }
        }
        let deadline = Task { [limit] in
            do {
                try await gracefulShutdown()
                try await Task.sleep(for: limit)
            } catch {
                return
            }
            if outcome.finish(.success(())) {
                logger.warning("A service did not stop in time after the node's; it is left behind", metadata: [
                    "service": "\(name)", "limit": "\(limit)",
                ])
                running.cancel()
            }
        }
        defer { deadline.cancel() }
        try await withTaskCancellationHandler {
            try await outcome.value()
        } onCancel: {
            // Cancelled rather than stopped (the node failed): no waiting
            // at all for a service that may not heed it.
            running.cancel()
            outcome.finish(.failure(CancellationError()))
        }
    }
}

/// The first of several outcomes, handed to the one waiter.
final class FirstOutcome: Sendable {
    private struct State {
        var outcome: Result<Void, any Error>?
        var waiter: CheckedContinuation<Void, any Error>?
    }

    private let state = Mutex(State())

    /// Records `outcome` unless another came first; returns whether it was first.
    @discardableResult
    func finish(_ outcome: Result<Void, any Error>) -> Bool {
        let (first, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, any Error>?) in
            guard state.outcome == nil else { return (false, nil) }
            state.outcome = outcome
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume(with: outcome)
        return first
    }

    /// Waits for the first outcome.
    func value() async throws {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> Result<Void, any Error>? in
                guard let outcome = state.outcome else {
                    state.waiter = continuation
                    return nil
                }
                return outcome
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}
