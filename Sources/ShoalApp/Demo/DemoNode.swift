import Shoal
import Foundation

/// One node process the demo starts: the application's own executable
/// running `node`, its log in the data directory, its metrics on a port.
final class DemoNode: Sendable {
    let index: Int
    let metricsPort: Int
    let logFile: String
    private let process: Process

    init(index: Int, brokers: String, group: String, data: String, metricsPort: Int) throws {
        self.index = index
        self.metricsPort = metricsPort
        logFile = (data as NSString).appendingPathComponent("node-\(index).log")
        let process = Process()
        // The application's own executable: the demo runs its `node` command.
        process.executableURL = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = [
            "node", "--brokers", brokers, "--group", group, "--data", data, "--session-timeout-ms", "6000",
            "--metrics-port", String(metricsPort), "--log-level", "notice",
        ]
        FileManager.default.createFile(atPath: logFile, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process = process
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var metricsURL: URL { URL(string: "http://127.0.0.1:\(metricsPort)/metrics")! }
    var healthURL: URL { URL(string: "http://127.0.0.1:\(metricsPort)/health")! }

    /// Asks the node to hand off and stop (SIGTERM), as an operator would.
    func stop() {
        if process.isRunning { process.terminate() }
    }

    /// Waits for the node to exit; kills it at `deadline`. Returns how it
    /// ended: its exit status, or the signal that ended it.
    func waitForExit(until deadline: ContinuousClock.Instant) async -> String {
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        return process.terminationReason == .uncaughtSignal ? "signal \(process.terminationStatus)" : "\(process.terminationStatus)"
    }
}
