import Foundation
import Shoal
import Synchronization
import Testing
@testable import CounterApp

extension NodeProcessTests {
    /// Three nodes on three machines serve calls for each other: a client
    /// process (this test) calls all 1,000 keys while their events flow,
    /// each node answers `GET /entities/Counter/KEY` for keys it owns and
    /// keys it does not, and one node stops and comes back meanwhile. Every
    /// reply is a state after exactly a prefix of the key's events, never
    /// older than the caller's previous reply; no call fails. At the end,
    /// `APP get` (a client process), every node's endpoint and `APP state`
    /// print the same line for a key.
    @Test(.timeLimit(.minutes(6)))
    func callsReachEveryKeyFromEveryNodeAndAClient() async throws {
        let workload = CounterWorkload(keys: 1_000, perKey: 16)
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let group = uniqueName("calls")
        let secret = "calls-test-secret-\(UUID().uuidString)"
        let environment = [CallSecret.environmentVariable: secret]
        let arguments = ["--listen", "127.0.0.1:0", "--metrics-port", "0", "--standby-interval-ms", "300"]
        var (machines, nodes) = try await startMachines(broker, group: group, arguments: arguments, environment: environment)
        var ports = try nodes.map { try #require(metricsPort(in: $0.errors)) }
        let client = try ShoalClient(
            configuration: .init(brokers: [broker.bootstrapServers], group: group, secret: try CallSecret(Array(secret.utf8)), timeout: .seconds(45)),
            topology: CounterApp.topology, logger: testLogger
        )
        let reader = try TotalsReader(broker)
        let replies = ReplyLog()
        let rebalanced = DoneFlag()
        try await client.withRunning {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await reader.run() }
                tasks.addTask { try await self.produceSequences(workload, broker, pause: .milliseconds(700)) }
                tasks.addTask {
                    try await self.callEveryKey(workload, client, log: replies) { rebalanced.isSet }
                }
                // Calls from each node: its endpoint forwards keys it does not own.
                for sample in 0..<3 {
                    try await Task.sleep(for: .seconds(1))
                    for (index, port) in ports.enumerated() {
                        for key in stride(from: sample * 7 + index, to: workload.keys, by: 37) {
                            let (body, status) = try await get("http://127.0.0.1:\(port)/entities/Counter/key-\(key)")
                            #expect(status == 200 || status == 404, "node \(index), key-\(key): \(status) \(body)")
                            if status == 200 { replies.check(try Self.total(fromLine: body), workload, caller: "node\(index)") }
                        }
                    }
                }
                // A rebalance while the client's calls run: one node hands
                // its partitions off, later a node on its machine takes some back.
                nodes[2].terminate()
                #expect(await nodes[2].waitForExit() == 0)
                try await Task.sleep(for: .seconds(2))
                nodes[2] = try startNode("c2", broker, directory: machines[2], group: group, environment: environment, arguments: arguments)
                #expect(await eventually(timeout: .seconds(60)) { self.metricsPort(in: nodes[2].errors) != nil })
                ports[2] = try #require(metricsPort(in: nodes[2].errors))
                #expect(await awaitPartitioned(nodes))
                rebalanced.set()
                #expect(await eventually(timeout: .seconds(120)) { reader.byID.count >= workload.keys * workload.perKey })
                reader.consumer.triggerShutdown()
                try await tasks.waitForAll()
            }
        }
        #expect(replies.failures.isEmpty, "every reply is a prefix of its key's events: \(replies.failures.prefix(3))")
        #expect(replies.count >= workload.keys * 3, "the client called every key, round after round: \(replies.count)")
        let served = await metric(#"shoal_calls_total{direction="in",outcome="ok"}"#, ports).reduce(0, +)
        #expect(served > 0, "the nodes served calls for the client and for each other: \(served)")
        // Once every event is in: each way of reading a key prints the same line.
        try await Task.sleep(for: .seconds(1))
        for key in ["key-0", "key-1", "key-517", "key-999"] {
            let persisted = try await runStateCommand(machines[0], name: "state-\(key)", machines.dropFirst().flatMap { ["--data", $0.appendingPathComponent("data").path] } + ["--key", key])
            let command = try ChildProcess(
                executable: "CounterApp",
                arguments: ["get", "--brokers", broker.bootstrapServers, "--group", group, "--entity", "Counter", "--key", key],
                directory: machines[0], name: "get-\(key)", environment: environment
            )
            #expect(await command.waitForExit() == 0, "get exits cleanly: \(command.errors)")
            let line = command.output.trimmingCharacters(in: .newlines)
            #expect(persisted.count == 1)
            let expected = try #require(persisted.first)
            #expect(NSDictionary(dictionary: try Self.object(line)) == NSDictionary(dictionary: expected), "get \(key): \(line)")
            for port in ports {
                let (body, status) = try await get("http://127.0.0.1:\(port)/entities/Counter/\(key)")
                #expect(status == 200 && body.trimmingCharacters(in: .newlines) == line, "port \(port): \(body)")
            }
        }
        let (missing, status) = try await get("http://127.0.0.1:\(ports[0])/entities/Counter/never-seen")
        #expect(status == 404, "a key without state: \(missing)")
        for node in nodes { node.terminate() }
        for node in nodes { #expect(await node.waitForExit() == 0) }
    }

    /// Produces the workload one sequence number at a time (every key's
    /// `seq` before any key's `seq + 1`), pausing between them.
    func produceSequences(_ workload: CounterWorkload, _ broker: EmbeddedBroker, pause: Duration) async throws {
        let messages = workload.messages
        for start in stride(from: 0, to: messages.count, by: workload.keys) {
            try await produce(broker, topic: "counter-events", Array(messages[start..<start + workload.keys]))
            try await Task.sleep(for: pause)
        }
    }

    /// Calls `total()` on every key, 64 at once, round after round until
    /// `done` (and at least three rounds).
    func callEveryKey(_ workload: CounterWorkload, _ client: ShoalClient, log: ReplyLog, done: @Sendable () -> Bool) async throws {
        var round = 0
        while round < 3 || !done() {
            round += 1
            try await withThrowingTaskGroup(of: Void.self) { calls in
                for key in 0..<workload.keys {
                    if key >= 64 { try await calls.next() }
                    calls.addTask {
                        let counter = try Counter.reference(key: "key-\(key)", in: client.actorSystem)
                        log.check(try await counter.total(), workload, caller: "client")
                    }
                }
                try await calls.waitForAll()
            }
        }
    }

    static func object(_ line: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    /// The counter total a state line shows.
    static func total(fromLine line: String) throws -> CounterTotal {
        let object = try object(line.trimmingCharacters(in: .newlines))
        let state = try #require(object["state"] as? [String: Any])
        return CounterTotal(
            key: try #require(object["key"] as? String), seq: try #require(state["lastSeq"] as? Int),
            count: try #require(state["count"] as? Int), sum: try #require(state["sum"] as? Int)
        )
    }
}

/// Replies seen per caller and key, checked as they come: a reply shows the
/// fold of exactly the key's first events, and never fewer than the same
/// caller's previous reply for the key.
final class ReplyLog: Sendable {
    private let state = Mutex<(count: Int, last: [String: Int], failures: [String])>((0, [:], []))

    var count: Int { state.withLock { $0.count } }
    var failures: [String] { state.withLock { $0.failures } }

    func check(_ total: CounterTotal, _ workload: CounterWorkload, caller: String) {
        let index = Int(total.key.dropFirst("key-".count)) ?? -1
        let prefixSum = (0..<max(0, total.seq + 1)).reduce(0) { $0 + CounterWorkload.amount(index, $1) }
        state.withLock { state in
            state.count += 1
            let previous = state.last["\(caller)/\(total.key)"] ?? -1
            if total.count != total.seq + 1 || total.sum != prefixSum || total.seq < previous {
                state.failures.append("\(caller): \(total) after seq \(previous) (prefix sum \(prefixSum))")
            }
            state.last["\(caller)/\(total.key)"] = total.seq
        }
    }
}

/// A flag one task sets and others read.
final class DoneFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
}
