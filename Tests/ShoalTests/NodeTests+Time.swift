import Distributed
import Foundation
import Shoal
import Testing

/// A visit; `at` is its event time.
private struct TenantVisit: Codable, Sendable {
    var tenant: String
    var at: EventTime
}

/// Counts visits; its state lives a minute of event time without visits.
private distributed actor Tenant: Entity {
    typealias ActorSystem = ShoalActorSystem
    struct State: Codable, Sendable { var visits = 0 }
    static var stateTimeToLive: Duration? { .seconds(60) }

    var state = State()

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    func visit() { state.visits += 1 }

    distributed func visits() -> Int { state.visits }
}

extension NodeTests {
    /// A state whose time-to-live ran out is deleted from the partition's
    /// file, and the key's next event starts from a new state.
    @Test(.timeLimit(.minutes(3)))
    func anExpiredStateLeavesThePartitionFileAndStartsAnew() async throws {
        let broker = try EmbeddedBroker(topics: [.init(name: "tenants", partitions: 1)], logger: testLogger)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName("ttl"))
        let group = uniqueName("ttl")
        try broker.createChangelog(group: group, partitions: 1)
        let configuration = ShoalNodeConfiguration(
            brokers: [broker.bootstrapServers], group: group, dataDirectory: directory.path, sessionTimeout: .seconds(6)
        )
        let node = ShoalNode(configuration: configuration, logger: testLogger)
        try node.route { topology in topology.route(topic: "tenants", to: Tenant.self, key: .field(\TenantVisit.tenant), eventTime: .field(\TenantVisit.at)) { tenant, _, _ in
            tenant.visit()
        } }
        func visit(_ tenant: String, second: Int64) -> (key: String, value: String) {
            (tenant, "{\"tenant\":\"\(tenant)\",\"at\":\(second * 1_000)}")
        }
        let file = configuration.storePath(for: TopicPartition("tenants", 0))
        try await withRunningNode(node) {
            #expect(await eventually { node.ownedPartitions.count == 1 })
            try await produce(broker, topic: "tenants", [visit("old", second: 0), visit("old", second: 10), visit("new", second: 100)])
            // old's state expires at 70 s; new's visit at 100 s passes it.
            #expect(await eventually(timeout: .seconds(30)) {
                let keys = (try? PartitionStore(readingAt: file).snapshots().map(\.key)) ?? []
                return keys == ["new"]
            }, "old's snapshot is deleted, new's kept")
            try await produce(broker, topic: "tenants", [visit("old", second: 110)])
            let old = try Tenant.reference(key: "old", in: node.actorSystem)
            #expect(await eventually(timeout: .seconds(30)) { (try? await old.visits()) == 1 }, "old starts again from a new state")
            // old's own visit at 200 s passes its expiry (110 + 60 s), as
            // nothing else did: the visit finds the state expired.
            try await produce(broker, topic: "tenants", [visit("old", second: 200)])
            #expect(await eventually(timeout: .seconds(30)) {
                (try? PartitionStore(readingAt: file).snapshots())?.first { $0.key == "old" }?.offset == 4
            }, "old's visit at 200 s is committed")
            #expect(try await old.visits() == 1, "old's own visit past its expiry starts from a new state")
        }
        // That visit also passed new's expiry (100 + 60 s).
        let stored = try PartitionStore(readingAt: file)
        #expect(try stored.snapshots().map(\.key) == ["old"])
        #expect(try stored.timers().count == 1, "old waits for its next expiry")
    }
}
