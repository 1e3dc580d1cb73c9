import Foundation
import Testing
@testable import Shoal

/// Partition files no process holds nor wrote for the delay are deleted
/// (with their write-ahead log and shared memory); a file whose lock a
/// store holds, a file written lately and other files are kept.
@Suite("Stale partition files")
struct StaleFileSweepTests {
    @Test func aFileNoProcessHoldsNorWroteForTheDelayIsDeleted() throws {
        let directory = try temporaryDirectory().path
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        func written(_ name: String) throws -> PartitionStore {
            let store = try PartitionStore(path: path(name))
            var commit = StoreCommit(nextOffset: 1)
            commit.snapshots = [Snapshot(entity: "Counter", key: "k", version: 1, offset: 0, state: Array(#"{"count":1}"#.utf8))]
            try store.commit(commit)
            return store
        }
        func age(_ name: String) throws {
            let hourAgo = Date(timeIntervalSinceNow: -3_600)
            for file in [path(name), path(name) + "-wal"] where FileManager.default.fileExists(atPath: file) {
                try FileManager.default.setAttributes([.modificationDate: hourAgo], ofItemAtPath: file)
            }
        }
        let moved = try written("counter-events-1.sqlite")
        moved.close()
        try age("counter-events-1.sqlite")
        let owned = try written("counter-events-2.sqlite")
        defer { owned.close() }
        try age("counter-events-2.sqlite")
        let recent = try written("counter-events-3.sqlite")
        recent.close()
        FileManager.default.createFile(atPath: path("notes.txt"), contents: Data("keep".utf8))
        try age("notes.txt")

        let sweep = StaleFileSweep(directory: directory, delay: .seconds(600), logger: testLogger)
        #expect(sweep.sweep() == [path("counter-events-1.sqlite")])
        let left = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(!left.contains { $0.hasPrefix("counter-events-1.sqlite") && !$0.hasSuffix(".lock") }, "the file, its log and shared memory: \(left)")
        #expect(left.contains("counter-events-2.sqlite"), "held by an open store, however old")
        #expect(left.contains("counter-events-3.sqlite"), "written within the delay")
        #expect(left.contains("notes.txt"))
        #expect(try owned.progress()?.nextOffset == 1, "the held file still works")
        // A node opening the deleted partition next finds no file: a new one, empty, to restore.
        let reopened = try PartitionStore(path: path("counter-events-1.sqlite"))
        defer { reopened.close() }
        #expect(try reopened.progress() == nil)
    }
}
