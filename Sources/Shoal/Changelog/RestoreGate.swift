/// Bounds how many partitions restore at once. Each restore reads its own
/// changelog partition and writes its own file; dozens at once on a few
/// cores spend their time switching threads and contending for locks, so
/// the last partition is ready later than when they take turns.
actor RestoreGate {
    private var available: Int
    private var waiters: [(id: Int, continuation: CheckedContinuation<Void, any Error>)] = []
    private var nextID = 0

    init(width: Int) {
        available = max(1, width)
    }

    /// Runs `body` once a place is free; a cancelled wait throws
    /// `CancellationError` without running it.
    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await enter()
        defer { leave() }
        // Cancelled just as a place came free: the place is given back.
        try Task.checkCancellation()
        return try await body()
    }

    private func enter() async throws {
        try Task.checkCancellation()
        if available > 0 {
            available -= 1
            return
        }
        let id = nextID
        nextID += 1
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                waiters.append((id, continuation))
            }
        } onCancel: {
            Task { await self.cancel(id) }
        }
    }

    private func cancel(_ id: Int) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(throwing: CancellationError())
    }

    private func leave() {
        if waiters.isEmpty {
            available += 1
        } else {
            waiters.removeFirst().continuation.resume()
        }
    }
}
