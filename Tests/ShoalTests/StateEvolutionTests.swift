import Distributed
import Foundation
import Testing
@testable import Shoal

/// Version 2 of a ledger's state: version 1 kept `count` and `sum`.
distributed actor Ledger: Entity {
    typealias ActorSystem = ShoalActorSystem

    struct State: Codable, Sendable, Equatable {
        var entries = 0
        var balance = 0
        var currency = "EUR"
    }

    static var stateVersion: Int { 2 }

    static func upcast(_ encoded: Data, from version: Int) throws -> State {
        struct Version1: Decodable {
            var count: Int
            var sum: Int
        }
        let old = try JSONDecoder().decode(Version1.self, from: encoded)
        return State(entries: old.count, balance: old.sum)
    }

    var state = State()

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    distributed func current() -> State { state }
}

@Suite("State evolution")
struct StateEvolutionTests {
    let system = ShoalActorSystem()
    let descriptor = EntityDescriptor(Ledger.self)

    func activate(version: Int64, _ json: String) async throws -> Ledger.State {
        let snapshot = Snapshot(entity: "Ledger", key: "acct-1", version: version, offset: 41, state: Array(json.utf8))
        let entity = try await descriptor.activate(system, EntityID(type: "Ledger", key: "acct-1"), snapshot)
        let ledger = try #require(entity as? Ledger)
        return try #require(await ledger.whenLocal { $0.state })
    }

    @Test func anOlderSnapshotIsUpcast() async throws {
        #expect(try await activate(version: 1, #"{"count":3,"sum":90}"#) == Ledger.State(entries: 3, balance: 90))
        #expect(try await activate(version: 2, #"{"entries":4,"balance":7,"currency":"SEK"}"#) == Ledger.State(entries: 4, balance: 7, currency: "SEK"))
        #expect(descriptor.stateVersion == 2)
    }

    @Test func anUndecodableSnapshotNamesTheEntityKeyAndVersion() async throws {
        for (version, json) in [(Int64(2), #"{"entries":"many"}"#), (1, #"{"total":3}"#), (3, #"{"entries":1,"balance":1}"#)] {
            let error = try await #require(throws: StoreError.self) { _ = try await activate(version: version, json) }
            #expect(error.code == .undecodableSnapshot)
            #expect(error.reason.contains("Ledger acct-1") && error.reason.contains("version \(version)"), "\(error)")
        }
    }
}
