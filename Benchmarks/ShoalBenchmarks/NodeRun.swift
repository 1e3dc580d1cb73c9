import ArgumentParser
import Foundation
import Logging
import ShoalKafka

/// Runs the benchmark's node (`backlog-node`, a per-device count with the
/// partition store on) as its own process over records preloaded into the
/// embedded broker, sampling its progress and RSS.
enum NodeRun {
    struct Report {
        var processed = 0
        /// From the first processed record to the last.
        var seconds = 0.0
        var maxRSS = 0
        /// RSS a second after the last record (a checkpoint later).
        var settledRSS = 0
        var handOffs = 0
        /// The node's CPU time (user and system), from its start to the end
        /// of the measurement: steadier than a rate on a shared machine.
        var cpuSeconds = 0.0

        /// CPU microseconds per record processed.
        var cpuMicrosPerRecord: Double { processed > 0 ? cpuSeconds * 1e6 / Double(processed) : 0 }
    }

    /// Produces `records` readings over `keys` devices to `topic`; with
    /// `valueBytes`, each value is padded to that many bytes of JSON.
    static func preload(
        _ bootstrap: String, topic: String = "backlog", records: Int, keys: Int = 10_000, valueBytes: Int? = nil, logger: Logger
    ) async throws {
        let producer = try KafkaProducer(configuration: .init(client: .init(bootstrapServers: [bootstrap])), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await producer.run() }
            for index in 0..<records {
                let key = "device-\(index % keys)"
                try await producer.enqueue(KafkaProducerMessage(topic: topic, key: key, value: reading(index % 1000, bytes: valueBytes)))
            }
            try await producer.flush(timeout: .seconds(300))
            producer.triggerShutdown()
        }
    }

    /// `{"reading":N}`, or with `bytes`, `{"reading":N,"note":"xxx…"}` of that length.
    static func reading(_ value: Int, bytes: Int?) -> String {
        let plain = "{\"reading\":\(value)}"
        guard let bytes else { return plain }
        let padding = max(0, bytes - plain.utf8.count - 10)
        return "{\"reading\":\(value),\"note\":\"\(String(repeating: "x", count: padding))\"}"
    }

    /// Starts the node process, waits until it processed `records`, stops it.
    /// With `acknowledged` (outputs the broker holds), it also waits until
    /// that reaches `records`, and times from the first record to then.
    static func measure(
        bootstrap: String, records: Int, handlerMicros: Int, logLevel: String, extraArguments: [String] = [],
        group: String = "node-\(UUID().uuidString)", acknowledged: (@Sendable () async throws -> Int)? = nil
    ) async throws -> Report {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-node-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let node = Process()
        node.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        node.arguments = [
            "backlog-node", "--brokers", bootstrap, "--data", directory.appendingPathComponent("data").path,
            "--handler-micros", "\(handlerMicros)", "--log-level", logLevel, "--group", group,
        ] + extraArguments
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
        var outputs = acknowledged == nil ? records : 0
        while report.processed < records || outputs < records {
            if report.processed + outputs != lastProgress.count {
                lastProgress = (report.processed + outputs, .now)
            } else if ContinuousClock.now - lastProgress.at > .seconds(15) {
                throw ValidationError("the node stalled at \(report.processed) of \(records) records; its log: \(errors.path)")
            }
            try await Task.sleep(for: .milliseconds(20))
            report.maxRSS = max(report.maxRSS, residentBytes(of: node.processIdentifier))
            let lines = (try? String(contentsOf: output, encoding: .utf8))?.split(separator: "\n") ?? []
            report.processed = lines.last.flatMap { Int($0) } ?? 0
            if report.processed > 0, started == nil { started = .now }
            // Asked only once every record is processed: the queries take
            // CPU that the C pipe's run does not give up.
            if let acknowledged, report.processed >= records { outputs = try await acknowledged() }
            guard node.isRunning else { throw ValidationError("the node exited early: \(try String(contentsOf: errors, encoding: .utf8))") }
        }
        report.seconds = (ContinuousClock.now - (started ?? .now)).seconds
        report.cpuSeconds = cpuSeconds(of: node.processIdentifier)
        try await Task.sleep(for: .seconds(1))
        report.settledRSS = residentBytes(of: node.processIdentifier)
        node.terminate()
        node.waitUntilExit()
        let log = try String(contentsOf: errors, encoding: .utf8)
        report.handOffs = log.split(separator: "\n").filter { $0.contains("Shards handed off") || $0.contains("Shards lost") }.count - 1
        return report
    }

    /// User and system CPU seconds a process has used (`/proc/PID/stat`).
    static func cpuSeconds(of pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")") else { return 0 }
        // Fields after the command's closing parenthesis, from field 3 on:
        // utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// VmRSS of a process, in bytes.
    static func residentBytes(of pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        return kilobytes * 1024
    }
}
