import ArgumentParser
import Foundation
import Logging
import ShoalKafka

/// A node with a slow handler facing a large backlog: its memory must not
/// grow with the backlog, it must keep its partitions, and it must process
/// every record. Runs the node as its own process and samples its RSS, for
/// two backlog sizes side by side.
struct BacklogBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backlog",
        abstract: "Node RSS under a large backlog with a slow handler, next to a small backlog."
    )

    @Option(help: "Backlog sizes to compare, in records.")
    var backlogs: [Int] = [1_000_000, 2_000_000]

    @Option(help: "Partitions (the embedded broker keeps ~100,000 records and ~5 MiB each).")
    var partitions: Int32 = 64

    @Option(help: "Busy microseconds per handled record.")
    var handlerMicros: Int = 20

    @Option(help: "The node's log level.")
    var nodeLogLevel: String = "info"

    func run() async throws {
        var logger = Logger(label: "shoal.benchmarks")
        logger.logLevel = .warning
        var results: [(Int, Report)] = []
        for backlog in backlogs {
            let report = try await measure(backlog: backlog, logger: logger)
            results.append((backlog, report))
            print(String(format: "backlog %d: processed %d in %.1f s (%.0f records/s), node RSS max %.1f MiB, partitions given up %d",
                         backlog, report.processed, report.seconds, Double(report.processed) / report.seconds,
                         Double(report.maxRSS) / 1_048_576, report.handOffs))
        }
        if results.count == 2 {
            print(String(format: "RSS ratio (backlog %d / backlog %d): %.2f",
                         results[1].0, results[0].0, Double(results[1].1.maxRSS) / Double(results[0].1.maxRSS)))
        }
    }

    struct Report {
        var processed = 0
        var seconds = 0.0
        var maxRSS = 0
        var handOffs = 0
    }

    private func measure(backlog: Int, logger: Logger) async throws -> Report {
        let broker = try EmbeddedBroker(topics: [.init(name: "backlog", partitions: partitions)], logger: logger)
        try await preload(broker.bootstrapServers, records: backlog, logger: logger)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-backlog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let node = Process()
        node.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        node.arguments = ["backlog-node", "--brokers", broker.bootstrapServers, "--data", directory.appendingPathComponent("data").path, "--handler-micros", "\(handlerMicros)", "--log-level", nodeLogLevel]
        let output = directory.appendingPathComponent("node.out")
        let errors = directory.appendingPathComponent("node.err")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        node.standardOutput = try FileHandle(forWritingTo: output)
        node.standardError = try FileHandle(forWritingTo: errors)
        try node.run()
        defer { if node.isRunning { node.terminate() } }
        var report = Report()
        var started: ContinuousClock.Instant?
        var lastProgress = (count: 0, at: ContinuousClock.now)
        while report.processed < backlog {
            if report.processed != lastProgress.count {
                lastProgress = (report.processed, .now)
            } else if ContinuousClock.now - lastProgress.at > .seconds(15) {
                throw ValidationError("the node stalled at \(report.processed) of \(backlog) records; its log: \(errors.path)")
            }
            try await Task.sleep(for: .milliseconds(200))
            report.maxRSS = max(report.maxRSS, residentBytes(of: node.processIdentifier))
            let lines = (try? String(contentsOf: output, encoding: .utf8))?.split(separator: "\n") ?? []
            report.processed = lines.last.flatMap { Int($0) } ?? 0
            if report.processed > 0, started == nil { started = .now }
            guard node.isRunning else { throw ValidationError("the node exited early: \(try String(contentsOf: errors, encoding: .utf8))") }
        }
        report.seconds = (ContinuousClock.now - (started ?? .now)).seconds
        node.terminate()
        node.waitUntilExit()
        let log = try String(contentsOf: errors, encoding: .utf8)
        report.handOffs = log.split(separator: "\n").filter { $0.contains("Shards handed off") || $0.contains("Shards lost") }.count - 1
        return report
    }

    private func preload(_ bootstrap: String, records: Int, logger: Logger) async throws {
        let producer = try KafkaProducer(configuration: .init(client: .init(bootstrapServers: [bootstrap])), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await producer.run() }
            for index in 0..<records {
                let key = "device-\(index % 10_000)"
                try await producer.enqueue(KafkaProducerMessage(topic: "backlog", key: key, value: "{\"reading\":\(index % 1000)}"))
            }
            try await producer.flush(timeout: .seconds(300))
            producer.triggerShutdown()
        }
    }

    /// VmRSS of a process, in bytes.
    private func residentBytes(of pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        return kilobytes * 1024
    }
}
