import NIOCore
import Synchronization

/// Hands items from any thread to a connection's event loop in batches:
/// the first item posted while none wait schedules one task on the loop,
/// and that task takes every item posted meanwhile. One wake-up of the
/// loop then serves many calls: with one `execute` per item, waking the
/// loop (an `eventfd` write each time) was the busiest thing a node did
/// under 64 calls in flight (samples of `ShoalBenchmarks calls` in gdb).
final class LoopInbox<Item: Sendable>: Sendable {
    private let waiting = Mutex<(items: [Item], scheduled: Bool)>(([], false))
    private let loop: any EventLoop
    private let take: NIOLoopBound<([Item]) -> Void>

    /// `take` runs on `loop` with each batch, in the order posted. Made on
    /// the loop.
    init(loop: any EventLoop, take: @escaping ([Item]) -> Void) {
        self.loop = loop
        self.take = NIOLoopBound(take, eventLoop: loop)
    }

    func post(_ item: Item) {
        let schedule = waiting.withLock { waiting in
            waiting.items.append(item)
            defer { waiting.scheduled = true }
            return !waiting.scheduled
        }
        guard schedule else { return }
        loop.execute { [self] in
            let batch = waiting.withLock { waiting in
                waiting.scheduled = false
                defer { waiting.items = [] }
                return waiting.items
            }
            take.value(batch)
        }
    }
}
