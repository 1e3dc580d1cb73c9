import Foundation
import Shoal
import Testing
@testable import CounterApp

extension NodeProcessTests {
    /// Two node processes take counter events of which two thirds are in
    /// the wrong partition (unkeyed, or keyed by librdkafka's default
    /// partitioner) while one node is killed (SIGKILL) and restarted four
    /// times. Forwarding through the repartition topic is effectively
    /// once: each key is one entity in its own partition's file, with the
    /// reference count and sum, and its outputs (deduplicated by id) count
    /// 1, 2, ... up to its number of events, each once; a replay of the
    /// files with `--diff` finds nothing.
    @Test(.timeLimit(.minutes(6)))
    func misplacedRecordsAreForwardedOnceAcrossKills() async throws {
        let workload = CounterWorkload(keys: 2_000, perKey: 10)
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let directory = try temporaryDirectory()
        let group = uniqueName("forward")
        try broker.createTopic(ShoalNodeConfiguration.repartitionTopic(group: group, lead: "counter-events"), partitions: 8)
        var nodes = try startNodes(broker, directory: directory, group: group)
        #expect(await eventually(timeout: .seconds(90)) {
            // Shards list their repartition partitions too: count the leads.
            let (a, b) = (leadShards(nodes[0].errors), leadShards(nodes[1].errors))
            return !a.isEmpty && !b.isEmpty && a.isDisjoint(with: b) && a.union(b).count == 8
        })
        let reader = try TotalsReader(broker)
        var random = SeededRandom(seed: UInt64(Date().timeIntervalSince1970))
        print("forward kill test seed \(random.seed)")
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await reader.run() }
            tasks.addTask {
                for perKey in stride(from: 0, to: workload.perKey, by: 2) {
                    let slice = CounterWorkload(keys: workload.keys, perKey: perKey + 2)
                    try await NodeTests.misplacedCounterEvents(broker, slice, from: perKey)
                    try await Task.sleep(for: .milliseconds(700))
                }
            }
            try await killAtRandom(&nodes, times: 4, minimum: 500, spread: 1_500, random: &random, broker, directory: directory, group: group)
            #expect(await eventually(timeout: .seconds(240)) { reader.byID.count >= workload.keys * workload.perKey })
            reader.consumer.triggerShutdown()
            for node in nodes { node.terminate() }
            try await tasks.waitForAll()
        }
        for node in nodes { #expect(await node.waitForExit() == 0) }
        #expect(reader.idConflicts == 0)
        var counts: [String: [Int]] = [:]
        for total in reader.byID.values { counts[total.key, default: []].append(total.count) }
        let wrong = workload.expected.keys.filter { counts[$0]?.sorted() != Array(1...workload.perKey) }
        #expect(wrong.isEmpty, "each key's events applied once each: \(wrong.prefix(3).map { ($0, counts[$0]?.sorted() ?? []) })")

        let configuration = ShoalNodeConfiguration(
            brokers: [broker.bootstrapServers], group: group, dataDirectory: directory.appendingPathComponent("data").path, sessionTimeout: .seconds(6)
        )
        let states = try NodeTests.counterStates(configuration)
        let split = workload.expected.filter { key, expected in
            guard let found = states[key], found.count == 1, let state = found.first else { return true }
            return state.partition != Partitioner.murmur2.partition(for: key, partitionCount: 8)
                || state.state.count != expected.count || state.state.sum != expected.sum
        }
        #expect(split.isEmpty, "each key one entity, in its own partition, with the reference fold: \(split.keys.prefix(3))")
        // Each file interleaves its own and forwarded records: a replay repeats it.
        await expectNoReplayDifferences(directory, group: group, files: ["counter-events-1", "counter-events-6"], environment: [:])
        withExtendedLifetime(broker) {}
    }

    private func leadShards(_ log: String) -> Set<String> {
        ownedPartitions(log).filter { $0.hasPrefix("counter-events-") }
    }
}
