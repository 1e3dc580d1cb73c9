import Foundation
import Shoal
import Testing
@testable import CounterApp

/// Nodes standing in for machines: each on a data directory of its own,
/// sharing nothing but Kafka.
extension NodeProcessTests {
    /// Three machines process 8 partitions while records flow, more than
    /// the embedded broker keeps (the first records fall off the input log
    /// and the changelog's). One machine is lost (SIGKILL, its directory
    /// deleted) and replaced by a node on an empty directory; at the end
    /// every node stops and a single node on a new empty directory takes
    /// every partition. Every key's state is the reference fold; the
    /// outputs, deduplicated by id, are the reference outputs.
    @Test(.timeLimit(.minutes(8)))
    func aLostMachineIsReplacedFromTheChangelog() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let group = uniqueName("machines")
        var (machines, nodes) = try await startMachines(broker, group: group)
        let reader = try TotalsReader(broker)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await reader.run() }
            // Slow enough that no node lags by more than the broker keeps of a
            // partition (~20,000 such records), even while a lost node's
            // partitions wait for the session timeout.
            tasks.addTask { try await produceInSlices(broker, pause: .milliseconds(1_200), padding: 200) }
            #expect(await eventually(timeout: .seconds(120)) { reader.byID.count >= 60_000 })
            nodes[1].kill()
            #expect(await nodes[1].waitForExit() != nil)
            try FileManager.default.removeItem(at: machines[1])
            machines[1] = try temporaryDirectory()
            nodes[1] = try startNode("b2", broker, directory: machines[1], group: group)
            await stopWhenEveryOutputArrived(reader, nodes)
            try await tasks.waitForAll()
        }
        await checkExactlyOnce(reader, nodes)
        #expect(try await inputFellOffTheLog(broker), "the input is larger than the broker keeps")
        try await checkFreshMachineRestoresEverything(broker, group: group)
    }

    /// Three machines restarted one after the other (SIGTERM, then a new
    /// process on the same directory) while records flow: exact state,
    /// nothing lost, and each restarted node found its files current.
    @Test(.timeLimit(.minutes(8)))
    func aRollingRestartOfThreeMachinesKeepsExactlyOnceState() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let group = uniqueName("rolling")
        let (machines, started) = try await startMachines(broker, group: group)
        var nodes = started
        let reader = try TotalsReader(broker)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await reader.run() }
            tasks.addTask { try await produceInSlices(broker, pause: .milliseconds(600)) }
            for index in 0..<3 {
                try await Task.sleep(for: .seconds(4))
                nodes[index].terminate()
                #expect(await nodes[index].waitForExit() == 0, "a restarted node hands off and exits cleanly")
                nodes[index] = try startNode("\(["a", "b", "c"][index])2", broker, directory: machines[index], group: group)
            }
            await stopWhenEveryOutputArrived(reader, nodes)
            try await tasks.waitForAll()
        }
        await checkExactlyOnce(reader, nodes)
        try await checkFreshMachineRestoresEverything(broker, group: group)
    }

    /// Three nodes "a", "b", "c", each on a data directory of its own,
    /// once they split the 8 partitions between them.
    func startMachines(
        _ broker: EmbeddedBroker, group: String, arguments: [String] = [], environment: [String: String] = [:]
    ) async throws -> ([URL], [ChildProcess]) {
        let machines = try (0..<3).map { _ in try temporaryDirectory() }
        let nodes = try ["a", "b", "c"].enumerated().map { index, name in
            try startNode(name, broker, directory: machines[index], group: group, environment: environment, arguments: arguments)
        }
        #expect(await awaitPartitioned(nodes))
        return (machines, nodes)
    }

    /// Waits until the nodes split the 8 partitions between them.
    func awaitPartitioned(_ nodes: [ChildProcess]) async -> Bool {
        await eventually(timeout: .seconds(90)) {
            let owned = nodes.map { ownedPartitions($0.errors) }
            return owned.allSatisfy { !$0.isEmpty } && owned.reduce(0) { $0 + $1.count } == 8
                && Set(owned.flatMap { $0 }).count == 8
        }
    }

    /// A node on a new empty directory takes every partition: it restores
    /// each from the changelog alone, and its files then hold every key's
    /// reference state.
    func checkFreshMachineRestoresEverything(_ broker: EmbeddedBroker, group: String) async throws {
        let machine = try temporaryDirectory()
        let fresh = try startNode("fresh", broker, directory: machine, group: group)
        #expect(await eventually(timeout: .seconds(90)) {
            fresh.errors.components(separatedBy: "Partition state restored").count - 1 >= 8
        }, "the fresh node restores all 8 partitions")
        #expect(!fresh.errors.contains("Cannot restore"), "every partition restores")
        fresh.terminate()
        #expect(await fresh.waitForExit() == 0)
        try await checkPersistedStates(machine)
    }

    /// Whether the input's first records are gone from the broker.
    func inputFellOffTheLog(_ broker: EmbeddedBroker) async throws -> Bool {
        let reader = try KafkaPartitionReader(client: .init(bootstrapServers: [broker.bootstrapServers]), logger: testLogger)
        return try await reader.watermarks(of: TopicPartition("counter-events", 0)).low > 0
    }
}
