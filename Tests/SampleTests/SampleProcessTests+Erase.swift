import Foundation
import SampleSupport
import Shoal
@testable import ShoalApp
import Testing
import TestSupport
@testable import FraudDetection

extension SampleProcessTests {
    /// The fraud sample on three machines with standby copies: `APP erase`
    /// erases one account of the generated load. Afterwards no file on any
    /// machine (owned partitions, standby copies, WALs, logs) and no
    /// changelog record a restore reads holds its key: the cards and IPs it
    /// paid with scrubbed it from their state and journals; every partition
    /// file still replays with `--diff` to no difference (so every other
    /// key's state and outputs are exactly what its events make); a fresh
    /// node restoring every partition finds no trace of it.
    @Test(.timeLimit(.minutes(8)))
    func erasingAnAccountOnThreeMachinesLeavesNoTraceAndReplaysStillMatch() async throws {
        let load = PaymentLoad(seed: 5, count: 4_000)
        let erased = try #require(load.records.first?.key)
        let broker = try EmbeddedBroker(
            topics: FraudDetection.topics + [.init(name: ShoalNodeConfiguration.defaultDeadLetterTopic, partitions: 1)], logger: testLogger
        )
        let group = uniqueName("fraud-erase")
        try broker.createChangelog(group: group, partitions: 8)
        let environment = [CallSecret.environmentVariable: "fraud-erase-secret-\(UUID().uuidString)"]
        let machines = try (0..<3).map { _ in try temporaryDirectory() }
        let nodes = try machines.enumerated().map { index, machine in
            try fraudNode("node-\(index)", broker, group: group, machine: machine, environment: environment, extra: [
                "--standbys", "1", "--standby-interval-ms", "300", "--listen", "127.0.0.1:0", "--metrics-port", "0",
            ])
        }
        defer { for node in nodes { node.kill() } }
        #expect(await eventually(timeout: .seconds(90)) { nodes.map { owned($0.errors).count }.reduce(0, +) == 24 && nodes.allSatisfy { !owned($0.errors).isEmpty } })
        try await LoadProducer(brokers: [broker.bootstrapServers], logger: testLogger).produce(load.records, rate: 4_000)
        // Each payment is one record for its account, one for its card, one for its IP.
        let ports = try nodes.map { try #require(metricsPort(in: $0.errors)) }
        #expect(await eventually(timeout: .seconds(90)) { await recordsIn(ports) >= Double(3 * load.records.count) }, "every stage took every payment")
        #expect(machines.contains { !filesHolding(erased, in: $0.path).isEmpty })

        let erase = try ChildProcess(
            executable: "FraudDetection",
            arguments: ["erase", "--brokers", broker.bootstrapServers, "--group", group, "--entity", "Account", "--key", erased, "--requester", "privacy-desk"],
            directory: try temporaryDirectory(), name: "erase", environment: environment
        )
        #expect(await erase.waitForExit() == 0, "erase exits cleanly: \(erase.errors)")
        #expect(await eventually(timeout: .seconds(30)) { machines.allSatisfy { filesHolding(erased, in: $0.path).isEmpty } },
                "no file holds the account: \(machines.flatMap { filesHolding(erased, in: $0.path) })")
        for partition in Int32(0)..<8 {
            let records = try await changelogFromLastImage(broker, TopicPartition(ShoalNodeConfiguration.changelogTopic(group: group), partition))
            #expect(!records.contains { $0.range(of: Data(erased.utf8)) != nil }, "changelog partition \(partition)")
        }
        // Read before the stop, whose hand-off logs them as handed off.
        let ownedAtEnd = nodes.map { owned($0.errors) }
        #expect(ownedAtEnd.map(\.count).reduce(0, +) == 24)
        for node in nodes { node.terminate() }
        for node in nodes { #expect(await node.waitForExit() == 0, "\(node.errors.suffix(1_000))") }
        for (index, machine) in machines.enumerated() {
            try await expectReplaysMatch(of: ownedAtEnd[index], in: machine.appendingPathComponent("data").appendingPathComponent(group))
        }

        let fresh = try temporaryDirectory()
        let restoring = try fraudNode("fresh", broker, group: group, machine: fresh, environment: environment, extra: [])
        #expect(await eventually(timeout: .seconds(120)) { restoring.errors.components(separatedBy: "Partition state restored").count - 1 >= 24 })
        restoring.terminate()
        #expect(await restoring.waitForExit() == 0)
        #expect(filesHolding(erased, in: fresh.path).isEmpty, "a restore brings nothing of the account back")
    }

    private func fraudNode(
        _ name: String, _ broker: EmbeddedBroker, group: String, machine: URL, environment: [String: String], extra: [String]
    ) throws -> ChildProcess {
        try ChildProcess(
            executable: "FraudDetection",
            arguments: [
                "node", "--brokers", broker.bootstrapServers, "--group", group, "--data", machine.appendingPathComponent("data").path,
                "--session-timeout-ms", "6000",
            ] + extra,
            directory: machine, name: name, environment: environment
        )
    }

    /// `replay --diff` of each partition file `owned` names, in `store`: no difference.
    private func expectReplaysMatch(of owned: Set<String>, in store: URL) async throws {
        for partition in owned.sorted() {
            let replay = try ChildProcess(
                executable: "FraudDetection", arguments: ["replay", "--journal", store.appendingPathComponent("\(partition).sqlite").path, "--diff"],
                directory: try temporaryDirectory(), name: "replay-\(partition)"
            )
            #expect(await replay.waitForExit() == 0, "\(partition): \(replay.errors.suffix(800)) \(replay.output.prefix(800))")
        }
    }

    /// Records the nodes handed to entities, by their metrics.
    private func recordsIn(_ ports: [Int]) async -> Double {
        var total = 0.0
        for port in ports {
            let response = await HTTPGet.fetch(URL(string: "http://127.0.0.1:\(port)/metrics")!)
            let text = String(decoding: response.body ?? Data(), as: UTF8.self)
            total += text.split(separator: "\n").first { $0.hasPrefix("shoal_records_in_total ") }.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
        }
        return total
    }

    /// The partitions a node process owns at the end, from its log.
    private func owned(_ log: String) -> Set<String> {
        var owned: Set<String> = []
        for line in log.split(separator: "\n") {
            guard let range = line.range(of: "partitions=[") else { continue }
            let partitions = line[range.upperBound...].prefix { $0 != "]" }.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if line.contains("Shards started") { owned.formUnion(partitions) }
            if line.contains("Shards handed off") || line.contains("Shards lost") { owned.subtract(partitions) }
        }
        return owned
    }

    private func metricsPort(in log: String) -> Int? {
        guard let line = log.split(separator: "\n").first(where: { $0.contains("Metrics endpoint listening") }),
              let start = line.range(of: "port=")?.upperBound else { return nil }
        return Int(line[start...].prefix { $0.isNumber })
    }
}
