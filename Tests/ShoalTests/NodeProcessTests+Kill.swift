import Foundation
import Shoal
import Testing
@testable import CounterApp

extension NodeProcessTests {
    /// Two nodes share 8 partitions while records flow; one of them, chosen
    /// at random, is killed with SIGKILL and restarted, ten times. At the end
    /// every key's state is the reference fold (no event lost, none applied
    /// twice) and the outputs, deduplicated by their id header, are exactly
    /// the reference outputs.
    @Test(.timeLimit(.minutes(8)))
    func nodesKilledAtRandomKeepExactlyOnceState() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let directory = try temporaryDirectory()
        let group = uniqueName("kill")
        var nodes = try startNodes(broker, directory: directory, group: group)
        #expect(await awaitSplit(nodes))
        let reader = try TotalsReader(broker)
        var random = SeededRandom(seed: UInt64(Date().timeIntervalSince1970))
        print("kill test seed \(random.seed)")
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await reader.run() }
            tasks.addTask { try await produceInSlices(broker, pause: .milliseconds(600)) }
            try await killAtRandom(&nodes, times: 10, minimum: 300, spread: 1_500, random: &random, broker, directory: directory, group: group)
            await stopWhenEveryOutputArrived(reader, nodes)
            try await tasks.waitForAll()
        }
        await checkExactlyOnce(reader, nodes)
        try await checkPersistedStates(directory)
        withExtendedLifetime(broker) {}
    }

    /// Nodes join and leave (SIGTERM) while records flow: the partitions and
    /// their files move between them, and every key's state and outputs are
    /// still exactly the reference.
    @Test(.timeLimit(.minutes(8)))
    func nodesJoiningAndLeavingUnderLoadKeepExactlyOnceState() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let directory = try temporaryDirectory()
        let group = uniqueName("churn")
        var nodes = [try startNode("a", broker, directory: directory, group: group)]
        #expect(await eventually(timeout: .seconds(60)) { ownedPartitions(nodes[0].errors).count == 8 })
        let reader = try TotalsReader(broker)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await reader.run() }
            tasks.addTask { try await produceInSlices(broker, pause: .milliseconds(800)) }
            // b and c join; a leaves; d joins; b leaves.
            for step in ["+b", "+c", "-a", "+d", "-b"] {
                try await Task.sleep(for: .seconds(3))
                let name = String(step.dropFirst())
                if step.hasPrefix("+") {
                    nodes.append(try startNode(name, broker, directory: directory, group: group))
                } else if let leaving = nodes.firstIndex(where: { $0.errorURL.lastPathComponent == "\(name).stderr" }) {
                    nodes[leaving].terminate()
                    #expect(await nodes[leaving].waitForExit() == 0, "\(name) hands off and exits cleanly")
                    nodes.remove(at: leaving)
                }
            }
            await stopWhenEveryOutputArrived(reader, nodes)
            try await tasks.waitForAll()
        }
        await checkExactlyOnce(reader, nodes)
        try await checkPersistedStates(directory)
        withExtendedLifetime(broker) {}
    }

    /// Produces the workload in slices of 10,000 records, pausing between
    /// them, so that kills and rebalances land while records flow. A
    /// `padding` of N adds a field of N bytes to each record (the handler
    /// ignores it), to make the input outgrow what the broker keeps.
    func produceInSlices(_ broker: EmbeddedBroker, pause: Duration, padding: Int = 0) async throws {
        let pad = padding > 0 ? ",\"pad\":\"\(String(repeating: "x", count: padding))\"}" : "}"
        let messages = workload.messages.map { ($0.key, String($0.value.dropLast()) + pad) }
        for slice in stride(from: 0, to: messages.count, by: 10_000) {
            try await produce(broker, topic: "counter-events", Array(messages[slice..<min(slice + 10_000, messages.count)]))
            try await Task.sleep(for: pause)
        }
    }

    func stopWhenEveryOutputArrived(_ reader: TotalsReader, _ nodes: [ChildProcess]) async {
        #expect(await eventually(timeout: .seconds(300)) { reader.byID.count >= workload.keys * workload.perKey })
        reader.consumer.triggerShutdown()
        for node in nodes { node.terminate() }
    }

    /// The nodes exited cleanly, every key's state is the reference fold and
    /// the outputs, deduplicated by id, are the reference outputs.
    func checkExactlyOnce(_ reader: TotalsReader, _ nodes: [ChildProcess]) async {
        for node in nodes { #expect(await node.waitForExit() == 0) }
        checkFinalTotals(reader.totals)
        checkReferenceOutputs(reader)
    }

    /// Each distinct output id holds the reference total of its key and
    /// sequence, and every (key, sequence) has exactly one id.
    func checkReferenceOutputs(_ reader: TotalsReader) {
        let outputs = reader.byID
        #expect(reader.idConflicts == 0, "an id always carries the same output")
        #expect(outputs.count == workload.keys * workload.perKey, "one output per event, after dropping repeats by id")
        var wrong = 0
        var perEvent: Set<String> = []
        for total in outputs.values {
            perEvent.insert("\(total.key)/\(total.seq)")
            let index = Int(total.key.dropFirst("key-".count))!
            let sum = (0...total.seq).reduce(0) { $0 + CounterWorkload.amount(index, $1) }
            if total.count != total.seq + 1 || total.sum != sum { wrong += 1 }
        }
        #expect(wrong == 0, "every output equals the reference output of its event")
        #expect(perEvent.count == outputs.count, "no event produced two different ids")
    }
}

/// A small deterministic generator, so that a failing run's kill schedule
/// can be repeated from its printed seed.
struct SeededRandom {
    let seed: UInt64
    private var state: UInt64

    init(seed: UInt64) {
        self.seed = seed
        state = seed | 1
    }

    mutating func next(upTo bound: UInt64) -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return (state >> 33) % bound
    }
}
