import Foundation
import Shoal
import Testing
@testable import CounterApp

extension NodeProcessTests {
    /// Two node processes share the shards of the basket's three
    /// co-partitioned topics while records flow; one is killed (SIGKILL)
    /// and restarted three times, then leaves (a rebalance hands its shards
    /// to the other). Every event is applied once, each topic's events in
    /// their order; each output says how many events its basket had heard,
    /// which the final state confirms; a replay of the recorded files with
    /// `--diff` finds nothing.
    @Test(.timeLimit(.minutes(6)))
    func coPartitionedTopicsSurviveKillsAndRebalancesExactlyOnce() async throws {
        let baskets = ["COUNTER_BASKETS": "1"]
        let (keys, seqs) = (2_000, 8)
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let directory = try temporaryDirectory()
        let group = uniqueName("baskets")
        var nodes = try ["a", "b"].map { try startNode($0, broker, directory: directory, group: group, environment: baskets) }
        #expect(await eventually(timeout: .seconds(90)) {
            let (a, b) = (basketShards(nodes[0].errors), basketShards(nodes[1].errors))
            return !a.isEmpty && !b.isEmpty && a.isDisjoint(with: b) && a.union(b).count == 8
        })
        let reader = try OutputReader<BasketStep>(broker, topic: "basket-steps")
        let events = NodeTests.basketEvents(keys: keys, seqs: 0..<seqs)
        var random = SeededRandom(seed: UInt64(Date().timeIntervalSince1970))
        print("basket kill test seed \(random.seed)")
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await reader.run() }
            tasks.addTask {
                for slice in stride(from: 0, to: events.count, by: 6_000) {
                    try await NodeTests.produceBaskets(broker, Array(events[slice..<min(slice + 6_000, events.count)]))
                    try await Task.sleep(for: .milliseconds(500))
                }
            }
            try await killAtRandom(
                &nodes, times: 3, minimum: 400, spread: 1_200, random: &random, broker, directory: directory, group: group, environment: baskets
            )
            try await Task.sleep(for: .seconds(2))
            nodes[0].terminate()
            #expect(await nodes[0].waitForExit() == 0, "a node leaving hands its shards off cleanly")
            #expect(await eventually(timeout: .seconds(180)) { reader.byID.count >= events.count })
            reader.consumer.triggerShutdown()
            nodes[1].terminate()
            try await tasks.waitForAll()
        }
        #expect(await nodes[1].waitForExit() == 0)
        #expect(reader.idConflicts == 0, "an id always carries the same output")
        let steps = reader.byID.values
        #expect(steps.count == events.count, "one output per event after dropping repeats by id")
        #expect(Set(steps.map { "\($0.basket)/\($0.topic)/\($0.seq)" }).count == events.count, "no event produced two different ids")
        let heard = try basketStates(directory.appendingPathComponent("data").appendingPathComponent(group))
        #expect(heard.count == keys)
        var wrong: [String] = []
        for (basket, list) in heard {
            for topic in Basket.topics where list.filter({ $0.hasPrefix("\(topic):") }) != (0..<seqs).map({ "\(topic):\($0)" }) {
                wrong.append("\(basket) \(topic)")
            }
        }
        #expect(wrong.isEmpty, "each topic's events once, in order: \(wrong.prefix(3))")
        let mismatched = steps.filter { step in heard[step.basket].map { $0.count < step.heard || $0[step.heard - 1] != "\(step.topic):\(step.seq)" } ?? true }
        #expect(mismatched.isEmpty, "each output saw exactly the events its basket holds before it: \(mismatched.prefix(3))")
        await expectNoReplayDifferences(directory, group: group, files: ["basket-items-1", "basket-items-6"], environment: baskets)
        withExtendedLifetime(broker) {}
    }

    /// The basket shards (lead partitions) a node's log says it owns.
    private func basketShards(_ log: String) -> Set<String> {
        ownedPartitions(log).filter { $0.hasPrefix("basket-items-") }
    }

    /// Every basket's heard list, from the group's partition files.
    private func basketStates(_ directory: URL) throws -> [String: [String]] {
        var heard: [String: [String]] = [:]
        for partition in 0..<8 {
            let store = try PartitionStore(readingAt: directory.appendingPathComponent("basket-items-\(partition).sqlite").path)
            defer { store.close() }
            for snapshot in try store.snapshots(entity: "Basket") {
                heard[snapshot.key] = try JSONDecoder().decode(Basket.State.self, from: Data(snapshot.state)).heard
            }
        }
        return heard
    }
}
