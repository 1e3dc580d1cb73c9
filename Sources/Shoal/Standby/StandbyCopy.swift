import ShoalKafka
import Synchronization

/// A warm copy of one partition number: the files of each input topic's
/// partition of that number, followed from the changelog. Released (its
/// catch-up cancelled and waited for, its files closed) when the node is
/// assigned the partition or no longer keeps it.
final class StandbyCopy: Sendable {
    let partition: Int32
    /// The copy's files, by input topic.
    let stores: [String: PartitionStore]
    private let state = Mutex<(released: Bool, task: Task<Void, Never>?)>((false, nil))

    init(partition: Int32, stores: [String: PartitionStore]) {
        self.partition = partition
        self.stores = stores
    }

    /// Runs `body` and waits for it, unless the copy was released.
    func run(_ body: @escaping @Sendable () async -> Void) async {
        let task: Task<Void, Never>? = state.withLock { state in
            guard !state.released else { return nil }
            let task = Task { await body() }
            state.task = task
            return task
        }
        await task?.value
    }

    /// Stops the running catch-up, waits for it, and closes the files.
    func release() async {
        let task = state.withLock { state in
            state.released = true
            return state.task
        }
        task?.cancel()
        await task?.value
        for store in stores.values { store.close() }
    }
}
