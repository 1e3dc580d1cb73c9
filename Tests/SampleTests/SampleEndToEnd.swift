import Foundation
import SampleSupport
@testable import Shoal
@testable import ShoalApp
import ShoalKafka
import TestSupport
import Testing

/// A sample run for real: the embedded broker, two node processes of the
/// sample's executable, its generated load produced at a steady rate, and
/// its alert topics read as a downstream consumer would (repeats dropped by
/// output id). Afterwards the nodes stop gracefully and every partition file
/// they wrote replays with `--diff` to no difference.
struct SampleEndToEnd: Sendable {
    let executable: String
    /// The application's topics and alert topics.
    let topics: [EmbeddedBroker.Topic]
    let alertTopics: [String]
    /// The partitions of the nodes' changelog topic (as many as the inputs').
    let changelogPartitions: Int32
    let records: [LoadRecord]
    /// What must be flagged, as "rule key" of the alerts.
    let expected: Set<String>
    /// The topics read for findings (the application's alert topics by default).
    var findingTopics: [String]?
    /// The finding an output's JSON stands for, nil for one that flags
    /// nothing (by default "rule key" of every output).
    var finding: @Sendable (String) -> String? = { SampleEndToEnd.ruleAndKey($0) }
    var recordsPerSecond = 5_000
    /// Flags added to each node's command line.
    var nodeArguments: [String] = []

    /// `expected`'s findings as alerts show them: "rule key".
    init(executable: String, application: any ShoalApplication.Type, records: [LoadRecord], expected: Set<Finding>) {
        self.executable = executable
        topics = application.topics
        alertTopics = application.alertTopics
        changelogPartitions = application.changelogTopic(group: "sample").partitions
        self.records = records
        self.expected = Set(expected.map { "\($0.rule) \($0.key)" })
    }

    /// The alerts the nodes raised, as "rule key", and how many of them came
    /// twice with the same id but different content.
    struct Alerts {
        var findings: [String: Int] = [:]
        var idConflicts = 0
    }

    func run() async throws -> Alerts {
        let topics = self.topics + [.init(name: ShoalNodeConfiguration.defaultDeadLetterTopic, partitions: 1)]
        let broker = try EmbeddedBroker(topics: topics, logger: testLogger)
        let directory = try temporaryDirectory()
        let group = uniqueName("sample")
        try broker.createChangelog(group: group, partitions: changelogPartitions)
        let nodes = try (1...2).map { index in
            try ChildProcess(
                executable: executable,
                arguments: ["node", "--brokers", broker.bootstrapServers, "--group", group, "--data", directory.appendingPathComponent("data").path, "--session-timeout-ms", "6000"] + nodeArguments,
                directory: directory, name: "node-\(index)"
            )
        }
        defer { for node in nodes { node.kill() } }
        #expect(await eventually { nodes.allSatisfy { $0.errors.contains("Shards started") } }, "both nodes took partitions")
        async let alerts = readAlerts(broker)
        try await produce(broker)
        let result = try await alerts
        for node in nodes { node.terminate() }
        for node in nodes { #expect(await node.waitForExit() == 0, "\(node.errors.suffix(2_000))") }
        await expectReplaysMatch(directory.appendingPathComponent("data").appendingPathComponent(group), in: directory)
        return result
    }

    /// Produces the load at `recordsPerSecond`, as `APP produce --rate` does.
    private func produce(_ broker: EmbeddedBroker) async throws {
        try await LoadProducer(brokers: [broker.bootstrapServers], logger: testLogger).produce(records, rate: recordsPerSecond)
    }

    /// Reads the alert topics until every expected finding came, then for
    /// five more seconds, so that an alert that should not be there has
    /// time to show (three minutes at most).
    private func readAlerts(_ broker: EmbeddedBroker) async throws -> Alerts {
        let configuration = consumerConfiguration(broker, group: uniqueName("alerts"), topics: findingTopics ?? alertTopics)
        return try await withConsumer(configuration) { consumer in
            let sink = RecordSink()
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await batch in consumer.records { _ = sink.append(batch) }
                }
                group.addTask {
                    let deadline = ContinuousClock.now + .seconds(180)
                    while ContinuousClock.now < deadline, !expected.isSubset(of: alerts(sink.records).findings.keys) {
                        try? await Task.sleep(for: .milliseconds(200))
                    }
                    try? await Task.sleep(for: .seconds(5))
                }
                await group.next()
                group.cancelAll()
            }
            return alerts(sink.records)
        }
    }

    /// The alerts among `records`, repeats (same output id) dropped.
    func alerts(_ records: [KafkaRecord]) -> Alerts {
        var alerts = Alerts()
        var byID: [String: String] = [:]
        for record in records {
            let value = record.valueString ?? ""
            let id = record.headers.string(for: OutputID.header) ?? "\(record.partition)/\(record.offset)"
            if let earlier = byID[id] {
                if earlier != value { alerts.idConflicts += 1 }
                continue
            }
            byID[id] = value
            if let finding = finding(value) { alerts.findings[finding, default: 0] += 1 }
        }
        return alerts
    }

    /// "rule key" of an alert's JSON.
    static func ruleAndKey(_ json: String) -> String {
        let object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any]
        return "\(object?["rule"] as? String ?? "?") \(object?["key"] as? String ?? "?")"
    }

    /// Every partition file replays, with `--diff`, to what its node recorded.
    private func expectReplaysMatch(_ store: URL, in directory: URL) async {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: store.path)) ?? []).filter { $0.hasSuffix(".sqlite") }.sorted()
        #expect(!files.isEmpty, "no partition files in \(store.path)")
        for file in files {
            guard let replay = try? ChildProcess(
                executable: executable, arguments: ["replay", "--journal", store.appendingPathComponent(file).path, "--diff"],
                directory: directory, name: "replay-\(file)"
            ) else {
                Issue.record("cannot start the replay of \(file)")
                continue
            }
            #expect(await replay.waitForExit() == 0, "\(file): \(replay.errors.suffix(1_000)) \(replay.output.prefix(1_000))")
        }
    }
}
