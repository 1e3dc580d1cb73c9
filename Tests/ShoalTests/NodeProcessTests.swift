import Foundation
import Shoal
import Synchronization
import Testing
@testable import CounterApp

/// Reads an output topic in the background, as a downstream consumer
/// would: every output, and the outputs by their `shoal-id` header.
final class OutputReader<Value: Decodable & Equatable & Sendable>: Sendable {
    private struct Seen {
        var values: [Value] = []
        /// Outputs by id, and how many ids came with two contents.
        var byID: [String: Value] = [:]
        var idConflicts = 0
        /// Output records by position, so that this reader's own re-reads
        /// (after a rebalance of its group) are not counted twice.
        var positions: Set<String> = []
    }

    private let seen = Mutex(Seen())
    let consumer: KafkaConsumer

    init(_ broker: EmbeddedBroker, topic: String) throws {
        consumer = try KafkaConsumer(
            configuration: .init(
                client: .init(bootstrapServers: [broker.bootstrapServers]), groupID: uniqueName("reader"),
                topics: [topic], sessionTimeout: .seconds(10), heartbeatInterval: .milliseconds(500)
            ),
            logger: testLogger
        )
    }

    func run() async throws {
        async let reading: Void = consumer.run()
        let decoder = JSONDecoder()
        for await batch in consumer.records {
            seen.withLock { seen in
                for record in batch where seen.positions.insert("\(record.partition)/\(record.offset)").inserted {
                    guard let value = try? decoder.decode(Value.self, from: Data(record.value!.array)) else { continue }
                    seen.values.append(value)
                    if let id = record.headers.string(for: "shoal-id") {
                        if let earlier = seen.byID[id], earlier != value { seen.idConflicts += 1 }
                        seen.byID[id] = value
                    }
                }
            }
        }
        try await reading
    }

    var values: [Value] { seen.withLock { $0.values } }
    var byID: [String: Value] { seen.withLock { $0.byID } }
    var idConflicts: Int { seen.withLock { $0.idConflicts } }
}

/// Reads counter totals.
typealias TotalsReader = OutputReader<CounterTotal>

extension OutputReader where Value == CounterTotal {
    convenience init(_ broker: EmbeddedBroker) throws {
        try self.init(broker, topic: "counter-totals")
    }

    var totals: [CounterTotal] { values }
    /// Events with at least one output.
    var distinctCount: Int { Set(values.map { "\($0.key)/\($0.seq)" }).count }
}

/// Which partitions a node process owns, from its log.
func ownedPartitions(_ log: String) -> Set<String> {
    var owned: Set<String> = []
    for line in log.split(separator: "\n") {
        guard let range = line.range(of: "partitions=[") else { continue }
        let list = line[range.upperBound...].prefix { $0 != "]" }
        let partitions = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if line.contains("Shards started") { owned.formUnion(partitions) }
        if line.contains("Shards handed off") || line.contains("Shards lost") { owned.subtract(partitions) }
    }
    return owned
}

@Suite("Node processes", .serialized)
struct NodeProcessTests {
    let workload = CounterWorkload(keys: 10_000, perKey: 20)

    func startNodes(_ broker: EmbeddedBroker, directory: URL, group: String) throws -> [ChildProcess] {
        try ["a", "b"].map { try startNode($0, broker, directory: directory, group: group) }
    }

    func startNode(
        _ name: String, _ broker: EmbeddedBroker, directory: URL, group: String, environment: [String: String] = [:],
        arguments extra: [String] = []
    ) throws -> ChildProcess {
        // Once per group; later nodes of the group find it there.
        try? broker.createChangelog(group: group, partitions: 8)
        return try ChildProcess(
            executable: "CounterApp",
            arguments: [
                "node", "--brokers", broker.bootstrapServers, "--group", group,
                // One machine, one data directory: a partition's file moves with it.
                "--data", directory.appendingPathComponent("data").path, "--session-timeout-ms", "6000",
            ] + extra + (ProcessInfo.processInfo.environment["SHOAL_NODE_ARGS"]?.split(separator: " ").map(String.init) ?? []),
            directory: directory, name: name, environment: environment
        )
    }

    /// Kills one of the two `nodes`, chosen by `random`, `times` times, each
    /// after a pause of `minimum` plus up to `spread` ms, and starts it again
    /// (`a1`, `b2`, ...) with `environment`.
    func killAtRandom(
        _ nodes: inout [ChildProcess], times: Int, minimum: Int64, spread: UInt64, random: inout SeededRandom,
        _ broker: EmbeddedBroker, directory: URL, group: String, environment: [String: String] = [:]
    ) async throws {
        for kill in 1...times {
            try await Task.sleep(for: .milliseconds(Int64(random.next(upTo: spread)) + minimum))
            let victim = Int(random.next(upTo: 2))
            nodes[victim].kill()
            #expect(await nodes[victim].waitForExit() != nil)
            nodes[victim] = try startNode("\(victim == 0 ? "a" : "b")\(kill)", broker, directory: directory, group: group, environment: environment)
        }
    }

    /// Waits until the two nodes split the 8 partitions between them.
    func awaitSplit(_ nodes: [ChildProcess]) async -> Bool {
        await eventually(timeout: .seconds(90)) {
            let a = ownedPartitions(nodes[0].errors)
            let b = ownedPartitions(nodes[1].errors)
            return !a.isEmpty && !b.isEmpty && a.isDisjoint(with: b) && a.union(b).count == 8
        }
    }

    /// Starts two nodes, waits until they split the partitions, produces the
    /// workload and runs `during` while a reader collects the totals.
    func runWorkload(
        group: String, during: ([ChildProcess], TotalsReader) async throws -> Void
    ) async throws -> (EmbeddedBroker, [ChildProcess], TotalsReader) {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let directory = try temporaryDirectory()
        let nodes = try startNodes(broker, directory: directory, group: uniqueName(group))
        #expect(await awaitSplit(nodes))
        let reader = try TotalsReader(broker)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await reader.run() }
            try await produce(broker, topic: "counter-events", workload.messages)
            try await during(nodes, reader)
            reader.consumer.triggerShutdown()
            try await tasks.waitForAll()
        }
        return (broker, nodes, reader)
    }

    /// `CounterApp state --data DIR ARGS`: its JSON lines.
    func runStateCommand(_ directory: URL, name: String, _ arguments: [String] = []) async throws -> [[String: Any]] {
        let command = try ChildProcess(
            executable: "CounterApp", arguments: ["state", "--data", directory.appendingPathComponent("data").path] + arguments,
            directory: directory, name: name
        )
        #expect(await command.waitForExit() == 0, "state exits cleanly: \(command.errors)")
        return try command.output.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
    }

    /// The persisted states, as the state command prints them, are the
    /// reference fold, one line per key, sorted.
    func checkPersistedStates(_ directory: URL, _ arguments: [String] = []) async throws {
        let lines = try await runStateCommand(directory, name: "state", arguments)
        #expect(lines.count == workload.keys)
        let keys = lines.compactMap { $0["key"] as? String }
        #expect(keys == keys.sorted(), "sorted by key")
        let reference = workload.expected
        let wrong = lines.filter { line in
            guard let key = line["key"] as? String, let state = line["state"] as? [String: Any],
                  let expected = reference[key] else { return true }
            return line["entity"] as? String != "Counter" || state["count"] as? Int != expected.count
                || state["sum"] as? Int != expected.sum
        }
        #expect(wrong.isEmpty, "every persisted state is the reference fold: \(wrong.prefix(3))")
    }

    /// Every key's total after its last event equals the reference fold.
    func checkFinalTotals(_ totals: [CounterTotal]) {
        var last: [String: CounterTotal] = [:]
        for total in totals where total.seq >= (last[total.key]?.seq ?? -1) { last[total.key] = total }
        let mismatched = workload.expected.filter { key, expected in
            last[key]?.count != expected.count || last[key]?.sum != expected.sum
        }
        #expect(mismatched.isEmpty, "every key's count and sum equal the reference fold: \(mismatched.count) keys differ")
    }

    /// Every key's totals, first occurrences only, come in produced order.
    func checkOrder(_ totals: [CounterTotal]) {
        var next: [String: Int] = [:]
        var violations = 0
        for total in totals {
            let expected = next[total.key, default: 0]
            if total.seq == expected { next[total.key] = expected + 1 } else if total.seq > expected { violations += 1 }
        }
        #expect(violations == 0, "no key skipped ahead of its produced order")
        #expect(next.count == workload.keys)
        #expect(next.values.allSatisfy { $0 == workload.perKey }, "every key's events were all handled")
    }

    @Test(.timeLimit(.minutes(6)))
    func twoNodesFoldEveryKeyExactly() async throws {
        let (broker, nodes, reader) = try await runWorkload(group: "fold") { _, reader in
            #expect(await eventually(timeout: .seconds(240)) { reader.distinctCount >= 200_000 })
        }
        let totals = reader.totals
        #expect(totals.count == 200_000, "no rebalance, so exactly one total per event")
        checkOrder(totals)
        checkFinalTotals(totals)
        let directory = nodes[0].outputURL.deletingLastPathComponent()
        let whileRunning = try await runStateCommand(directory, name: "state-live", ["--key", "key-7"])
        #expect(whileRunning.count == 1, "the state command reads while nodes run")
        for node in nodes { node.terminate() }
        for node in nodes { #expect(await node.waitForExit() == 0) }
        try await checkPersistedStates(directory)
        withExtendedLifetime(broker) {}  // the nodes leave the group through it
    }

    @Test(.timeLimit(.minutes(6)), arguments: ["SIGTERM", "SIGKILL"])
    func aNodeStoppedHalfWayLosesNoKeysEvents(signal: String) async throws {
        let (broker, nodes, reader) = try await runWorkload(group: "stop") { nodes, reader in
            #expect(await eventually(timeout: .seconds(120)) { reader.distinctCount >= 60_000 })
            if signal == "SIGTERM" { nodes[0].terminate() } else { nodes[0].kill() }
            let status = await nodes[0].waitForExit()
            if signal == "SIGTERM" { #expect(status == 0, "a stopped node hands off and exits cleanly") }
            #expect(await eventually(timeout: .seconds(240)) { reader.distinctCount >= 200_000 })
        }
        #expect(reader.distinctCount == 200_000, "every event of every key was handled")
        // Outputs may repeat (a killed node's undelivered outbox is sent
        // again), but the state is exactly-once: every key's final total is
        // the reference fold, each event counted once.
        print("\(signal): \(reader.totals.count - 200_000) outputs repeated")
        checkOrder(reader.totals)
        checkFinalTotals(reader.totals)
        nodes[1].terminate()
        #expect(await nodes[1].waitForExit() == 0)
        withExtendedLifetime(broker) {}  // the survivor leaves the group through it
    }
}
