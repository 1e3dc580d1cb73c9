import Foundation
import Shoal
import Testing
@testable import CounterApp

/// Reminder events: `keys` keys, `perKey` events each one second of event
/// time apart (all keys interleaved, so every partition's watermark moves),
/// each but the last two asking for a reminder 1.5 s after it. By the last
/// events every partition's watermark is past every reminder.
struct ReminderWorkload {
    let keys: Int
    let perKey: Int
    let base: Int64 = 1_800_000_000_000

    var messages: [(key: String, value: String)] {
        var result: [(String, String)] = []
        for seq in 0..<perKey {
            for key in 0..<keys {
                let at = base + Int64(seq) * 1_000
                let remind = seq < perKey - 2 ? ",\"remindAt\":\(at + 1_500)" : ""
                result.append(("key-\(key)", "{\"key\":\"key-\(key)\",\"seq\":\(seq),\"at\":\(at)\(remind)}"))
            }
        }
        return result
    }

    var timersPerKey: Int { perKey - 2 }
}

extension NodeProcessTests {
    /// Entities set event-time timers while a node is killed (SIGKILL) and
    /// restarted five times at random points. Every timer fires exactly
    /// once: each key's state lists each of its timers once, and the
    /// firings' outputs, deduplicated by id, are one per timer.
    @Test(.timeLimit(.minutes(6)))
    func timersSetBeforeAKillFireExactlyOnceAfterTheRestart() async throws {
        let workload = ReminderWorkload(keys: 1_000, perKey: 12)
        let reminders = ["COUNTER_REMINDERS": "1"]
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let directory = try temporaryDirectory()
        let group = uniqueName("timers")
        var node = try startNode("a", broker, directory: directory, group: group, environment: reminders)
        #expect(await eventually(timeout: .seconds(60)) { ownedPartitions(node.errors).count == 24 })
        let reader = try OutputReader<ReminderFired>(broker, topic: "reminders-fired")
        var random = SeededRandom(seed: UInt64(Date().timeIntervalSince1970))
        print("timer kill test seed \(random.seed)")
        let expected = workload.keys * workload.timersPerKey
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await reader.run() }
            tasks.addTask {
                let messages = workload.messages
                for slice in stride(from: 0, to: messages.count, by: 1_000) {
                    try await produce(broker, topic: "reminders", Array(messages[slice..<min(slice + 1_000, messages.count)]))
                    try await Task.sleep(for: .milliseconds(400))
                }
            }
            for kill in 1...5 {
                try await Task.sleep(for: .milliseconds(Int64(random.next(upTo: 1_200)) + 300))
                node.kill()
                #expect(await node.waitForExit() != nil)
                node = try startNode("a\(kill)", broker, directory: directory, group: group, environment: reminders)
            }
            #expect(await eventually(timeout: .seconds(180)) { reader.byID.count >= expected })
            reader.consumer.triggerShutdown()
            node.terminate()
            try await tasks.waitForAll()
        }
        #expect(await node.waitForExit() == 0)
        let firings = reader.byID.values
        #expect(reader.idConflicts == 0, "an id always carries the same firing")
        #expect(firings.count == expected, "one output per timer after dropping repeats by id")
        #expect(Set(firings.map { "\($0.key)/\($0.name)" }).count == expected, "no timer fired under two ids")
        let states = try await runStateCommand(directory, name: "state", ["--entity", "Reminder"])
        #expect(states.count == workload.keys)
        let wrong = states.filter { line in
            let state = line["state"] as? [String: Any]
            let fired = state?["fired"] as? [String] ?? []
            return state?["events"] as? Int != workload.perKey || fired.count != workload.timersPerKey || Set(fired).count != fired.count
        }
        #expect(wrong.isEmpty, "every key applied each event once and fired each timer once: \(wrong.prefix(3))")
        // Replaying a partition's recorded journal fires the same timers
        // with the same output ids and ends in the same states.
        await expectNoReplayDifferences(directory, group: group, files: ["reminders-0", "reminders-5"], environment: reminders)
        withExtendedLifetime(broker) {}
    }
}

/// Page views: each key has three sessions of four views two seconds
/// apart, a minute apart from each other, then one more view five minutes
/// in (which moves every partition's watermark past the third session).
/// Views are produced in event-time order across keys.
struct SessionWorkload {
    let keys: Int
    let base: Int64 = 1_800_000_000_000

    var steps: [[(key: String, value: String)]] {
        var times: [Int64] = []
        for session in 0..<3 {
            for view in 0..<4 { times.append(base + Int64(session) * 60_000 + Int64(view) * 2_000) }
        }
        times.append(base + 300_000)
        return times.map { at in
            (0..<keys).map { key in ("key-\(key)", "{\"key\":\"key-\(key)\",\"at\":\(at)}") }
        }
    }

    /// The sessions every key closes.
    var expected: Set<ClosedSession> {
        Set((0..<keys).flatMap { key in
            (0..<3).map { session in
                let start = base + Int64(session) * 60_000
                return ClosedSession(key: "key-\(key)", start: start, end: start + 6_000 + 10_000, views: 4)
            }
        })
    }
}

extension NodeProcessTests {
    /// Session windows open while their partitions move: a second node joins
    /// (a rebalance), then the first leaves (SIGTERM hand-off). Every session
    /// closes once, with all its views, wherever its partition went.
    @Test(.timeLimit(.minutes(5)))
    func sessionWindowsSurviveRebalances() async throws {
        let workload = SessionWorkload(keys: 400)
        let environment = ["COUNTER_REMINDERS": "1"]
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let directory = try temporaryDirectory()
        let group = uniqueName("sessions")
        var nodes = [try startNode("a", broker, directory: directory, group: group, environment: environment)]
        #expect(await eventually(timeout: .seconds(60)) { ownedPartitions(nodes[0].errors).count == 24 })
        let reader = try OutputReader<ClosedSession>(broker, topic: "sessions-closed")
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await reader.run() }
            for (index, step) in workload.steps.enumerated() {
                try await produce(broker, topic: "visits", step)
                try await Task.sleep(for: .seconds(1))
                if index == 3 {
                    nodes.append(try startNode("b", broker, directory: directory, group: group, environment: environment))
                }
                if index == 8 {
                    let b = nodes[1]
                    #expect(await eventually(timeout: .seconds(60)) { !ownedPartitions(b.errors).isEmpty }, "b took partitions from a while sessions were open")
                    nodes[0].terminate()
                    #expect(await nodes[0].waitForExit() == 0, "a hands off and exits cleanly")
                }
            }
            #expect(await eventually(timeout: .seconds(120)) { Set(reader.byID.values).count >= workload.expected.count })
            reader.consumer.triggerShutdown()
            nodes[1].terminate()
            try await tasks.waitForAll()
        }
        #expect(await nodes[1].waitForExit() == 0)
        #expect(reader.idConflicts == 0)
        #expect(reader.byID.count == workload.expected.count, "each session emitted under one id")
        #expect(Set(reader.byID.values) == workload.expected, "every session closed with all its views")
        // Replaying the recorded partitions closes the same sessions in the
        // same timer firings (same clocks, same output ids) as the nodes did.
        await expectNoReplayDifferences(directory, group: group, files: ["visits-2", "visits-6"], environment: environment)
        withExtendedLifetime(broker) {}
    }
}

extension NodeProcessTests {
    /// `CounterApp replay --journal FILE --diff` finds nothing to report on
    /// each of the group's partition `files`.
    func expectNoReplayDifferences(_ directory: URL, group: String, files: [String], environment: [String: String]) async {
        for name in files {
            let file = directory.appendingPathComponent("data").appendingPathComponent(group).appendingPathComponent("\(name).sqlite").path
            guard let replay = try? ChildProcess(
                executable: "CounterApp", arguments: ["replay", "--journal", file, "--diff"], directory: directory,
                name: "replay-\(name)", environment: environment
            ) else {
                Issue.record("cannot start the replay of \(name)")
                continue
            }
            #expect(await replay.waitForExit() == 0, "\(name): \(replay.errors) \(replay.output.prefix(1_500))")
            #expect(replay.errors.contains("0 added, 0 removed, 0 changed; 0 states differ"), "\(name): \(replay.errors)")
        }
    }
}
