import Foundation
import Shoal
import Testing
@testable import CounterApp

@Suite("Node in process")
struct NodeTests {
    func makeNode(_ broker: EmbeddedBroker, group: String) throws -> ShoalNode {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName("node")).path
        try? broker.createChangelog(group: group, partitions: 8)
        let configuration = ShoalNodeConfiguration(
            brokers: [broker.bootstrapServers], group: group, dataDirectory: directory, sessionTimeout: .seconds(6)
        )
        let node = ShoalNode(configuration: configuration, topology: CounterApp.topology, logger: testLogger)
        return node
    }

    @Test(.timeLimit(.minutes(3)))
    func everyKeyFoldsItsEventsInOrderAndAnswersCallsInOrder() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let workload = CounterWorkload(keys: 50, perKey: 100)
        let node = try makeNode(broker, group: uniqueName("fold"))
        let totals = try await withRunningNode(node) {
            #expect(await eventually { node.ownedPartitions.count == 8 })
            try await produce(broker, topic: "counter-events", workload.messages)
            let outputs = try await readTopic(broker, "counter-totals", count: 5_000)
            // A call sees every event before it: the last total of its key.
            let counter = try Counter.reference(key: "key-7", in: node.actorSystem)
            let answer = try await counter.total()
            #expect(answer.count == 100)
            #expect(answer.sum == workload.expected["key-7"]!.sum)
            #expect(node.residentEntities == 50)
            return outputs
        }
        #expect(totals.count == 5_000)
        let decoded = try totals.map { try JSONDecoder().decode(CounterTotal.self, from: Data($0.value!.array)) }
        for (key, expected) in workload.expected {
            let ofKey = decoded.filter { $0.key == key }
            #expect(ofKey.map(\.seq) == Array(0..<100), "\(key) handled in produced order")
            #expect(ofKey.last?.count == expected.count)
            #expect(ofKey.last?.sum == expected.sum)
        }
        let ids = totals.compactMap { $0.headers.string(for: "shoal-id") }
        #expect(Set(ids).count == 5_000, "every output carries a distinct deterministic id")
    }

    @Test(.timeLimit(.minutes(3)))
    func badRecordsGoToDeadLettersAndThePartitionMovesOn() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics + [.init(name: "shoal-dead-letters", partitions: 1)], logger: testLogger)
        let node = try makeNode(broker, group: uniqueName("dlq"))
        let (letters, totals) = try await withRunningNode(node) {
            #expect(await eventually { node.ownedPartitions.count == 8 })
            // Key "a": a malformed record and one poison event among good
            // ones. Key "sick": a handler that always throws. Key "b": healthy
            // but for a handler that throws halfway and an event it rejects.
            let sick = (0..<3).map { ("sick", "{\"key\":\"sick\",\"seq\":\($0),\"amount\":1,\"poison\":true}") }
            try await produce(broker, topic: "counter-events", [
                ("a", "{\"key\":\"a\",\"seq\":0,\"amount\":1}"),
                ("a", "not json"),
                ("a", "{\"key\":\"a\",\"seq\":1,\"amount\":2,\"poison\":true}"),
                ("a", "{\"key\":\"a\",\"seq\":2,\"amount\":3}"),
            ] + sick + [
                ("b", "{\"key\":\"b\",\"seq\":0,\"amount\":5}"),
                ("b", "{\"key\":\"b\",\"seq\":9,\"amount\":100,\"halfway\":true}"),
                ("b", "{\"key\":\"b\",\"seq\":8,\"amount\":50,\"invalid\":true}"),
                ("b", "{\"key\":\"b\",\"seq\":1,\"amount\":6}"),
            ])
            let letters = try await readTopic(broker, "shoal-dead-letters", count: 7)
            let totals = try await readTopic(broker, "counter-totals", count: 4)
            return (letters, totals)
        }
        #expect(letters.count == 7)
        let reasons = letters.compactMap { $0.headers.string(for: "shoal-dlq-reason") }
        #expect(reasons.count { $0.contains("cannot decode") } == 1)
        #expect(reasons.count { $0.contains("threw 3 times") } == 5)
        #expect(reasons.count { $0.contains("threw once") && $0.contains("InvalidCounterEvent") } == 1, "a NonRetryableError is not retried: \(reasons)")
        #expect(letters.allSatisfy { $0.headers.string(for: "shoal-dlq-topic") == "counter-events" })
        #expect(letters.allSatisfy { $0.headers.string(for: "shoal-dlq-partition") != nil })
        let lettersOfA = letters.filter { $0.key?.string == "a" }
        #expect(Set(lettersOfA.compactMap { $0.headers.string(for: "shoal-dlq-offset") }) == ["1", "2"])
        #expect(letters.count { $0.key?.string == "sick" } == 3)
        let decoded = try totals.map { try JSONDecoder().decode(CounterTotal.self, from: Data($0.value!.array)) }
        #expect(decoded.filter { $0.key == "a" }.map(\.seq) == [0, 2], "the partition moved on past both bad records")
        #expect(decoded.last { $0.key == "a" }?.sum == 4)
        #expect(decoded.filter { $0.key == "b" }.map(\.sum) == [5, 11], "other keys unaffected; a handler that threw halfway left no trace")
    }
}
