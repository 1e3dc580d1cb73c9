import Shoal
import Foundation
import Logging
import ShoalKafka
import Synchronization

/// One run of `APP demo`: the embedded broker, node processes of the
/// application, its load generator, its alerts printed, a progress line from
/// the nodes' metrics, and a summary.
struct DemoRun: Sendable {
    let nodes: Int
    let count: Int
    let rate: Int
    let seed: UInt64
    let data: String
    let metricsPort: Int
    let logger: Logger
    let console = DemoConsole()

    private struct Status {
        var produced = 0
        var producing = true
        var metrics = NodeMetricsScrape()
        var quietScrapes = 0
    }

    /// The status the producing, watching and summing-up tasks share.
    private final class SharedStatus: Sendable {
        private let status = Mutex(Status())
        func withLock<Result>(_ body: (inout Status) -> Result) -> Result { status.withLock { body(&$0) } }
    }

    func run(_ application: any ShoalApplication.Type) async throws {
        guard let load = application.load(seed: seed, count: count) else {
            throw ShoalError(code: .configuration, reason: "this application has no load generator (ShoalApplication.load(seed:count:))")
        }
        let records = Array(load)
        try prepareDataDirectory()
        let broker = try EmbeddedBroker(topics: application.deploymentTopics(group: "demo"), logger: logger)
        console.line("embedded broker at \(broker.bootstrapServers); data in \(data)")
        let interrupt = DemoInterrupt()
        interrupt.listen()
        var processes: [DemoNode] = []
        let alerts: AlertFeed
        do {
            for index in 1...nodes {
                processes.append(try DemoNode(index: index, brokers: broker.bootstrapServers, group: "demo", data: data, metricsPort: metricsPort + index - 1))
            }
            alerts = try AlertFeed(brokers: broker.bootstrapServers, topics: application.alertTopics, console: console, logger: logger)
        } catch {
            _ = await stop(processes)
            throw error
        }
        for node in processes {
            console.line("node \(node.index): pid \(node.pid), metrics at \(node.metricsURL), log in \(node.logFile)")
        }
        let start = ContinuousClock.now
        let (final, exits) = await withTaskGroup(of: Void.self) { reading -> (Status, [String]) in
            // The alert reader joins its group while the nodes settle
            // theirs, and reads on while they stop: their last commits
            // publish the last alerts.
            reading.addTask { try? await alerts.run() }
            let status = SharedStatus()
            let ending = await drive(processes, records: records, broker: broker, status: status, alerts: alerts, interrupt: interrupt, start: start)
            let final = status.withLock { $0 }
            console.endProgress()
            console.line("\(ending); stopping the nodes (they hand off and commit)")
            let exits = await stop(processes)
            try? await Task.sleep(for: .seconds(1))
            reading.cancelAll()
            return (final, exits)
        }
        summarize(final, alerts: alerts, seconds: (ContinuousClock.now - start).seconds, exits: exits, application: application)
    }

    /// Settles the group, produces, and watches until the nodes caught up,
    /// Ctrl-C, or a node exited. Returns why it ended.
    private func drive(
        _ processes: [DemoNode], records: [LoadRecord], broker: EmbeddedBroker, status: SharedStatus,
        alerts: AlertFeed, interrupt: DemoInterrupt, start: ContinuousClock.Instant
    ) async -> String {
        await withTaskGroup(of: String?.self) { group in
            group.addTask { await interrupt.wait(); return "interrupted" }
            group.addTask { await firstExit(of: processes) }
            group.addTask {
                guard let owned = await settle(processes, interrupt: interrupt) else { return nil }
                console.line("the group settled: the nodes own \(owned.map(String.init).joined(separator: " and ")) partitions; producing \(count.grouped) records at \(rate.grouped)/s")
                return await produceAndCatchUp(records, nodes: processes.count, broker: broker, status: status)
            }
            group.addTask { await watch(processes, status: status, alerts: alerts, start: start); return nil }
            var ending: String?
            while ending == nil, let next = await group.next() { ending = next }
            group.cancelAll()
            return ending ?? "stopped"
        }
    }

    /// Stops the nodes (SIGTERM: hand-off and commit) and waits for them,
    /// 30 s in all; returns how each ended.
    private func stop(_ processes: [DemoNode]) async -> [String] {
        for node in processes { node.stop() }
        let deadline = ContinuousClock.now + .seconds(30)
        var exits: [String] = []
        for node in processes { exits.append(await node.waitForExit(until: deadline)) }
        return exits
    }

    /// Returns when a node process ends on its own (a taken port, a crash).
    private func firstExit(of processes: [DemoNode]) async -> String? {
        while !Task.isCancelled {
            if let ended = processes.first(where: { !$0.isRunning }) {
                return "node \(ended.index) exited on its own (see \(ended.logFile))"
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return nil
    }

    /// Empties the data directory, but only one that holds nothing but
    /// what a demo writes: the demo must never delete what it did not write.
    private func prepareDataDirectory() throws {
        let manager = FileManager.default
        let marker = (data as NSString).appendingPathComponent(".shoal-demo")
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: data, isDirectory: &isDirectory) {
            // Only what a demo writes: its marker, the store, the node logs.
            let entries = (try? manager.contentsOfDirectory(atPath: data)) ?? []
            let demoOnly = entries.allSatisfy { $0 == ".shoal-demo" || $0 == "demo" || ($0.hasPrefix("node-") && $0.hasSuffix(".log")) }
            guard isDirectory.boolValue, demoOnly else {
                throw ShoalError(
                    code: .configuration,
                    reason: "--data \(data) exists and holds more than a demo's data; the demo empties its directory first, so name a new one"
                )
            }
            try manager.removeItem(atPath: data)
        }
        try manager.createDirectory(atPath: data, withIntermediateDirectories: true)
        _ = manager.createFile(atPath: marker, contents: Data("a Shoal demo's data: the next demo run empties this directory\n".utf8))
    }

    /// Waits until every node owns partitions and the assignment held
    /// still for two seconds (a minute at most), so that the load does not
    /// meet the group's first rebalances. Returns each node's partition
    /// count; nil on Ctrl-C.
    private func settle(_ nodes: [DemoNode], interrupt: DemoInterrupt) async -> [Int]? {
        let deadline = ContinuousClock.now + .seconds(60)
        var last: [Int] = []
        var steady = 0
        while steady < 4 {
            guard !interrupt.isInterrupted, !Task.isCancelled else { return nil }
            guard ContinuousClock.now < deadline else {
                console.line("the group did not settle within 60 s; producing anyway")
                return last
            }
            try? await Task.sleep(for: .milliseconds(500))
            var owned: [Int] = []
            for node in nodes { owned.append(await NodeMetricsScrape.ownedPartitions(node.healthURL) ?? 0) }
            steady = owned == last && !owned.contains(0) ? steady + 1 : 0
            last = owned
        }
        return last
    }

    /// Produces the load at the rate asked, then waits until the nodes have
    /// taken everything in (no lag, nothing new for three scrapes).
    private func produceAndCatchUp(_ load: [LoadRecord], nodes: Int, broker: EmbeddedBroker, status: SharedStatus) async -> String? {
        let producer = LoadProducer(brokers: [broker.bootstrapServers], logger: logger)
        do {
            let sent = try await producer.produce(load, rate: rate) { sent in status.withLock { $0.produced = sent } }
            status.withLock { $0.produced = sent; $0.producing = false }
        } catch {
            return "producing failed: \(error)"
        }
        while !Task.isCancelled {
            if status.withLock({ $0.quietScrapes >= 3 }) { return "the nodes caught up" }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return nil
    }

    /// Scrapes the nodes' metrics once a second and redraws the progress line.
    private func watch(_ nodes: [DemoNode], status: SharedStatus, alerts: AlertFeed, start: ContinuousClock.Instant) async {
        var previous = (at: ContinuousClock.now, recordsIn: 0.0)
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            var total = NodeMetricsScrape()
            for node in nodes { total = total + (await NodeMetricsScrape.read(node.metricsURL)) }
            guard total.answers > 0, !Task.isCancelled else { continue }
            let now = ContinuousClock.now
            let rate = (total.recordsIn - previous.recordsIn) / max(0.001, (now - previous.at).seconds)
            let produced = status.withLock { status in
                // Every node answered, read all, holds nothing unprocessed, and took nothing new.
                let quiet = !status.producing && total.answers == nodes.count && total.lag == 0 && total.buffered == 0
                    && total.recordsIn == status.metrics.recordsIn
                status.quietScrapes = quiet ? status.quietScrapes + 1 : 0
                status.metrics = total
                return status.produced
            }
            previous = (now, total.recordsIn)
            console.progress(String(
                format: "[%5.1f s] produced %@ · nodes in %@ (%@/s) · lag %@ · alerts %@ · resident entities %@",
                (now - start).seconds, produced.grouped, Int(total.recordsIn).grouped, Int(rate).grouped,
                Int(total.lag).grouped, alerts.count.grouped, Int(total.residentEntities).grouped
            ))
        }
    }

    /// The alerts' delays from their source record's production, as percentiles.
    static func delays(_ delays: [Int64]) -> String {
        guard !delays.isEmpty else { return "no alert delays measured" }
        let sorted = delays.sorted()
        func percentile(_ p: Double) -> Int64 { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        return "alert delay from the source event's production (timers' alerts not counted): p50 \(percentile(0.5)) ms, p99 \(percentile(0.99)) ms, max \(sorted.last!) ms"
    }

    private func summarize(
        _ status: Status, alerts: AlertFeed, seconds: Double, exits: [String], application: any ShoalApplication.Type
    ) {
        let rules = alerts.byRule.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        // As it was started (from the repository: .build/release/APP).
        let app = CommandLine.arguments[0]
        let store = (data as NSString).appendingPathComponent("demo")
        let firstFile = application.topics.first.map { "\(store)/\($0.name)-0.sqlite" } ?? store
        console.line("""
            summary: \(status.produced.grouped) records produced in \(String(format: "%.1f", seconds)) s; \
            the nodes took in \(Int(status.metrics.recordsIn).grouped) (input and regrouped records); \
            \(alerts.count.grouped) alerts\(rules.isEmpty ? "" : " (\(rules))"); \
            \(Self.delays(alerts.delays)); \
            nodes exited with \(exits.joined(separator: ", "))
            the data is left in \(data):
              \(app) state --data \(data) | head
              \(app) replay --journal \(firstFile) --diff
            """)
    }
}
