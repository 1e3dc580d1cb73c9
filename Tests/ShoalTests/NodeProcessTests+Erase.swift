import Foundation
import Shoal
import Testing
@testable import CounterApp

extension NodeProcessTests {
    /// Three machines with standby copies; `APP erase` erases one key
    /// while events for the other keys flow. Afterwards no file on any
    /// machine (owned partitions, standby copies, their WALs) and no
    /// changelog record a restore reads holds the key's bytes; the audit
    /// line names the requester and not the key; a fresh node restoring
    /// every partition has no trace of it; every other key is exact.
    @Test(.timeLimit(.minutes(6)))
    func anErasedKeyIsGoneFromEveryMachineTheChangelogAndARestore() async throws {
        let workload = CounterWorkload(keys: 300, perKey: 10)
        let erased = "erase-me-42"
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let group = uniqueName("erase")
        let environment = [CallSecret.environmentVariable: "erase-test-secret-\(UUID().uuidString)"]
        // A copy the standby plan drops (a node's announcement late under
        // load makes it change) folds no erase: it goes as stale instead.
        let arguments = [
            "--standbys", "1", "--standby-interval-ms", "300", "--listen", "127.0.0.1:0", "--metrics-port", "0", "--stale-file-delay-seconds", "2",
        ]
        let (machines, nodes) = try await startMachines(broker, group: group, arguments: arguments, environment: environment)
        let ports = try nodes.map { try #require(metricsPort(in: $0.errors)) }
        let messages = workload.messages
        let half = messages.count / 2
        let erasedEvents = (0..<5).map { (erased, "{\"key\":\"\(erased)\",\"seq\":\($0),\"amount\":3}") }
        let reader = try TotalsReader(broker)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await reader.run() }
            try await produce(broker, topic: "counter-events", Array(messages[..<half]) + erasedEvents)
            #expect(await eventually(timeout: .seconds(60)) { reader.byID.count >= half + erasedEvents.count })
            #expect(await eventually(timeout: .seconds(30)) {
                machines.filter { !filesHolding(erased, in: $0.path).isEmpty }.count >= 2
            }, "the owner's file and a standby copy hold the key before")
            // The other keys' events flow while the erase runs.
            tasks.addTask {
                for slice in stride(from: half, to: messages.count, by: 150) {
                    try await produce(broker, topic: "counter-events", Array(messages[slice..<min(slice + 150, messages.count)]))
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            let erase = try ChildProcess(
                executable: "CounterApp",
                arguments: [
                    "erase", "--brokers", broker.bootstrapServers, "--group", group, "--entity", "Counter", "--key", erased,
                    "--requester", "privacy-desk",
                ],
                // Not a machine's directory: those are scanned, logs included.
                directory: try temporaryDirectory(), name: "erase", environment: environment
            )
            #expect(await erase.waitForExit() == 0, "erase exits cleanly: \(erase.errors)")
            #expect(erase.output.contains("\"erased\""), "\(erase.output)")
            #expect(await eventually(timeout: .seconds(60)) { reader.byID.count >= messages.count + erasedEvents.count })
            reader.consumer.triggerShutdown()
            try await tasks.waitForAll()
        }
        let audit = nodes.flatMap { $0.errors.split(separator: "\n") }.filter { $0.contains("Erased an entity") }
        #expect(audit.count == 1 && audit.allSatisfy { $0.contains("requester=privacy-desk") && !$0.contains(erased) }, "\(audit)")
        // Standby copies purge the key when they fold the erase; copies
        // no longer followed go after their 2 s.
        #expect(await eventually(timeout: .seconds(30)) {
            machines.allSatisfy { filesHolding(erased, in: $0.path).isEmpty }
        }, "no file holds the key: \(machines.flatMap { filesHolding(erased, in: $0.path) }); \(Self.purgeLines(nodes))")
        let changelog = ShoalNodeConfiguration.changelogTopic(group: group)
        for partition in Int32(0)..<8 {
            let records = try await changelogFromLastImage(broker, TopicPartition(changelog, partition))
            #expect(!records.contains { $0.range(of: Data(erased.utf8)) != nil }, "changelog partition \(partition)")
        }
        let copies = await metric("shoal_standby_partitions", ports)
        #expect(copies.allSatisfy { $0 > 0 }, "every node kept standby copies: \(copies)")
        for node in nodes { node.terminate() }
        for node in nodes { #expect(await node.waitForExit() == 0) }
        let others = machines.dropFirst().flatMap { ["--data", $0.appendingPathComponent("data").path] }
        try await checkStates(machines[0], others, workload)

        let fresh = try temporaryDirectory()
        let restoring = try startNode("fresh", broker, directory: fresh, group: group)
        #expect(await eventually(timeout: .seconds(90)) {
            restoring.errors.components(separatedBy: "Partition state restored").count - 1 >= 8
        }, "the fresh node restores all 8 partitions")
        restoring.terminate()
        #expect(await restoring.waitForExit() == 0)
        #expect(filesHolding(erased, in: fresh.path).isEmpty, "a restore brings nothing of the key back")
        try await checkStates(fresh, [], workload)
    }

    /// `APP state` over the directories prints each key of `workload` once,
    /// with its reference fold, and no other key.
    func checkStates(_ directory: URL, _ arguments: [String], _ workload: CounterWorkload) async throws {
        let lines = try await runStateCommand(directory, name: "state", arguments)
        let reference = workload.expected
        #expect(lines.count == workload.keys)
        let wrong = lines.filter { line in
            guard let key = line["key"] as? String, let state = line["state"] as? [String: Any], let expected = reference[key] else { return true }
            return state["count"] as? Int != expected.count || state["sum"] as? Int != expected.sum
        }
        #expect(wrong.isEmpty, "every state is the reference fold: \(wrong.prefix(3))")
    }

    /// The nodes' log lines about purges and standby copies: what a file
    /// still holding an erased key's bytes is explained by.
    static func purgeLines(_ nodes: [ChildProcess]) -> [Substring] {
        nodes.flatMap { $0.errors.split(separator: "\n") }.filter { ["purge", "tandby", "locked", "stale", "no process"].contains(where: $0.contains) }
    }
}
