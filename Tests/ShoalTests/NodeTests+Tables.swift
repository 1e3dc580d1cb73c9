import Distributed
import Foundation
import Shoal
import Testing
@testable import CounterApp

extension NodeTests {
    static let shopperTopology = Topology { Shopper.routes(into: &$0) }

    static func setPrice(_ broker: EmbeddedBroker, _ product: String, _ price: Int?) async throws {
        try await withProducer(broker) { producer in
            let value = try price.map { try JSONEncoder().encode(Product(price: $0)) }.map { Array($0) }
            try await producer.send(KafkaProducerMessage(topic: "products", key: Array(product.utf8), value: value))
        }
    }

    static func purchase(_ broker: EmbeddedBroker, shoppers: Range<Int>, product: String, seq: Int) async throws {
        try await produce(broker, topic: "purchases", shoppers.map { shopper in
            ("shopper-\(shopper)", "{\"shopper\":\"shopper-\(shopper)\",\"product\":\"\(product)\",\"seq\":\(seq)}")
        })
    }

    static func price(_ node: ShoalNode, _ product: String) -> Int? {
        node.tableValue("products", key: product).flatMap { try? JSONDecoder().decode(Product.self, from: Data($0)).price }
    }

    /// A handler sees a table's value as the node read it when the handler
    /// ran: the value before an update for purchases before it, the new one
    /// after, none after a delete. A replay of the node's files shows each
    /// handler what it saw (not the table's later contents); hand-written
    /// events are priced from the replay's own tables; a restarted node
    /// reads the table again before it processes records.
    @Test(.timeLimit(.minutes(4)))
    func aTableUpdateIsSeenByLaterEventsAndReplayedAsSeen() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let configuration = try testNodeConfiguration(broker, group: "tables")
        try await Self.setPrice(broker, "p1", 10)
        try await Self.setPrice(broker, "p2", 5)
        let shoppers = 0..<20
        let node = ShoalNode(configuration: configuration, topology: Self.shopperTopology, logger: testLogger)
        let receipts = try await withRunningNode(node) {
            #expect(await eventually { node.ownedPartitions.count == 8 })
            #expect(Self.price(node, "p1") == 10, "the table is read before records are processed")
            try await Self.purchase(broker, shoppers: shoppers, product: "p1", seq: 0)
            _ = try await readTopic(broker, "receipts", count: shoppers.count)
            try await Self.setPrice(broker, "p1", 20)
            try await Self.setPrice(broker, "p2", nil)
            #expect(await eventually { Self.price(node, "p1") == 20 && node.tableValue("products", key: "p2") == nil })
            try await Self.purchase(broker, shoppers: shoppers, product: "p1", seq: 1)
            try await Self.purchase(broker, shoppers: shoppers, product: "p2", seq: 2)
            try await Self.purchase(broker, shoppers: shoppers, product: "p9", seq: 3)
            return try await readTopic(broker, "receipts", count: shoppers.count * 4)
        }
        let bySeq = Dictionary(grouping: try receipts.map { try JSONDecoder().decode(Receipt.self, from: Data($0.value!.array)) }, by: \.seq)
        #expect(bySeq[0]?.allSatisfy { $0.price == 10 } == true && bySeq[0]?.count == shoppers.count, "before the update: 10")
        #expect(bySeq[1]?.allSatisfy { $0.price == 20 } == true && bySeq[1]?.count == shoppers.count, "after it: 20")
        #expect(bySeq[2]?.allSatisfy { $0.price == nil } == true && bySeq[2]?.count == shoppers.count, "after a delete: none")
        #expect(bySeq[3]?.allSatisfy { $0.price == nil } == true, "an unknown product: none")

        // A replay whose own table says 99 still shows each handler what it saw.
        let catalogue = ["products": ["p1": Array(#"{"price":99}"#.utf8), "p2": Array(#"{"price":99}"#.utf8)]]
        let replay = try Replay(Self.shopperTopology, tables: catalogue)
        var replayed = 0
        for partition in Int32(0)..<8 {
            let path = configuration.storePath(for: TopicPartition("purchases", partition))
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let recorded = try RecordedPartition(at: path, entityTypes: replay.entityTypes)
            let result = try await replay.run(recorded.events)
            #expect(result.outputs.map(\.value) == recorded.outputs.map(\.value), "partition \(partition): the same receipts")
            #expect(result.states == recorded.states, "partition \(partition): the same states")
            replayed += result.outputs.count
        }
        #expect(replayed == shoppers.count * 4)
        let written = try ReplayEvent(topic: "purchases", offset: 0, key: "shopper-x", json: Purchase(shopper: "shopper-x", product: "p1", seq: 0))
        let handWritten = try await replay.run([written])
        let receipt = try JSONDecoder().decode(Receipt.self, from: Data(try #require(handWritten.outputs.first).value))
        #expect(receipt.price == 99, "an unrecorded lookup is answered from the replay's tables")
        // Table records among hand-written events change what later lookups see.
        let timeline = try [
            ReplayEvent(topic: "products", offset: 0, key: "p1", json: Product(price: 5)),
            written,
            ReplayEvent(topic: "products", offset: 1, key: "p1", json: Product(price: 7)),
            ReplayEvent(topic: "purchases", offset: 1, key: "shopper-x", json: Purchase(shopper: "shopper-x", product: "p1", seq: 1)),
            ReplayEvent(topic: "products", offset: 2, key: "p1", value: []),
            ReplayEvent(topic: "purchases", offset: 2, key: "shopper-x", json: Purchase(shopper: "shopper-x", product: "p1", seq: 2)),
        ]
        let timed = try await replay.run(timeline)
        let prices = try timed.outputs.map { try JSONDecoder().decode(Receipt.self, from: Data($0.value)).price }
        #expect(prices == [5, 7, nil] && timed.failures.isEmpty, "\(prices) \(timed.failures)")

        let restarted = ShoalNode(configuration: configuration, topology: Self.shopperTopology, logger: testLogger)
        try await withRunningNode(restarted) {
            #expect(await eventually { restarted.ownedPartitions.count == 8 })
            #expect(Self.price(restarted, "p1") == 20 && restarted.tableValue("products", key: "p2") == nil)
        }
    }

    /// A table topic the cluster lacks, or a topic declared both a table
    /// and a route, is refused by name.
    @Test(.timeLimit(.minutes(2)))
    func aMissingOrRoutedTableIsRefused() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics.filter { $0.name != "products" }, logger: testLogger)
        let node = ShoalNode(configuration: try testNodeConfiguration(broker, group: "notable"), topology: Self.shopperTopology, logger: testLogger)
        let missing = try await #require(throws: ShoalError.self) { try await node.run() }
        #expect(missing.reason == "the table topic products does not exist")
        var both = Self.shopperTopology
        both.table("purchases")
        let routed = try #require(throws: ShoalError.self) { _ = try Replay(both) }
        #expect(routed.reason.contains("purchases is declared both a table and a routed topic"))
    }
}

/// An entity whose timer tries a table lookup.
distributed actor TimedLookup: Entity {
    typealias ActorSystem = ShoalActorSystem

    struct Ping: Codable, Sendable {
        var key: String
        var at: EventTime
    }

    struct State: Codable, Sendable {
        var refused: String?
    }

    var state = State()

    init(actorSystem: ShoalActorSystem) {
        self.actorSystem = actorSystem
    }

    func handle(_ ping: Ping, in context: EntityContext) {
        context.setTimer("look", at: ping.at)
    }

    func timerFired(_ timer: EntityTimer, in context: EntityContext) throws {
        do {
            _ = try context.lookupBytes("p1", in: "products")
        } catch let error as LookupInTimer {
            state.refused = error.description
        }
    }
}

@Suite struct TableLookupInTimerTests {
    /// A timer's lookup is refused with a reason: a replay could not show
    /// it what it saw.
    @Test func aTimersLookupIsRefused() async throws {
        let replay = try Replay { topology in
            topology.table("products")
            topology.route(topic: "pings", to: TimedLookup.self, key: .field(\TimedLookup.Ping.key), eventTime: .field(\.at)) { entity, ping, context in
                entity.handle(ping, in: context)
            }
        }
        let events = try [0, 60_000].enumerated().map { index, at in
            try ReplayEvent(topic: "pings", offset: Int64(index), key: "k", json: TimedLookup.Ping(key: "k", at: EventTime(milliseconds: Int64(at))))
        }
        let result = try await replay.run(events)
        let state = try JSONDecoder().decode(TimedLookup.State.self, from: Data(try #require(result.states.values.first)))
        #expect(state.refused?.contains("looked up in timer look: lookups run in event handlers only") == true, "\(String(describing: state.refused))")
    }
}
