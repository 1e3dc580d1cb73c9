import Foundation
import Shoal
import Testing
@testable import CounterApp

extension NodeProcessTests {
    /// The lost machine test with `--standbys 1`: every node keeps warm
    /// copies of partitions it would inherit; when a machine is lost, the
    /// survivors restore its partitions from their copies, reading only the
    /// changelog's tail (their restore metrics say `tail`, not `full`).
    @Test(.timeLimit(.minutes(8)))
    func aLostMachineFailsOverToItsStandbys() async throws {
        let broker = try EmbeddedBroker(topics: CounterApp.topics, logger: testLogger)
        let group = uniqueName("standbys")
        let arguments = ["--standbys", "1", "--standby-interval-ms", "300", "--metrics-port", "0"]
        var (machines, nodes) = try await startMachines(broker, group: group, arguments: arguments)
        let ports = try nodes.map { try #require(metricsPort(in: $0.errors)) }
        let reader = try TotalsReader(broker)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await reader.run() }
            tasks.addTask { try await produceInSlices(broker, pause: .milliseconds(1_200), padding: 200) }
            #expect(await eventually(timeout: .seconds(120)) { reader.byID.count >= 60_000 })
            var warm: [Double] = []
            #expect(await eventually(timeout: .seconds(30)) {
                warm = await self.metric("shoal_standby_partitions", ports)
                return warm.allSatisfy { $0 > 0 }
            }, "every node keeps standby copies: \(warm)")
            let lost = ownedPartitions(nodes[1].errors)
            let survivors = [ports[0], ports[2]]
            let before = await restores(survivors)
            let logsAtKill = [nodes[0].errors, nodes[2].errors]
            nodes[1].kill()
            #expect(await nodes[1].waitForExit() != nil)
            try FileManager.default.removeItem(at: machines[1])
            var after = before
            #expect(await eventually(timeout: .seconds(60)) {
                after = await self.restores(survivors)
                return after.all - before.all >= Double(lost.count)
            }, "the survivors restore the lost machine's \(lost.count) partitions")
            #expect(after.tail - before.tail >= 1, "a survivor restored only the tail of its copy")
            // The assignor may give a partition to a survivor other than the
            // one the plan predicted: that one rebuilds it in full. A survivor
            // never rebuilds a partition it kept a copy of.
            #expect(logsAtKill.contains { !standbyCopies(in: $0).isEmpty }, "the survivors' logs name the copies they keep")
            for (index, node) in [nodes[0], nodes[2]].enumerated() {
                let copies = standbyCopies(in: logsAtKill[index])
                let rebuilt = fullRestores(in: String(node.errors.dropFirst(logsAtKill[index].count)))
                #expect(rebuilt.isDisjoint(with: copies), "survivor \(index) rebuilt \(rebuilt.sorted()) in full, holding copies of \(copies.sorted())")
            }
            if after.full != before.full { print("standby failover: \(after.full - before.full) partitions went to a survivor without their copy") }
            // The replacement machine joins once the failover is over.
            machines[1] = try temporaryDirectory()
            nodes[1] = try startNode("b2", broker, directory: machines[1], group: group, arguments: arguments)
            // Running before it is stopped: a SIGTERM before its signal
            // handling is in place would end it with the signal's status.
            #expect(await eventually(timeout: .seconds(60)) { nodes[1].errors.contains("Node starting") })
            await stopWhenEveryOutputArrived(reader, nodes)
            try await tasks.waitForAll()
        }
        await checkExactlyOnce(reader, nodes)
        // The machines hold owned files and standby copies of the same
        // partitions: `state` over all of them reads one copy of each.
        let others = machines.dropFirst().flatMap { ["--data", $0.appendingPathComponent("data").path] }
        try await checkPersistedStates(machines[0], others)
        try await checkFreshMachineRestoresEverything(broker, group: group)
    }

    /// Restores counted by the nodes' metrics, by kind and in all.
    func restores(_ ports: [Int]) async -> (tail: Double, full: Double, all: Double) {
        let tail = await metric(#"shoal_restores_total{kind="tail"}"#, ports).reduce(0, +)
        let full = await metric(#"shoal_restores_total{kind="full"}"#, ports).reduce(0, +)
        let current = await metric(#"shoal_restores_total{kind="current"}"#, ports).reduce(0, +)
        return (tail, full, tail + full + current)
    }

    /// A metric's value on each node (0 when not exported yet).
    func metric(_ name: String, _ ports: [Int]) async -> [Double] {
        var values: [Double] = []
        for port in ports {
            let text = (try? await get("http://127.0.0.1:\(port)/metrics").body) ?? ""
            values.append(metricValue(name, in: text) ?? 0)
        }
        return values
    }

    /// The partitions a node kept standby copies of, as its log last said.
    func standbyCopies(in log: String) -> Set<Int32> {
        guard let line = log.split(separator: "\n").last(where: { $0.contains("Standby copies kept") }),
              let range = line.range(of: "partitions=[") else { return [] }
        return Set(line[range.upperBound...].prefix { $0 != "]" }.split(separator: ",").compactMap {
            Int32($0.trimmingCharacters(in: .whitespaces))
        })
    }

    /// The partition numbers a node's log says it rebuilt in full.
    func fullRestores(in log: String) -> Set<Int32> {
        Set(log.split(separator: "\n").filter { $0.contains("Partition state restored") && $0.contains("kind=full") }.compactMap { line in
            guard let range = line.range(of: "partition=counter-events-") else { return nil }
            return Int32(line[range.upperBound...].prefix { $0.isNumber })
        })
    }
}
