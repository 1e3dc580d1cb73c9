import Foundation
@testable import Shoal
@testable import ShoalApp
import Testing

/// `APP state` over directories that hold several copies of a partition
/// (standby copies, files of partitions that moved away) reads one copy
/// per partition: the owned one, else the newest.
@Suite("State authority")
struct StateAuthorityTests {
    /// A partition file in its own machine directory, at input offset `next`.
    func copy(next: Int64, count: Int, role: StoreReplication.Role) throws -> (directory: String, path: String) {
        let directory = try temporaryDirectory().path
        let folder = (directory as NSString).appendingPathComponent("counters")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = (folder as NSString).appendingPathComponent("counter-events-0.sqlite")
        let store = try PartitionStore(path: path)
        defer { store.close() }
        var commit = StoreCommit(nextOffset: next)
        commit.snapshots = [Snapshot(entity: "Counter", key: "k", version: 1, offset: next - 1, state: Array(#"{"count":\#(count)}"#.utf8))]
        _ = try store.commit(commit)
        try store.setReplication(role: role)
        return (directory, path)
    }

    func files(_ copies: [(directory: String, path: String)]) throws -> [StateFile] {
        try copies.map { try StateFile(path: $0.path, directory: $0.directory) }
    }

    @Test func theNewestCopySpeaksWhenNoNodeOwnsThePartition() throws {
        let movedAway = try copy(next: 100, count: 10, role: .active)
        let standby = try copy(next: 120, count: 12, role: .replica)
        let found = try files([movedAway, standby])
        #expect(StateFile.authoritative(found) == [standby.path])
        #expect(found.allSatisfy { !$0.held })
    }

    @Test func theOwnedCopySpeaksEvenWhenACopyIsAhead() throws {
        let owned = try copy(next: 100, count: 10, role: .active)
        let stale = try copy(next: 150, count: 15, role: .active)
        let node = try PartitionStore(path: owned.path)  // a running node holds it
        defer { node.close() }
        let found = try files([owned, stale])
        #expect(found.first { $0.path == owned.path }?.owned == true)
        #expect(StateFile.authoritative(found) == [owned.path])
    }

    @Test func aHalfRestoredFileNeverSpeaks() throws {
        let restoring = try copy(next: 300, count: 30, role: .restoring)
        let replica = try copy(next: 90, count: 9, role: .replica)
        #expect(StateFile.authoritative(try files([restoring, replica])) == [replica.path])
    }
}
