import Foundation
import Shoal
import ShoalKafka
import Testing
@testable import CounterApp

extension NodeProcessTests {
    /// State-changing calls from a client process to three nodes on three
    /// machines: the owner of some of them is SIGKILLed right after a reply
    /// and its machine lost; every call is then retried with its call id.
    /// Each retry is answered with the first reply, and every key's state
    /// holds each call exactly once.
    @Test(.timeLimit(.minutes(6)))
    func stateChangingCallsSurviveTheLossOfTheirOwnerAndApplyOncePerCallID() async throws {
        let keys = 240
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let group = uniqueName("durable-calls")
        let secret = "durable-calls-secret-\(UUID().uuidString)"
        let environment = [CallSecret.environmentVariable: secret]
        let arguments = ["--listen", "127.0.0.1:0", "--standby-interval-ms", "300"]
        var (machines, nodes) = try await startMachines(broker, group: group, arguments: arguments, environment: environment)
        let client = try ShoalClient(
            configuration: .init(brokers: [broker.bootstrapServers], group: group, secret: try CallSecret(Array(secret.utf8)), timeout: .seconds(60)),
            topology: CounterApp.topology, logger: testLogger
        )
        let victim = ownedPartitions(nodes[1].errors)
        let ofVictim = (0..<keys).filter { victim.contains("counter-events-\(Murmur2Partitioner.partition(for: "key-\($0)", partitionCount: 8))") }
        #expect(ofVictim.count > 10, "node b owns some of the keys: \(victim)")
        try await client.withRunning {
            // The victim's keys first; it dies right after the tenth reply.
            var firstReplies: [Int: Int] = [:]
            for (index, key) in ofVictim.enumerated() {
                firstReplies[key] = try await add(1, to: key, id: "first-\(key)", client)
                if index == 9 {
                    nodes[1].kill()
                    break
                }
            }
            #expect(await nodes[1].waitForExit() != nil)
            try FileManager.default.removeItem(at: machines[1])
            // The rest, through the failover: calls wait for the new owners.
            for key in 0..<keys where firstReplies[key] == nil {
                firstReplies[key] = try await add(1, to: key, id: "first-\(key)", client)
            }
            #expect(firstReplies.values.allSatisfy { $0 == 1 }, "each key's first call found no bonus before it")
            // Every call again, with its id: answered from the first
            // execution. (Its argument differs: a call run again, or run
            // for the first time because its change was lost, would say so.)
            var retried: [Int: Int] = [:]
            for key in 0..<keys { retried[key] = try await add(100, to: key, id: "first-\(key)", client) }
            #expect(retried == firstReplies, "a retry gets the first execution's reply")
            for key in 0..<keys { #expect(try await add(1, to: key, id: "second-\(key)", client) == 2) }
            // A replacement machine joins; the keys move again.
            machines[1] = try temporaryDirectory()
            nodes[1] = try startNode("b2", broker, directory: machines[1], group: group, environment: environment, arguments: arguments)
            #expect(await awaitPartitioned(nodes))
            var wrong: [String] = []
            for key in 0..<keys {
                let counter = try Counter.reference(key: "key-\(key)", in: client.actorSystem)
                let retry = try await ShoalActorSystem.withCallID("second-\(key)") { try await counter.add(bonus: 1) }
                guard let live = try await client.actorSystem.state(of: EntityID(type: "Counter", key: "key-\(key)")),
                      let state = try JSONSerialization.jsonObject(with: Data(live.state)) as? [String: Any],
                      state["bonus"] as? Int == 2, retry == 2 else {
                    wrong.append("key-\(key): retry \(retry)")
                    continue
                }
            }
            #expect(wrong.isEmpty, "every key holds its two calls once: \(wrong.prefix(5))")
        }
        for node in nodes { node.terminate() }
        for node in [nodes[0], nodes[2], nodes[1]] { #expect(await node.waitForExit() == 0) }
    }

    private func add(_ bonus: Int, to key: Int, id: String, _ client: ShoalClient) async throws -> Int {
        let counter = try Counter.reference(key: "key-\(key)", in: client.actorSystem)
        return try await ShoalActorSystem.withCallID(id) { try await counter.add(bonus: bonus) }
    }
}
