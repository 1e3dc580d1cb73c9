import Logging
import ServiceLifecycle
@testable import ShoalApp
import Synchronization
import TestSupport
import Testing

@Suite("Bounded shutdown")
struct BoundedShutdownTests {
    /// A service that heeds neither graceful shutdown nor cancellation (a
    /// span exporter whose collector never answers, in the worst case).
    private struct Stubborn: Service {
        let stopped: Stopped

        func run() async throws {
            // Blocks its thread until released, whatever happens to its task.
            await withCheckedContinuation { continuation in stopped.park(continuation) }
        }
    }

    private final class Stopped: Sendable {
        private let waiter = Mutex<CheckedContinuation<Void, Never>?>(nil)
        func park(_ continuation: CheckedContinuation<Void, Never>) { waiter.withLock { $0 = continuation } }
        func release() { waiter.withLock { $0.take() }?.resume() }
    }

    /// Whether a run returned, and with what; read without awaiting the
    /// run, so that a regression fails the test instead of hanging it.
    /// The waits are long because in the whole suite's parallel run these
    /// tests took 53 s for what takes 0.1 s alone: they assert an end, not
    /// its time.
    private final class Ending: Sendable {
        private let state = Mutex<(done: Bool, cancelled: Bool)>((false, false))
        var done: Bool { state.withLock { $0.done } }
        var cancelled: Bool { state.withLock { $0.cancelled } }

        func run(_ body: @escaping @Sendable () async throws -> Void) -> Task<Void, Never> {
            Task {
                var cancelled = false
                do { try await body() } catch { cancelled = error is CancellationError }
                state.withLock { $0 = (true, cancelled) }
            }
        }
    }

    @Test func aServiceThatDoesNotStopIsLeftBehindAfterItsLimit() async throws {
        let stopped = Stopped()
        let bounded = BoundedShutdown(service: Stubborn(stopped: stopped), limit: .milliseconds(200), name: "stubborn", logger: Logger(label: "test"))
        let group = ServiceGroup(services: [bounded], logger: Logger(label: "test"))
        let ending = Ending()
        _ = ending.run { try await group.run() }
        try await Task.sleep(for: .milliseconds(100))
        await group.triggerGracefulShutdown()
        #expect(await eventually(timeout: .seconds(120)) { ending.done }, "the group ends although the service never returned")
        stopped.release()
    }

    @Test func aCancelledWrapperReturnsAtOnce() async throws {
        let stopped = Stopped()
        let bounded = BoundedShutdown(service: Stubborn(stopped: stopped), limit: .seconds(3_600), name: "stubborn", logger: Logger(label: "test"))
        let ending = Ending()
        let running = ending.run { try await bounded.run() }
        try await Task.sleep(for: .milliseconds(100))
        running.cancel()
        #expect(await eventually(timeout: .seconds(120)) { ending.done }, "cancelled, it does not wait for the service")
        #expect(ending.cancelled)
        stopped.release()
    }
}
