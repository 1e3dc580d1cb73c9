import Shoal
import Dispatch
import Foundation
import Synchronization

/// Ctrl-C (or SIGTERM, or the terminal closing) for the demo: instead of
/// dying and leaving its nodes behind, it stops producing, stops its nodes
/// gracefully and prints its summary. A second signal ends it at once.
final class DemoInterrupt: Sendable {
    private static let signals = [SIGINT, SIGTERM, SIGHUP]
    private let interrupted = Atomic(false)
    // Dispatch sources are thread-safe to hold and cancel; they are only
    // kept alive here.
    nonisolated(unsafe) private let sources: [any DispatchSourceSignal]

    init() {
        for number in Self.signals { signal(number, SIG_IGN) }
        sources = Self.signals.map { DispatchSource.makeSignalSource(signal: $0, queue: .global()) }
    }

    /// Starts listening (not in `init`, so that no handler runs before the
    /// demo is ready for it).
    func listen() {
        for source in sources {
            source.setEventHandler { [weak self] in
                guard let self else { return }
                if self.interrupted.exchange(true, ordering: .relaxed) { exit(130) }
            }
            source.resume()
        }
    }

    var isInterrupted: Bool { interrupted.load(ordering: .relaxed) }

    /// Returns once Ctrl-C was pressed, or when the task is cancelled.
    func wait() async {
        while !isInterrupted && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    deinit { for source in sources { source.cancel() } }
}
