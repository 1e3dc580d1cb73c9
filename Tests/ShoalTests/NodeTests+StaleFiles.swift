import Foundation
@testable import Shoal
import ShoalKafka
import Testing
@testable import CounterApp

extension NodeTests {
    /// A node deletes a standby copy in its directory that no process
    /// holds, wrote or let go of for the delay (one its plan dropped); the
    /// files of its own partitions stay, however long since they were written.
    @Test(.timeLimit(.minutes(3)))
    func aNodeDeletesStandbyCopiesNoProcessUsesAndKeepsItsOwnFiles() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let group = uniqueName("stale")
        try broker.createChangelog(group: group, partitions: 8)
        var configuration = ShoalNodeConfiguration(
            brokers: [broker.bootstrapServers], group: group, dataDirectory: try temporaryDirectory().path, sessionTimeout: .seconds(6)
        )
        configuration.store.staleFileDelay = .seconds(2)
        try FileManager.default.createDirectory(atPath: configuration.storeDirectory, withIntermediateDirectories: true)
        let stale = configuration.storePath(for: TopicPartition("counter-events", 11))
        let copy = try PartitionStore(path: stale)
        try copy.setReplication(role: .replica, changelogNext: 0)
        copy.close()
        try Self.age(stale)
        let node = ShoalNode(configuration: configuration, topology: CounterApp.topology, logger: testLogger)
        try await withRunningNode(node) {
            #expect(await eventually { node.ownedPartitions.count == 8 })
            try await produce(broker, topic: "counter-events", [("k", #"{"key":"k","seq":0,"amount":3}"#)])
            _ = try await readTopic(broker, "counter-totals", count: 1)
            let owned = (0..<8).map { configuration.storePath(for: TopicPartition("counter-events", $0)) }
            for path in owned { try Self.age(path) }
            #expect(await eventually(timeout: .seconds(30)) { !FileManager.default.fileExists(atPath: stale) }, "the copy no process uses")
            try await Task.sleep(for: .seconds(3))  // more sweeps, past the delay of the files aged above
            #expect(owned.allSatisfy { FileManager.default.fileExists(atPath: $0) }, "the node's own partitions' files stay")
            try await produce(broker, topic: "counter-events", [("k", #"{"key":"k","seq":1,"amount":4}"#)])
            let counter = try Counter.reference(key: "k", in: node.actorSystem)
            #expect(await eventually { (try? await counter.total())?.sum == 7 })
        }
    }

    /// Sets a partition file's, its log's and its lock's modification time
    /// an hour back: last used then.
    static func age(_ path: String) throws {
        for file in [path, path + "-wal", path + ".lock"] where FileManager.default.fileExists(atPath: file) {
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3_600)], ofItemAtPath: file)
        }
    }
}
