@testable import Shoal
import Synchronization
import Testing

@Suite("Commit permits")
struct CommitPermitsTests {
    private final class Shard {}

    /// Waits (bounded) until `condition` holds; false if it never did.
    private func eventually(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<5_000 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return condition()
    }

    @Test func aCommitGivesItsPermitBackWhenItsFileWorkIsDoneAndOnlyOnce() async throws {
        let permits = CommitPermits(limit: 1)
        let (first, second, third) = (Shard(), Shard(), Shard())
        let (a, b, c) = (ObjectIdentifier(first), ObjectIdentifier(second), ObjectIdentifier(third))
        #expect(permits.schedule(a) && permits.schedule(b) && permits.schedule(c))
        await permits.acquire(for: a)

        let secondGranted = Mutex(false)
        let waiting = Task {
            await permits.acquire(for: b)
            secondGranted.withLock { $0 = true }
        }
        #expect(await eventually { permits.counts.waiting == 1 }, "the second commit waits for the only permit")
        #expect(!secondGranted.withLock { $0 })

        // The first commit's file work is done: it publishes on, without the permit.
        permits.release(a)
        #expect(await eventually { secondGranted.withLock { $0 } }, "the permit went to the waiting commit")
        #expect(!permits.schedule(a), "the first commit is not over: it is not scheduled again")

        // Its end gives back nothing more: the second still holds the
        // only permit, and a third commit waiting for one goes on waiting.
        let thirdGranted = Mutex(false)
        let later = Task {
            await permits.acquire(for: c)
            thirdGranted.withLock { $0 = true }
        }
        #expect(await eventually { permits.counts.waiting == 1 })
        permits.end(a)
        #expect(permits.counts == (holding: 1, waiting: 1), "the permit was not given back twice")
        #expect(!thirdGranted.withLock { $0 })
        #expect(permits.schedule(a), "once over, the first shard's commit may be scheduled again")

        permits.end(b)
        #expect(await eventually { thirdGranted.withLock { $0 } })
        permits.end(c)
        #expect(permits.counts == (holding: 0, waiting: 0))
        withExtendedLifetime((first, second, third, waiting, later)) {}
    }
}
