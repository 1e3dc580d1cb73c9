import Foundation
import Testing
@testable import Shoal

@Suite("Partition store")
struct PartitionStoreTests {
    func storePath() throws -> String {
        try temporaryDirectory().appendingPathComponent("events-3.sqlite").path
    }

    func commit(_ next: Int64, rows: Range<Int64>, snapshot: String? = nil) -> StoreCommit {
        var commit = StoreCommit(nextOffset: next)
        commit.journal = rows.map { JournalEntry(offset: $0, entity: "Counter", key: "k\($0 % 3)", event: Array("e\($0)".utf8), eventTime: 1_000 + $0) }
        commit.outputs = rows.map { OutboxEntry(sourceOffset: $0, position: 0, topic: "totals", key: Array("k".utf8), value: Array("\($0)".utf8), headers: nil) }
        if let snapshot {
            commit.snapshots = [Snapshot(entity: "Counter", key: "k0", version: 1, offset: rows.upperBound - 1, state: Array(snapshot.utf8))]
        }
        return commit
    }

    @Test func committedRowsSurviveReopening() throws {
        let path = try storePath()
        do {
            let store = try PartitionStore(path: path)
            #expect(try store.progress() == nil)
            try store.commit(commit(10, rows: 0..<10, snapshot: "{\"count\":4}"))
            try store.commit(commit(15, rows: 10..<15))
        }
        let store = try PartitionStore(path: path)
        #expect(try store.progress() == StoreProgress(nextOffset: 15, snapshotOffset: 0))
        #expect(try store.journal(from: 0).map(\.offset) == Array(0..<15))
        #expect(try store.journal(from: 12).first == JournalEntry(offset: 12, entity: "Counter", key: "k0", event: Array("e12".utf8), eventTime: 1_012))
        #expect(try store.snapshot(entity: "Counter", key: "k0")?.state == Array("{\"count\":4}".utf8))
        #expect(try store.snapshot(entity: "Counter", key: "k1") == nil)
        let pending = try store.pendingOutputs()
        #expect(pending.map(\.sourceOffset) == Array(0..<15))
        try store.markSent(pending.prefix(10).compactMap(\.id))
        #expect(try store.pendingOutputs().map(\.sourceOffset) == Array(10..<15))
        try store.trim(before: 10)
        #expect(try store.journal(from: 0).first?.offset == 10)
    }

    /// Deliveries acknowledged out of order and with gaps are marked sent
    /// by the next commit, in its transaction: exactly those ids, no other.
    @Test func deliveriesAreMarkedSentByTheNextCommit() throws {
        let store = try PartitionStore(path: try storePath())
        try store.commit(commit(12, rows: 0..<12))
        let ids = try store.pendingOutputs().compactMap(\.id)
        #expect(ids.count == 12)
        var next = commit(14, rows: 12..<14)
        next.delivered = [ids[5], ids[0], ids[1], ids[3], ids[2], ids[9], ids[7], ids[8]]
        try store.commit(next)
        #expect(try store.pendingOutputs().map(\.sourceOffset) == [4, 6, 10, 11, 12, 13])
        #expect(PartitionStore.consecutiveRuns([9, 1, 2, 3, 7, 8, 3]) == [1...3, 7...9])
    }

    /// The filter that spares lookups of keys the file never held answers
    /// "no" only for those: every snapshot committed, before or after the
    /// filter was built, after it grew past its first size, or written by
    /// an earlier process, is found.
    @Test func snapshotsAreFoundThroughTheKeyFilterAtAnySize() throws {
        let path = try storePath()
        func snapshots(_ keys: Range<Int>) -> StoreCommit {
            var commit = StoreCommit(nextOffset: Int64(keys.upperBound))
            commit.snapshots = keys.map { Snapshot(entity: "Counter", key: "k\($0)", version: 1, offset: Int64($0), state: [1]) }
            return commit
        }
        do {
            let store = try PartitionStore(path: path)
            try store.commit(snapshots(0..<100))
            #expect(try store.snapshot(entity: "Counter", key: "k7")?.offset == 7)  // builds the filter
            try store.commit(snapshots(100..<20_000))  // past its first capacity
            for key in stride(from: 0, to: 20_000, by: 7) {
                #expect(try store.snapshot(entity: "Counter", key: "k\(key)")?.offset == Int64(key))
            }
            #expect(try store.snapshot(entity: "Counter", key: "k20000") == nil)
            #expect(try store.snapshot(entity: "Other", key: "k7") == nil)
        }
        let reopened = try PartitionStore(path: path)
        #expect(try reopened.snapshot(entity: "Counter", key: "k19999")?.offset == 19_999)
        var filter = SnapshotKeyFilter(capacity: 10_000)
        for key in 0..<10_000 { filter.insert(entity: "Counter", key: "k\(key)") }
        #expect((0..<10_000).allSatisfy { filter.mayContain(entity: "Counter", key: "k\($0)") })
        let falsePositives = (10_000..<110_000).filter { filter.mayContain(entity: "Counter", key: "k\($0)") }.count
        #expect(falsePositives < 1_000)  // about 1 in 400 expected
    }

    /// Journaled calls commit with the records, read back in the order
    /// they ran, per entity, and go with the record before them when the
    /// journal is trimmed.
    @Test func journaledCallsCommitReadAndTrimWithTheirRecords() throws {
        let path = try storePath()
        do {
            let store = try PartitionStore(path: path)
            var first = commit(10, rows: 0..<10)
            first.calls = [
                JournaledCall(afterOffset: -1, entity: "Counter", key: "fresh", call: [1]),
                JournaledCall(afterOffset: 7, entity: "Counter", key: "k0", call: [2]),
                JournaledCall(afterOffset: 2, entity: "Counter", key: "k1", call: [3]),
            ]
            try store.commit(first)
            var second = commit(12, rows: 10..<12)
            second.calls = [JournaledCall(afterOffset: 11, entity: "Counter", key: "k0", call: [4])]
            try store.commit(second)
        }
        let store = try PartitionStore(path: path)
        #expect(try store.journaledCalls(from: 0).map(\.call) == [[1], [2], [3], [4]], "in the order they ran")
        #expect(try store.journaledCalls(entity: "Counter", key: "k0").map(\.afterOffset) == [7, 11])
        #expect(try store.journaledCalls(from: 5).map(\.call) == [[2], [4]])
        try store.trim(before: 5)
        #expect(try store.journaledCalls(from: 0).map(\.call) == [[2], [4]], "the calls after offsets -1 and 2 went with the records")
    }

    @Test func completeSnapshotsMoveTheReplayStart() throws {
        let store = try PartitionStore(path: try storePath())
        var first = commit(10, rows: 0..<10, snapshot: "a")
        first.snapshotsComplete = true
        try store.commit(first)
        try store.commit(commit(20, rows: 10..<20))
        #expect(try store.progress() == StoreProgress(nextOffset: 20, snapshotOffset: 10))
    }

    /// A full disk (simulated by SQLite's page limit) fails the commit as a
    /// whole with an error naming the file; what was committed before stays,
    /// and commits succeed again once there is room.
    @Test func aFullDiskCommitsNothingAndLosesNothing() throws {
        let path = try storePath()
        let store = try PartitionStore(path: path)
        try store.commit(commit(10, rows: 0..<10, snapshot: "before"))
        let pages = try store.withConnection { connection throws(StoreError) in try connection.sqlite.integer("PRAGMA page_count") ?? 0 }
        try store.withConnection { connection throws(StoreError) in try connection.sqlite.execute("PRAGMA max_page_count = \(pages + 2)") }
        var big = commit(2_010, rows: 10..<2_010, snapshot: "after")
        big.journal = big.journal.map { var row = $0; row.event = Array(repeating: 7, count: 1_000); return row }
        let error = try #require(throws: StoreError.self) { try store.commit(big) }
        #expect(error.code == .full)
        #expect(error.reason.contains(path))
        #expect(try store.progress()?.nextOffset == 10, "the failed commit left nothing")
        #expect(try store.journal(from: 0).count == 10)
        #expect(try store.snapshot(entity: "Counter", key: "k0")?.state == Array("before".utf8))
        try store.withConnection { connection throws(StoreError) in try connection.sqlite.execute("PRAGMA max_page_count = 1000000") }
        try store.commit(big)
        #expect(try store.progress()?.nextOffset == 2_010)
    }

    @Test func aSecondOpenerWaitsThenFailsNamingTheFile() async throws {
        let path = try storePath()
        var first: PartitionStore? = try PartitionStore(path: path)
        let error = try #require(throws: StoreError.self) { try PartitionStore(path: path, lockTimeout: .milliseconds(300)) }
        #expect(error.code == .locked)
        #expect(error.reason.contains(path))
        // Released during the wait (a rebalance between two nodes on one
        // machine): the second opener gets the file.
        // On a thread of its own: the wait polls and sleeps, and on the
        // test run's two cooperative threads it starved this test's own
        // release below under a loaded suite. A long bound: the wait ends
        // at the release, which a loaded suite once held up past 10 s.
        let opener = Task {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<PartitionStore, any Error>) in
                Thread { continuation.resume(with: Result { try PartitionStore(path: path, lockTimeout: .seconds(60)) }) }.start()
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(first != nil)
        first = nil
        let second = try await opener.value
        #expect(try second.progress() == nil)
    }

    @Test func aReaderReadsWhileTheOwnerWrites() throws {
        let path = try storePath()
        let owner = try PartitionStore(path: path)
        try owner.commit(commit(5, rows: 0..<5, snapshot: "s"))
        let reader = try PartitionStore(readingAt: path)
        #expect(try reader.snapshots().map(\.key) == ["k0"])
        try owner.commit(commit(9, rows: 5..<9, snapshot: "t"))
        #expect(try reader.snapshots().first?.state == Array("t".utf8))
    }

    @Test func filesArePrivateToTheirOwner() throws {
        let path = try storePath()
        let store = try PartitionStore(path: path)
        try store.commit(commit(1, rows: 0..<1))
        for file in [path, path + "-wal", path + ".lock"] {
            let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(file) is mode 0600")
        }
    }

    @Test func aCorruptFileIsNamed() throws {
        let path = try storePath()
        try Data(repeating: 0x5A, count: 8_192).write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: StoreError.self) { try PartitionStore(path: path) }
        #expect(error.code == .corrupt)
        #expect(error.reason.contains(path))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(repeating: 0x5A, count: 8_192), "the file was not altered")
    }

    @Test func aFileFromANewerShoalIsRefusedUntouched() throws {
        let path = try storePath()
        do {
            let store = try PartitionStore(path: path)
            try store.withConnection { connection throws(StoreError) in try connection.sqlite.execute("PRAGMA user_version = 99") }
        }
        let error = try #require(throws: StoreError.self) { try PartitionStore(path: path) }
        #expect(error.code == .newerSchema)
        #expect(error.reason.contains(path) && error.reason.contains("99"))
    }

    @Test func timersAndTheClockCommitWithTheStateAndSurviveReopening() throws {
        let path = try storePath()
        let silence = EntityTimer(name: "silence", clock: .eventTime, due: EventTime(milliseconds: 5_000))
        let ping = EntityTimer(name: "ping", clock: .processingTime, due: EventTime(milliseconds: 9_000))
        do {
            let store = try PartitionStore(path: path)
            var first = commit(10, rows: 0..<10, snapshot: "{}")
            first.timers = [StoredTimers(entity: "Counter", key: "k0", timers: [silence, ping])]
            first.maxEventTime = EventTime(milliseconds: 1_009)
            try store.commit(first)
            var second = commit(12, rows: 10..<12)
            second.timers = [StoredTimers(entity: "Counter", key: "k0", timers: [ping])]
            try store.commit(second)
        }
        let store = try PartitionStore(path: path)
        #expect(try store.timers() == [EntityID(type: "Counter", key: "k0"): [ping]], "a commit replaces the entity's timers")
        #expect(try store.progress()?.maxEventTime == EventTime(milliseconds: 1_009), "a commit without a clock keeps the last one")
    }

    @Test func aVersionOneFileIsMigratedKeepingItsRows() throws {
        let path = try storePath()
        do {
            let connection = try SQLiteConnection(path: path)
            try connection.execute(StoreSchema.migrations[0])
            try connection.execute("PRAGMA user_version = 1")
            try connection.execute("INSERT INTO snapshots (entity, key, version, offset, state) VALUES ('Counter', 'k0', 1, 7, x'7B7D')")
            try connection.execute("INSERT INTO progress (id, next_offset, snapshot_offset) VALUES (1, 8, 0)")
        }
        let store = try PartitionStore(path: path)
        #expect(try store.snapshot(entity: "Counter", key: "k0") == Snapshot(entity: "Counter", key: "k0", version: 1, offset: 7, state: Array("{}".utf8), firings: 0))
        #expect(try store.progress() == StoreProgress(nextOffset: 8, snapshotOffset: 0, maxEventTime: nil))
        #expect(try store.timers().isEmpty)
    }
}
