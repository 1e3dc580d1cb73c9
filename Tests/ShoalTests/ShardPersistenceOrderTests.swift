import Foundation
@testable import Shoal
import ShoalKafka
import Synchronization
import Testing
import TestSupport

/// Commits that overlap (the commit loop and a hand-off, say) publish
/// their outputs in commit order, with the changelog on.
@Suite("Shard persistence order")
struct ShardPersistenceOrderTests {
    @Test(.timeLimit(.minutes(1)))
    func overlappingCommitsPublishInCommitOrder() async throws {
        let broker = try EmbeddedBroker(
            topics: [.init(name: "out", partitions: 1), .init(name: "g-state", partitions: 1)], logger: testLogger
        )
        let client = KafkaClientConfiguration(bootstrapServers: [broker.bootstrapServers])
        let producer = try KafkaProducer(configuration: .init(client: client), logger: testLogger)
        let partition = TopicPartition("in", 0)
        let store = try PartitionStore(path: try temporaryDirectory().appendingPathComponent("in-0.sqlite").path)
        let persistence = ShardPersistence(
            store: store, partition: partition, producer: producer, logger: testLogger, committedNext: nil,
            replicator: ChangelogReplicator(
                target: ChangelogTarget(topic: "g-state", group: "g", imageThreshold: nil), partition: partition, writer: 1
            )
        )
        let commits = 40
        let taken = TakenOffsets()
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await producer.run() }
            await withTaskGroup(of: Void.self) { checkpoints in
                for _ in 0..<commits {
                    checkpoints.addTask {
                        _ = await persistence.checkpoint(
                            take: {
                                // Commit order is the order of taking.
                                let offset = taken.next()
                                let outputs = outputs(of: offset)
                                var pending = PendingCheckpoint()
                                pending.outputs = outputs
                                return (pending, offset + 1)
                            },
                            restore: { _ in Issue.record("no commit fails here") }
                        )
                    }
                }
            }
            await persistence.finish(timeout: .seconds(10))
            producer.triggerShutdown()
        }
        let expected = (0..<Int64(commits)).flatMap { outputs(of: $0) }.map { "\($0.sourceOffset)/\($0.position)" }
        let published = try await readTopic(broker, "out", count: expected.count, timeout: .seconds(30))
        let values = published.compactMap { $0.value.map { String(decoding: $0.array, as: UTF8.self) } }
        #expect(values.count == expected.count)
        let firstOutOfOrder = values.indices.first { $0 >= expected.count || values[$0] != expected[$0] }
        #expect(firstOutOfOrder == nil, "outputs leave in the order their commits took them: \(values.prefix(8))…")
    }

    /// The node's commit permit: taken when the commit's turn in the file
    /// comes (not while it waits behind another turn of its shard), and
    /// given back once the file is written, before the outputs go out.
    @Test(.timeLimit(.minutes(1)))
    func aCommitTakesItsPermitInItsTurnAndGivesItBackBeforePublishing() async throws {
        let broker = try EmbeddedBroker(topics: [.init(name: "out", partitions: 1)], logger: testLogger)
        let producer = try KafkaProducer(
            configuration: .init(client: KafkaClientConfiguration(bootstrapServers: [broker.bootstrapServers])), logger: testLogger
        )
        let store = try PartitionStore(path: try temporaryDirectory().appendingPathComponent("in-0.sqlite").path)
        let persistence = ShardPersistence(store: store, partition: TopicPartition("in", 0), producer: producer, logger: testLogger, committedNext: nil)
        let steps = Steps()
        let gate = AsyncGate()
        let ledger = await persistence.deliveries
        let entries = outputs(of: 0)
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await producer.run() }
            // Another turn of the shard's file (an erase's, say) holds it.
            let other = Task { await persistence.inTurn { await gate.wait() } }
            // The commit starts once the other turn holds the file.
            for _ in 0..<5_000 where !gate.hasWaiter {
                try? await Task.sleep(for: .milliseconds(1))
            }
            #expect(gate.hasWaiter)
            let commit = Task {
                await persistence.checkpoint(
                    take: taking(next: 1) { $0.outputs = entries },
                    restore: { _ in Issue.record("no commit fails here") },
                    acquire: { steps.add("acquired") },
                    written: {
                        let enqueued = ledger.withLock { $0.inFlight + $0.sent.count }
                        steps.add("written, \(enqueued) outputs enqueued")
                    }
                )
            }
            try? await Task.sleep(for: .milliseconds(200))
            #expect(steps.all.isEmpty, "no permit is taken while the commit waits for its turn")
            gate.open()
            await other.value
            #expect(await commit.value)
            #expect(steps.all == ["acquired", "written, 0 outputs enqueued"])
            #expect(ledger.withLock { $0.inFlight + $0.sent.count } == entries.count, "published after")
            await persistence.finish(timeout: .seconds(10))
            producer.triggerShutdown()
        }
    }

    /// A purge after an erase or a scrub that finds a reader on the file's
    /// write-ahead log gives the node's commit permit back while it waits
    /// to try again: other shards' commits go on meanwhile.
    @Test(.timeLimit(.minutes(1)))
    func aPurgeWaitingForAReaderGivesThePermitBack() async throws {
        let broker = try EmbeddedBroker(topics: [.init(name: "out", partitions: 1)], logger: testLogger)
        let producer = try KafkaProducer(
            configuration: .init(client: KafkaClientConfiguration(bootstrapServers: [broker.bootstrapServers])), logger: testLogger
        )
        let path = try temporaryDirectory().appendingPathComponent("in-0.sqlite").path
        let store = try PartitionStore(path: path)
        let persistence = ShardPersistence(store: store, partition: TopicPartition("in", 0), producer: producer, logger: testLogger, committedNext: nil)
        let permits = CommitPermits(limit: 1)
        let (purging, other) = (ObjectIdentifier(Steps()), ObjectIdentifier(Steps()))
        let (steps, tries) = (Steps(), Steps())
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await producer.run() }
            let first = await persistence.checkpoint(
                take: taking(next: 1) { $0.outputs = outputs(of: 0) },
                restore: { _ in Issue.record("no commit fails here") }
            )
            #expect(first)
            // A reader (as `APP state` is) in a read transaction on the log's frames.
            let reader = try? SQLiteConnection(path: path, readOnly: true, create: false)
            try? reader?.execute("BEGIN")
            #expect((try? reader?.integer("SELECT count(*) FROM outbox")) == 30)
            let scrub = Task {
                await persistence.checkpoint(
                    take: taking(next: 2) { $0.purge = true },
                    restore: { _ in Issue.record("no commit fails here") },
                    replicated: { steps.add("purged") },
                    unfinished: { steps.add("unfinished: \($0)") },
                    acquire: {
                        await permits.acquire(for: purging)
                        tries.add("acquired")
                    },
                    written: { permits.release(purging) }
                )
            }
            // Another shard's commit asks once the purging commit took the only permit.
            #expect(await eventually(timeout: .seconds(10)) { !tries.all.isEmpty })
            let otherCommit = Task {
                await permits.acquire(for: other)
                steps.add("other commit")
                permits.release(other)
            }
            #expect(await eventually(timeout: .seconds(4)) { steps.all == ["other commit"] }, "another shard commits while the purge waits: \(steps.all)")
            try? await Task.sleep(for: .milliseconds(300))
            #expect(steps.all == ["other commit"], "no purge while the reader holds the log")
            try? reader?.execute("COMMIT")
            reader?.close()
            await otherCommit.value
            #expect(await scrub.value)
            #expect(steps.all == ["other commit", "purged"])
            #expect(permits.counts.holding == 0, "the purge gave its permit back in the end")
            #expect(tries.all.count > 1, "each try of the purge took the permit again")
            let log = try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int
            #expect(log == 0, "the purge emptied the write-ahead log")
            await persistence.finish(timeout: .seconds(10))
            producer.triggerShutdown()
        }
    }

    /// A commit's `take` that hands over what `fill` puts in, to commit at `next`.
    func taking(
        next: Int64, _ fill: @escaping @Sendable (inout PendingCheckpoint) -> Void
    ) -> @Sendable () -> (PendingCheckpoint, nextOffset: Int64?) {
        {
            var pending = PendingCheckpoint()
            fill(&pending)
            return (pending, next)
        }
    }

    /// Commits of uneven sizes (so that their changelog records take
    /// uneven times to send): 30 outputs on even offsets, 1 on odd ones.
    func outputs(of offset: Int64) -> [OutboxEntry] {
        (0..<(offset.isMultiple(of: 2) ? 30 : 1)).map { position in
            OutboxEntry(
                sourceOffset: offset, position: Int64(position), topic: "out", key: Array("k".utf8),
                value: Array("\(offset)/\(position)".utf8), headers: nil, timestamp: nil
            )
        }
    }
}

/// Hands out input offsets in the order commits take them.
private final class TakenOffsets: Sendable {
    private let taken = Mutex<Int64>(0)

    func next() -> Int64 {
        taken.withLock { next in
            defer { next += 1 }
            return next
        }
    }
}

/// Holds a turn until opened.
private final class AsyncGate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Whether a turn waits on the gate.
    var hasWaiter: Bool { state.withLock { !$0.waiters.isEmpty } }

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// What a commit's hooks saw, in order.
private final class Steps: Sendable {
    private let steps = Mutex<[String]>([])

    func add(_ step: String) { steps.withLock { $0.append(step) } }

    var all: [String] { steps.withLock { $0 } }
}
