import Foundation
import Testing
@testable import Shoal

/// Standby copies no process holds, wrote or let go of for the delay are
/// deleted (with their write-ahead log and shared memory); a copy whose
/// lock a store holds, one written or let go of lately, an owner's file
/// (its last commit may not be in the changelog), one written without a
/// changelog, one that recorded an erase, and other files are kept.
@Suite("Stale partition files")
struct StaleFileSweepTests {
    @Test func aStandbyCopyNoProcessUsedForTheDelayIsDeleted() throws {
        let directory = try temporaryDirectory().path
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        func written(_ name: String, role: StoreReplication.Role?, replicated: Bool = false, erasing: Bool = false) throws -> PartitionStore {
            let store = try PartitionStore(path: path(name))
            var commit = StoreCommit(nextOffset: 1)
            commit.snapshots = [Snapshot(entity: "Counter", key: "k", version: 1, offset: 0, state: Array(#"{"count":1}"#.utf8))]
            if erasing { commit.erased = [Erasure(entity: EntityID(type: "Counter", key: "gone"), id: "e1", requester: "test")] }
            try store.commit(commit)
            if let role { try store.setReplication(role: role, changelogNext: 0) }
            if replicated { try store.setReplicated(ChangelogPosition(next: 2, input: 1)) }
            return store
        }
        func closed(_ name: String, role: StoreReplication.Role?, replicated: Bool = false, erasing: Bool = false, aged: Bool = true) throws {
            try written(name, role: role, replicated: replicated, erasing: erasing).close()
            if aged { try NodeTests.age(path(name)) }
        }
        try closed("counter-events-1.sqlite", role: .replica)
        try closed("counter-events-4.sqlite", role: .active, replicated: true)
        try closed("counter-events-5.sqlite", role: .active)
        try closed("counter-events-6.sqlite", role: nil)
        try closed("counter-events-7.sqlite", role: .replica, erasing: true)
        try closed("counter-events-3.sqlite", role: .replica, aged: false)
        try closed("counter-events-8.sqlite", role: .replica)
        try PartitionStore(path: path("counter-events-8.sqlite")).close()  // held a moment ago, nothing written
        let owned = try written("counter-events-2.sqlite", role: .replica)
        defer { owned.close() }
        try NodeTests.age(path("counter-events-2.sqlite"))
        try closed("backup.sqlite", role: .replica)
        _ = FileManager.default.createFile(atPath: path("notes.txt"), contents: Data("keep".utf8))
        try NodeTests.age(path("notes.txt"))

        let sweep = StaleFileSweep(directory: directory, delay: .seconds(600), logger: testLogger)
        #expect(sweep.sweep() == [path("counter-events-1.sqlite")])
        let left = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(!left.contains { $0.hasPrefix("counter-events-1.sqlite") && !$0.hasSuffix(".lock") }, "the file, its log and shared memory: \(left)")
        #expect(left.contains("counter-events-2.sqlite"), "held by an open store, however old")
        #expect(left.contains("counter-events-3.sqlite"), "written within the delay")
        #expect(left.contains("counter-events-8.sqlite"), "let go of within the delay (its lock's stamp)")
        #expect(left.contains("counter-events-4.sqlite") && left.contains("counter-events-5.sqlite"), "an owner's files")
        #expect(left.contains("counter-events-6.sqlite"), "written without a changelog")
        #expect(left.contains("counter-events-7.sqlite"), "it recorded an erase")
        #expect(left.contains("backup.sqlite") && left.contains("notes.txt"), "not partition files")
        #expect(try owned.progress()?.nextOffset == 1, "the held file still works")
        // A node opening the deleted partition next finds no file: a new one, empty, to restore.
        let reopened = try PartitionStore(path: path("counter-events-1.sqlite"))
        defer { reopened.close() }
        #expect(try reopened.progress() == nil)
    }
}
