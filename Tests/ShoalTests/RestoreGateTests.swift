@testable import Shoal
import Synchronization
import Testing

/// State shared with the tasks under test.
private final class Shared<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
}

@Suite("Restore gate")
struct RestoreGateTests {
    @Test func noMoreThanItsWidthRunAtOnce() async throws {
        let gate = RestoreGate(width: 2)
        let running = Shared((now: 0, most: 0))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    try await gate.run {
                        running.value.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
                        try await Task.sleep(for: .milliseconds(20))
                        running.value.withLock { $0.now -= 1 }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(running.value.withLock { $0.most } == 2)
    }

    @Test func aCancelledWaitNeverRunsAndFreesNothing() async throws {
        let gate = RestoreGate(width: 1)
        let ran = Shared(false)
        let holder = Task { try await gate.run { try await Task.sleep(for: .seconds(60)) } }
        try await Task.sleep(for: .milliseconds(50))
        let waiter = Task { try await gate.run { ran.value.withLock { $0 = true } } }
        try await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(!ran.value.withLock { $0 })
        holder.cancel()
        _ = try? await holder.value
        // The place the holder left is free again.
        try await gate.run {}
    }
}
