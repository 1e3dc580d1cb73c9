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
        try? FileManager.default.removeItem(atPath: data)
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let broker = try EmbeddedBroker(topics: topics(of: application), logger: logger)
        console.line("embedded broker at \(broker.bootstrapServers); data in \(data)")
        let processes = try (0..<nodes).map { index in
            try DemoNode(index: index + 1, brokers: broker.bootstrapServers, group: "demo", data: data, metricsPort: metricsPort + index)
        }
        for node in processes {
            console.line("node \(node.index): pid \(node.pid), metrics at \(node.metricsURL), log in \(node.logFile)")
        }
        let alerts = try AlertFeed(brokers: broker.bootstrapServers, topics: application.alertTopics, console: console, logger: logger)
        let interrupt = DemoInterrupt()
        interrupt.listen()
        let status = SharedStatus()
        let start = ContinuousClock.now
        let ending = await withTaskGroup(of: String?.self) { group in
            // The alert reader joins its group while the nodes settle theirs.
            group.addTask { try? await alerts.run(); return nil }
            let owned = await settle(processes)
            console.line("the group settled: the nodes own \(owned.map(String.init).joined(separator: " and ")) partitions; producing \(count.grouped) records at \(rate.grouped)/s")
            group.addTask { await watch(processes, status: status, alerts: alerts, start: start); return nil }
            group.addTask { await interrupt.wait(); return "interrupted" }
            group.addTask { await produceAndCatchUp(records, broker: broker, status: status) }
            var ending: String?
            while ending == nil, let next = await group.next() { ending = next }
            group.cancelAll()
            return ending ?? "stopped"
        }
        let final = status.withLock { $0 }
        console.endProgress()
        console.line("\(ending); stopping the nodes (they hand off and commit)")
        for node in processes { node.stop() }
        var exits: [Int32] = []
        for node in processes { exits.append(await node.waitForExit()) }
        summarize(final, alerts: alerts, seconds: (ContinuousClock.now - start).seconds, exits: exits, application: application)
    }

    /// Waits until every node owns partitions and the assignment held
    /// still for two seconds (a minute at most), so that the load does not
    /// meet the group's first rebalances. Returns each node's partition count.
    private func settle(_ nodes: [DemoNode]) async -> [Int] {
        let deadline = ContinuousClock.now + .seconds(60)
        var last: [Int] = []
        var steady = 0
        while ContinuousClock.now < deadline && steady < 4 {
            try? await Task.sleep(for: .milliseconds(500))
            var owned: [Int] = []
            for node in nodes { owned.append(await NodeMetricsScrape.ownedPartitions(node.healthURL) ?? 0) }
            steady = owned == last && !owned.contains(0) ? steady + 1 : 0
            last = owned
        }
        return last
    }

    private func topics(of application: any ShoalApplication.Type) -> [EmbeddedBroker.Topic] {
        var topics = application.topics
        if !topics.contains(where: { $0.name == ShoalNodeConfiguration.defaultDeadLetterTopic }) {
            topics.append(.init(name: ShoalNodeConfiguration.defaultDeadLetterTopic, partitions: 1))
        }
        return topics
    }

    /// Produces the load at the rate asked, then waits until the nodes have
    /// taken everything in (no lag, nothing new for three scrapes).
    private func produceAndCatchUp(_ load: [LoadRecord], broker: EmbeddedBroker, status: SharedStatus) async -> String? {
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
            guard total.answered, !Task.isCancelled else { continue }
            let now = ContinuousClock.now
            let rate = (total.recordsIn - previous.recordsIn) / max(0.001, (now - previous.at).seconds)
            let produced = status.withLock { status in
                let quiet = !status.producing && total.answered && total.lag == 0 && total.recordsIn == status.metrics.recordsIn
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
        return "alert delay from the event's production: p50 \(percentile(0.5)) ms, p99 \(percentile(0.99)) ms, max \(sorted.last!) ms"
    }

    private func summarize(
        _ status: Status, alerts: AlertFeed, seconds: Double, exits: [Int32], application: any ShoalApplication.Type
    ) {
        let rules = alerts.byRule.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let app = URL(fileURLWithPath: CommandLine.arguments[0]).lastPathComponent
        let store = (data as NSString).appendingPathComponent("demo")
        let firstFile = application.topics.first.map { "\(store)/\($0.name)-0.sqlite" } ?? store
        console.line("""
            summary: \(status.produced.grouped) records produced in \(String(format: "%.1f", seconds)) s; \
            the nodes took in \(Int(status.metrics.recordsIn).grouped) (input and regrouped records); \
            \(alerts.count.grouped) alerts\(rules.isEmpty ? "" : " (\(rules))"); \
            \(Self.delays(alerts.delays)); \
            nodes exited with \(exits.map(String.init).joined(separator: ", "))
            the data is left in \(data):
              \(app) state --data \(data) | head
              \(app) replay --journal \(firstFile) --diff
            """)
    }
}
