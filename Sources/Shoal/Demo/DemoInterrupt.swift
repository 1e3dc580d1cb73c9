import Dispatch
import Foundation
import Synchronization

/// Ctrl-C for the demo: instead of dying, it stops producing, stops its
/// nodes gracefully and prints its summary.
final class DemoInterrupt: Sendable {
    private let interrupted = Atomic(false)
    // A dispatch source is thread-safe to hold and cancel; it is only kept
    // alive here.
    nonisolated(unsafe) private let source: any DispatchSourceSignal

    init() {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
    }

    /// Starts listening (not in `init`, so that no handler runs before the
    /// demo is ready for it).
    func listen() {
        source.setEventHandler { [weak self] in self?.interrupted.store(true, ordering: .relaxed) }
        source.resume()
    }

    var isInterrupted: Bool { interrupted.load(ordering: .relaxed) }

    /// Returns once Ctrl-C was pressed, or when the task is cancelled.
    func wait() async {
        while !isInterrupted && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    deinit { source.cancel() }
}
