import Foundation
import Shoal
import TestSupport
import Testing
@testable import FraudDetection

extension FraudDetectionTests {
    /// Erasing an account on a running node: the IP that lists it in its
    /// state and the card and IP whose journals hold its payments scrub it
    /// (the sample's hooks), so that no partition file, nor what a
    /// restore reads of the changelog, holds the account's key; the other
    /// accounts on the same IP stay listed.
    @Test(.timeLimit(.minutes(3)))
    func erasingAnAccountScrubsTheCardAndIPThatReferenceIt() async throws {
        let fraud = try FraudNode("fraud-erase")
        defer { fraud.running.cancel() }
        let (node, broker, data, group) = (fraud.node, fraud.broker, fraud.data, fraud.group)
        #expect(await eventually { node.ownedPartitions.count == 24 })
        let erased = "acct-erase-me"
        let ip = EntityID(type: IPAddress.entityType, key: "10.9.9.9")
        let payments = [erased, "acct-2", erased, "acct-3", erased].enumerated().map { index, account in
            Payment(
                id: "pay-\(index)", account: account, card: "card-shared", ip: ip.key, country: "FR", amount: 5_000,
                at: EventTime(milliseconds: PaymentLoad.start.milliseconds + Int64(index) * 1_000)
            )
        }
        try await fraud.produce(payments)
        // Every payment reached the card and the IP (offsets 0 to 4 of their
        // regrouped partitions): one still on its way after their scrub would
        // bring the account back, as any record in a Kafka topic would.
        let card = EntityID(type: Card.entityType, key: "card-shared")
        #expect(await eventually {
            let offsets = [try? await node.actorSystem.state(of: ip)?.offset, try? await node.actorSystem.state(of: card)?.offset]
            return offsets.allSatisfy { ($0 ?? nil).map { $0 >= 4 } ?? false }
        }, "the card and the IP took every payment")
        let listed = try #require(try await node.actorSystem.state(of: ip)).state
        #expect(String(decoding: listed, as: UTF8.self).contains(erased), "the IP lists the account")
        #expect(await eventually { !filesHolding(erased, in: data).isEmpty })

        try await node.actorSystem.erase(EntityID(type: Account.entityType, key: erased), requester: "a test")

        let after = try #require(try await node.actorSystem.state(of: ip))
        let state = String(decoding: after.state, as: UTF8.self)
        #expect(!state.contains(erased) && state.contains("acct-2") && state.contains("acct-3"), "\(state)")
        #expect(filesHolding(erased, in: data) == [], "no partition file holds the account")
        for partition in Int32(0)..<8 {
            let records = try await changelogFromLastImage(broker, TopicPartition(ShoalNodeConfiguration.changelogTopic(group: group), partition))
            #expect(!records.contains { $0.range(of: Data(erased.utf8)) != nil }, "changelog partition \(partition)")
        }
        await fraud.stop()
    }
}

/// A fraud-detection node in this process on the embedded broker, with
/// its changelog, running until the task is cancelled.
struct FraudNode {
    let broker: EmbeddedBroker
    let group: String
    let data: String
    let node: ShoalNode
    let running: Task<Void, any Error>

    init(_ prefix: String, configure: (inout ShoalNodeConfiguration) -> Void = { _ in }) throws {
        broker = try EmbeddedBroker(
            topics: FraudDetection.topics + [.init(name: ShoalNodeConfiguration.defaultDeadLetterTopic, partitions: 1)], logger: testLogger
        )
        group = uniqueName(prefix)
        try broker.createChangelog(group: group, partitions: 8)
        data = try temporaryDirectory().path
        var configuration = ShoalNodeConfiguration(brokers: [broker.bootstrapServers], group: group, dataDirectory: data, sessionTimeout: .seconds(6))
        configure(&configuration)
        let node = ShoalNode(configuration: configuration, topology: FraudDetection.topology, logger: testLogger)
        self.node = node
        running = Task { try await node.run() }
    }

    /// Produces `payments` to the payments topic, keyed by account.
    func produce(_ payments: [Payment]) async throws {
        try await withProducer(broker) { producer in
            for payment in payments {
                _ = try await producer.send(KafkaProducerMessage(
                    topic: FraudDetection.payments, key: Array(payment.account.utf8), value: Array(try JSONEncoder().encode(payment))
                ))
            }
        }
    }

    func stop() async {
        running.cancel()
        _ = await running.result
    }
}

